"""Venue membership as one bitmask per person, and tallying a venue's sightings.

The Mesa engine keeps each person's venues as an ascending tuple and picks
``venues[int(u * len(venues))]``; with a bitmask that is "the k-th set bit", computed for the
few people who post or report on a day, with a loop over venues rather than over people.
"""

from __future__ import annotations

import numpy as np


def mask_dtype(nv: int):
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if nv <= np.dtype(dt).itemsize * 8:
            return dt
    raise ValueError(f"at most 64 venues are supported (got {nv})")


def membership_mask(n: int, members: list[np.ndarray]) -> np.ndarray:
    dt = mask_dtype(len(members))
    mask = np.zeros(n, dt)
    for v, who in enumerate(members):
        mask[who] |= dt(1 << v)
    return mask


def venue_count(mask: np.ndarray, nv: int) -> np.ndarray:
    count = np.zeros(mask.shape, np.int64)
    for v in range(nv):
        count += (mask >> v) & 1
    return count


def kth_venue(mask: np.ndarray, k: np.ndarray, nv: int) -> np.ndarray:
    """Index of the k-th (from 0) venue in each mask; -1 where there is none."""
    out = np.full(mask.shape, -1, np.int64)
    seen = np.zeros(mask.shape, np.int64)
    for v in range(nv):
        bit = ((mask >> v) & 1).astype(bool)
        out[bit & (seen == k) & (out < 0)] = v
        seen += bit
    return out


class Tally:
    """Who among a venue's members saw how many threads of each kind. A "member" here may be
    any index below ``size``: the witnessing phase tallies keys ``member * businesses + j``.

    A kind's sightings come either as member indices drawn one per sighting (``picks``), or,
    when there are many more sightings than members, as one count per member (``dense``).
    Few picks in a big venue are sorted; otherwise they are marked in scratch arrays the size
    of the largest venue (allocated once), a pass over the venue but no sort."""

    def __init__(self, largest: int):
        self.mark = np.zeros(largest, bool)
        self.slot = np.zeros(largest, np.int32 if largest < 2**31 else np.int64)

    def __call__(self, picks: dict[str, np.ndarray], dense: dict[str, np.ndarray],
                 size: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Distinct member indices that saw anything (ascending) and, per kind, how many
        threads of it each of them saw."""
        total = sum(p.size for p in picks.values())
        if not dense and total * 16 < size:
            seen = np.unique(np.concatenate(list(picks.values())))
            return seen, {k: np.bincount(np.searchsorted(seen, p), minlength=seen.size) for k, p in picks.items()}
        mark = self.mark[:size]
        for c in dense.values():
            mark |= c > 0
        for p in picks.values():
            mark[p] = True
        seen = np.flatnonzero(mark)
        mark[seen] = False
        self.slot[seen] = np.arange(seen.size)
        counts = {k: np.bincount(self.slot[p], minlength=seen.size) for k, p in picks.items()}
        for k, c in dense.items():
            counts[k] = counts[k] + c[seen] if k in counts else c[seen]
        return seen, counts
