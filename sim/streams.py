"""Per-decision random streams (common random numbers).

Each decision ("purchase", "post", "witness", ...) draws from its own generator, derived from
the run's seed and the decision's name alone. A policy that answers more posts then draws more
numbers for replies, but purchases, accidents and offers see exactly the same dice, so policy
comparisons measure the policy and not the luck.

Both engines draw the same numbers in the same order from these streams: the Mesa engine with
numpy, the compiled engine with the same generators inside numba (which reproduces numpy's
uniform, Poisson, binomial and geometric draws bit for bit), so at small N they agree exactly.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np

from .schedule import WITNESS_STREAMS

# Decisions with one stream each, in the order the compiled engine receives them (witnessing has
# WITNESS_STREAMS, one per chunk of a venue's blocks); after them come two per business:
# "respond.order.J" and "respond.outcome.J".
DECISIONS = ("redeem", "purchase", "accident", "post", "wom", "forget", "offer", "purchase.who", "offer.who",
             *(f"witness.{c}" for c in range(WITNESS_STREAMS)))


def seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(int(seed))
    raise ValueError(f"seed must be a non-negative integer or a SeedSequence (got {seed!r})")


def resolve_seed(seed) -> np.random.SeedSequence:
    """A run's root: an int or SeedSequence as given; a Generator gives one draw; None fresh entropy."""
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    return seed_sequence(seed)


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

    def for_run(self, n_businesses: int) -> tuple[np.random.Generator, ...]:
        """Every stream a day draws from, in the order of DECISIONS and then per business."""
        respond = [self(f"respond.{what}.{j}") for j in range(n_businesses) for what in ("order", "outcome")]
        return tuple(self(d) for d in DECISIONS) + tuple(respond)


def candidates(rng: np.random.Generator, n: int, p: float) -> Iterator[int]:
    """Positions in ``range(n)``, ascending, that pass a Bernoulli(p) trial, found by geometric
    jumps so the cost grows with the number of events rather than with n. Callers thin them to
    each position's own chance (at most ``p``) with one more uniform."""
    if p <= 0.0:
        return
    pos = -1
    while True:
        pos += int(rng.geometric(p))
        if pos >= n:
            return
        yield pos
