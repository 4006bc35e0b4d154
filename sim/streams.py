"""Per-decision random streams (common random numbers).

Each decision ("purchase", "post", "witness", ...) draws from its own generator, derived from
the run's seed and the decision's name alone. A policy that answers more posts then draws more
numbers for replies, but purchases, accidents and offers see exactly the same dice, so policy
comparisons measure the policy and not the luck.
"""

from __future__ import annotations

import zlib

import numpy as np


def seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (int, np.integer)) and seed >= 0:
        return np.random.SeedSequence(int(seed))
    raise ValueError(f"seed must be a non-negative integer or a SeedSequence (got {seed!r})")


class Streams:
    def __init__(self, seed: int | np.random.SeedSequence):
        self.root = seed_sequence(seed)
        self._generators: dict[str, np.random.Generator] = {}

    def __call__(self, decision: str) -> np.random.Generator:
        gen = self._generators.get(decision)
        if gen is None:
            key = zlib.crc32(decision.encode())
            seq = np.random.SeedSequence(self.root.entropy, spawn_key=(*self.root.spawn_key, key))
            gen = self._generators[decision] = np.random.Generator(np.random.PCG64(seq))
        return gen


def bernoulli_candidates(rng: np.random.Generator, n: int, p_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``range(n)`` (ascending) that pass a Bernoulli(p_max) trial, and one uniform
    each for thinning them to their own p_i <= p_max (accept when ``u < p_i / p_max``).

    Equivalent to one Bernoulli(p_i) trial per position, at a cost that grows with the number
    of events rather than with n: successes are found by geometric jumps."""
    if n <= 0 or p_max <= 0:
        return np.empty(0, np.int64), np.empty(0)
    if p_max >= 1:
        return np.arange(n), rng.random(n)
    expected = n * p_max
    chunk = int(expected + 6 * np.sqrt(expected) + 16)
    parts, last = [], -1
    while last < n - 1:
        pos = last + np.cumsum(rng.geometric(p_max, size=chunk))
        parts.append(pos)
        last = int(pos[-1])
    idx = np.concatenate(parts)
    idx = idx[idx < n]
    return idx, rng.random(idx.size)
