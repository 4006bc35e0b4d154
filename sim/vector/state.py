"""Structure-of-arrays state of the vector engine, declared once with its dtypes.

People are positions (engaged first, then observers), as in :mod:`sim.world`. Relationship state
is (people, businesses). Running counts that the accounts need every day (people at each
intimacy level, customers, their summed levels, reach) are kept up to date as state changes, so
that accounting never scans the population.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import rules
from ..world import COMPLAIN, World
from .business_specs import BusinessArrays
from .trust import LazyTrust
from .venues import Tally, membership_mask

METRICS_INT = ("posts", "replies", "accidents", "accidents_handled", "accidents_ignored", "mentions_positive",
               "mentions_negative", "witnesses", "purchases", "coupons_redeemed", "defections", "promo_posts",
               "coupon_posts")
METRICS_FLOAT = ("revenue", "engagement_cost")
KIND = {k: i for i, k in enumerate(rules.THREAD_KINDS)}
NK = len(rules.THREAD_KINDS)


@dataclass
class Posts:
    """Today's posts: ordinary posts first, then accident reports (the Mesa engine's order)."""

    pos: np.ndarray
    about: np.ndarray
    venue: np.ndarray
    kind: np.ndarray
    pre: np.ndarray
    failed: np.ndarray
    severe: np.ndarray
    first: np.ndarray
    n_posts: int

    @classmethod
    def empty(cls) -> Posts:
        i, f, b = np.empty(0, np.int64), np.empty(0), np.empty(0, bool)
        return cls(i, i, i, np.empty(0, np.int8), f, f, b, b, 0)

    def __len__(self) -> int:
        return self.pos.size


@dataclass
class VectorState:
    world: World
    n: int
    nb: int
    nv: int
    n_engaged: int
    cls: np.ndarray  # int8 (n): participation class
    complain: np.ndarray  # float64 (4): chance of a public report, by class
    supplier: np.ndarray  # int8 (n): business index, -1 none
    vmask: np.ndarray  # uint8.. (n): bit v set when a member of venue v
    trust: LazyTrust
    level: np.ndarray  # int8 (n, nb)
    contacts: np.ndarray  # uint16 (n, nb), saturating: only min(contacts, 99) and level3_contacts are read
    accidents: np.ndarray  # uint16 or int32 (n, nb)
    aggrieved: np.ndarray  # bool (n, nb)
    recoveries: np.ndarray  # like accidents (n, nb): accident reports it answered in public
    ignored: np.ndarray  # like accidents (n, nb): public accident reports it left unanswered
    departures: np.ndarray  # like accidents (n, nb): times the person left it (at most once a day)
    seen_day: np.ndarray  # uint16 (n, nb): last day witnessed, 0 never (gives reach and daily witnesses)
    biz: BusinessArrays
    members: list[np.ndarray]
    noise: np.ndarray  # (nv)
    relevance: np.ndarray
    keep: np.ndarray
    attention: np.ndarray
    sizes: np.ndarray  # float64 (nv): members per venue
    present: np.ndarray  # bool (nb, nv)
    threads_live: np.ndarray  # float64 (nv, nb, kinds)
    threads_new: np.ndarray
    threads_next: np.ndarray
    climate: np.ndarray  # (nv): share of yesterday's posts sharing personal meaning
    carry: np.ndarray  # (nb, 3): fractional capacity carried over (care, promo, coupon)
    coupon_holders: list[np.ndarray]
    promo_holders: list[np.ndarray]
    tally: Tally
    witness_amounts: list[dict[str, np.ndarray]]  # per venue: rules.witness_amounts by kind, per business
    level_count: np.ndarray  # int64 (nb, 4)
    customers: np.ndarray  # int64 (nb)
    customer_levels: np.ndarray  # int64 (nb): summed level of each business's customers
    reach: np.ndarray  # int64 (nb)
    day: int = 0
    posts: Posts = field(default_factory=Posts.empty)
    daily: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_world(cls, world: World, horizon: int) -> VectorState:
        sc, n = world.scenario, world.n_people
        nb, nv = len(world.businesses), len(world.venues)
        supplier = world.supplier
        level = np.zeros((n, nb), np.int8)
        # At most three purchases per (person, business) a day: coupon, promo, own; so at most
        # three accidents, answered or ignored reports, and one departure.
        acc_dtype = np.uint16 if 3 * horizon < np.iinfo(np.uint16).max else np.int32
        members = [v.members for v in world.venues]
        present = np.zeros((nb, nv), bool)
        for j, b in enumerate(world.businesses):
            present[j, list(b.venues)] = True
        customers = np.bincount(supplier[supplier >= 0], minlength=nb).astype(np.int64)
        st = cls(
            world=world, n=n, nb=nb, nv=nv, n_engaged=world.n_engaged, cls=world.cls,
            complain=np.asarray(COMPLAIN, float), supplier=supplier,
            vmask=membership_mask(n, members),
            trust=LazyTrust(world.trust, sc.population.trust_baseline, sc.mechanisms, world.n_engaged, supplier, horizon),
            level=level, contacts=np.zeros((n, nb), np.uint16), accidents=np.zeros((n, nb), acc_dtype),
            aggrieved=np.zeros((n, nb), bool), recoveries=np.zeros((n, nb), acc_dtype),
            ignored=np.zeros((n, nb), acc_dtype), departures=np.zeros((n, nb), acc_dtype),
            seen_day=np.zeros((n, nb), np.uint16),
            biz=BusinessArrays.from_specs(world.businesses),
            members=members,
            noise=np.array([v.noise for v in world.venues]), relevance=np.array([v.relevance for v in world.venues]),
            keep=np.array([v.keep for v in world.venues]), attention=np.array([v.attention for v in world.venues]),
            sizes=np.array([m.size for m in members], float), present=present,
            threads_live=np.zeros((nv, nb, NK)), threads_new=np.zeros((nv, nb, NK)),
            threads_next=np.zeros((nv, nb, NK)), climate=np.zeros(nv), carry=np.zeros((nb, 3)),
            coupon_holders=[np.empty(0, np.int64)] * nb, promo_holders=[np.empty(0, np.int64)] * nb,
            tally=Tally(nb * max((m.size for m in members), default=0)),
            level_count=np.zeros((nb, 4), np.int64), customers=customers,
            customer_levels=np.zeros(nb, np.int64), reach=np.zeros(nb, np.int64), witness_amounts=[],
        )
        st.level_count[:, 0] = n
        care = st.biz.care
        st.witness_amounts = []
        for rel in st.relevance:
            per_biz = [rules.witness_amounts(rel, c, sc.mechanisms) for c in care]
            st.witness_amounts.append({k: np.array([a[k] for a in per_biz], float) for k in rules.THREAD_KINDS})
        st.start_day()
        return st

    def start_day(self) -> None:
        self.daily = {k: np.zeros(self.nb, np.int64) for k in METRICS_INT}
        self.daily.update({k: np.zeros(self.nb) for k in METRICS_FLOAT})

    # ---- changes that keep the running counts right -------------------------------------
    def set_supplier(self, pos: np.ndarray, new) -> None:
        """People ``pos`` (distinct) now buy from ``new`` (a business index per person, or one)."""
        if pos.size == 0:
            return
        old = self.supplier[pos].astype(np.int64)
        moved = old != new
        new = np.asarray(new, np.int64)
        pos, old, new = pos[moved], old[moved], (new[moved] if new.ndim else np.full(int(moved.sum()), new))
        if pos.size == 0:
            return
        self.trust.move_customers(pos, old, new)
        for who, j, sign in ((pos[old >= 0], old[old >= 0], -1), (pos[new >= 0], new[new >= 0], 1)):
            self.customers += sign * np.bincount(j, minlength=self.nb)
            self.customer_levels += sign * np.bincount(j, self.level[who, j], minlength=self.nb).astype(np.int64)
        self.supplier[pos] = new

    def set_level(self, pos: np.ndarray, j, new) -> None:
        """Intimacy level of distinct pairs (pos, j) of one business j becomes ``new``."""
        if pos.size == 0:
            return
        old = self.level[pos, j].astype(np.int64)
        new = np.asarray(new, np.int64)
        diff = new - old
        self.level_count[j] += np.bincount(old + diff, minlength=4) - np.bincount(old, minlength=4)
        self.customer_levels[j] += int(diff[self.supplier[pos] == j].sum())
        self.level[pos, j] = new

    def add_contact(self, pos: np.ndarray, j) -> None:
        c = self.contacts[pos, j]
        self.contacts[pos, j] = c + (c < np.iinfo(np.uint16).max)

    # ---- venue lookups -------------------------------------------------------------------
    def threads_add(self, ledger: np.ndarray, venue: np.ndarray, j, kind: str) -> None:
        """Add one thread of ``kind`` per entry of (venue, j) to a ledger."""
        if venue.size:  # integer counts: the same sums as adding 1.0 per thread
            ledger[:, :, KIND[kind]] += np.bincount(venue * self.nb + j, minlength=self.nv * self.nb).reshape(
                self.nv, self.nb)
