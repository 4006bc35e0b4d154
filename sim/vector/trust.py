"""Trust of every (person, business), decayed lazily.

Decaying the whole matrix every day is the engine's largest O(N) cost (rules.decay over 10M x 2
values takes ~0.6 s a day here). Instead each value is stored as of the day it was last written,
and brought up to date with ``rules.decay(value, baseline, now - last, m)`` when it is read.

The daily means the accounts need are kept without touching every value: decay is affine,
``b + (v - b) * 2**(-(now - last) / h)``, with ``h`` fixed by the side of the baseline ``v`` is on
(decay never crosses it). So per group, the sum of deviations from the baseline is
``2**(-(now - ref) / h) * sum((v - b) * 2**((last - ref) / h))``, and the inner sum changes only
when a value is written or a person changes group. ``ref`` is moved forward now and then so the
powers stay in floating-point range.
"""

from __future__ import annotations

import numpy as np

from .. import rules

# Groups whose mean trust the accounts need: engaged, observers, customers of that business.
ENGAGED, OBSERVERS, CUSTOMERS = 0, 1, 2
_GROUPS = 3
_CHUNK = 1 << 20  # rows per pass when summing the whole matrix, to bound temporaries


class LazyTrust:
    def __init__(self, value: np.ndarray, baseline: float, m, n_engaged: int, supplier: np.ndarray, horizon: int):
        self.value = value  # float64 (people, businesses): trust as of day ``last``
        self.last = np.zeros(value.shape, np.uint16)  # scenario.steps <= 36500 fits
        self._value, self._last = self.value.reshape(-1), self.last.reshape(-1)  # flat views
        self.now = 0  # days of decay that have happened
        self.ref = 0
        self.b, self.m = float(baseline), m
        self.h = np.array([m.trust_halflife, m.distrust_halflife], float)  # above / below baseline
        self.n_engaged = n_engaged
        self.supplier = supplier  # shared with the state: decides the customer group
        self.nb = value.shape[1]
        self.sums = np.zeros((2, _GROUPS, self.nb))  # (side, group, business) weighted deviations
        self.horizon = horizon
        self._set_powers()
        self._rebuild()

    # ---- reading -------------------------------------------------------------------------
    def read(self, pos: np.ndarray, j) -> np.ndarray:
        """Current trust of the pairs (pos, j)."""
        flat = pos * self.nb + j  # flat indices gather ~3x faster than (pos, j) pairs
        return self._current(self._value[flat], self._last[flat])

    def read_rows(self, pos: np.ndarray) -> np.ndarray:
        """Current trust of whole rows (pos, all businesses)."""
        return self._current(self.value[pos], self.last[pos])

    def current(self) -> np.ndarray:
        """The whole matrix brought up to date (end of run)."""
        out = np.empty_like(self.value)
        for a in range(0, self.value.shape[0], _CHUNK):
            out[a:a + _CHUNK] = self.value[a:a + _CHUNK]
            self._current(out[a:a + _CHUNK], self.last[a:a + _CHUNK])  # in place, on the copy
        return out

    def _current(self, v: np.ndarray, last: np.ndarray) -> np.ndarray:
        stale = last != self.now
        if stale.any():
            # rules.decay(v, b, 0) would round v; values written today are returned untouched.
            v[stale] = self._decayed(v[stale], last[stale])
        return v

    def _decayed(self, v: np.ndarray, last: np.ndarray) -> np.ndarray:
        """rules.decay(v, b, now - last, m), its factor 0.5 ** (days / halflife) looked up."""
        side = (v < self.b).astype(np.intp)  # rules.decay: trust >= baseline uses trust_halflife
        return self.b + (v - self.b) * self._factor[side, self.now - last.astype(np.intp)]

    # ---- reading and writing at once -----------------------------------------------------
    def update(self, pos: np.ndarray, j, rule) -> np.ndarray:
        """Set trust of distinct pairs (pos, j) to ``rule(current trust)``; returns the new values.
        One gather and one scatter of the pairs, and a few small bincounts for the running sums."""
        if pos.size == 0:
            return np.empty(0)
        b, width = self.b, self._factor.shape[1]
        flat = pos * self.nb + j
        v, last = self._value[flat], self._last[flat]
        side = (v < b).astype(np.intp)
        age = self.now - last.astype(np.intp)
        cur = b + (v - b) * self._factor_flat.take(side * width + age)
        fresh = age == 0
        if fresh.any():  # rules.decay over 0 days would round
            cur[fresh] = v[fresh]
        new = np.asarray(rule(cur), float)
        new_side = (new < b).astype(np.intp)
        old_w = (v - b) * self._powers_flat.take(side * self._powers.shape[1] + last)
        new_w = (new - b) * self._powers[new_side, self.now]
        # Running sums: each pair counts in its role's group and, for its own supplier, in the
        # customers' group. One bincount each for the old and new values, by (side, role,
        # customer or not, business), then folded into self.sums (side, group, business).
        nb = self.nb
        key = ((pos >= self.n_engaged).astype(np.intp) * 2 + (self.supplier[pos] == j)) * nb + j
        bins = 8 * nb
        moved = (np.bincount(new_side * (4 * nb) + key, new_w, minlength=bins)
                 - np.bincount(side * (4 * nb) + key, old_w, minlength=bins)).reshape(2, 2, 2, nb)
        self.sums[:, :CUSTOMERS] += moved.sum(axis=2)
        self.sums[:, CUSTOMERS] += moved[:, :, 1].sum(axis=1)
        self._value[flat] = new
        self._last[flat] = self.now
        return new

    def write(self, pos: np.ndarray, j, new: np.ndarray) -> None:
        """Set trust of distinct pairs (pos, j) to ``new`` (as of today)."""
        if pos.size == 0:
            return
        j = np.broadcast_to(j, pos.shape)
        flat = pos * self.nb + j
        old_w, old_side = self._weight(self._value[flat], self._last[flat])
        new = np.asarray(new, float)
        new_w, new_side = self._weight(new, self.now)
        role = (pos >= self.n_engaged).astype(np.intp)
        cust = self.supplier[pos] == j
        self._add(old_side, role, j, -old_w)
        self._add(new_side, role, j, new_w)
        if cust.any():
            self._add(old_side[cust], CUSTOMERS, j[cust], -old_w[cust])
            self._add(new_side[cust], CUSTOMERS, j[cust], new_w[cust])
        self._value[flat] = new
        self._last[flat] = self.now

    def move_customers(self, pos: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """People ``pos`` change supplier from ``old`` to ``new`` (-1: none): move their trust in
        those businesses between customer groups. Call before the supplier array changes."""
        for who, j, sign in ((pos[old >= 0], old[old >= 0], -1.0), (pos[new >= 0], new[new >= 0], 1.0)):
            if who.size:
                j = j.astype(np.intp)
                w, side = self._weight(self.value[who, j], self.last[who, j])
                self._add(side, CUSTOMERS, j, sign * w)

    def advance(self) -> None:
        """One more day of decay for everyone (nothing is touched)."""
        self.now += 1
        if (self.now - self.ref) / self.h.min() > 256:
            self.sums *= np.exp2(-(self.now - self.ref) / self.h)[:, None, None]
            self.ref = self.now
            self._set_powers()

    # ---- means ---------------------------------------------------------------------------
    def deviation_sums(self) -> np.ndarray:
        """(group, business): sum over the group of (current trust - baseline)."""
        scale = np.exp2(-(self.now - self.ref) / self.h)
        return (self.sums * scale[:, None, None]).sum(axis=0)

    # ---- internals -----------------------------------------------------------------------
    def _set_powers(self) -> None:
        # 2**((day - ref) / h) for every day of the run, looked up rather than computed per value.
        # Days far past the next rebase may overflow to inf; they are recomputed before use.
        days = np.arange(self.horizon + 1, dtype=float) - self.ref
        with np.errstate(over="ignore"):
            self._powers = np.exp2(days[None, :] / self.h[:, None])
        # rules.decay's factor after ``age`` days, by side of the baseline (see _decayed): from
        # baseline 0, trust 1 decays to exactly 0.5 ** (age / trust_halflife), and -1 to minus
        # 0.5 ** (age / distrust_halflife).
        ages = np.arange(self.horizon + 2, dtype=float)
        self._factor = np.stack([rules.decay(1.0, 0.0, ages, self.m), -rules.decay(-1.0, 0.0, ages, self.m)])
        self._factor_flat, self._powers_flat = self._factor.reshape(-1), self._powers.reshape(-1)

    def _weight(self, v: np.ndarray, last) -> tuple[np.ndarray, np.ndarray]:
        side = (v < self.b).astype(np.intp)  # rules.decay: trust >= baseline uses trust_halflife
        return (v - self.b) * self._powers[side, last], side

    def _add(self, side: np.ndarray, group, j: np.ndarray, w: np.ndarray) -> None:
        idx = (side * _GROUPS + group) * self.nb + j
        self.sums += np.bincount(idx.ravel(), w.ravel(), minlength=self.sums.size).reshape(self.sums.shape)

    def _rebuild(self) -> None:
        self.sums[:] = 0
        n, nb = self.value.shape
        cols = np.arange(nb)
        for a in range(0, n, _CHUNK):
            v, last = self.value[a:a + _CHUNK], self.last[a:a + _CHUNK]
            w, side = self._weight(v, last)
            pos = np.arange(a, a + v.shape[0])[:, None]
            j = np.broadcast_to(cols, v.shape)
            self._add(side, (pos >= self.n_engaged).astype(np.intp), j, w)
            cust = self.supplier[pos[:, 0], None] == cols
            self._add(side[cust], CUSTOMERS, j[cust], w[cust])
