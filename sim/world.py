"""The initial world: who is who, who belongs where, who buys from whom, who trusts whom, and
the scenario's numbers in the flat form the rulebook reads.

Both engines start from the same :class:`World`, built from the scenario and the run's streams,
so a docking difference can only come from the dynamics. Building it is a handful of whole-array
draws, so ten million people take seconds.
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from . import rules
from .scenario import MAX_BUSINESSES, MAX_VENUES, PRIORITIES, Mechanisms, Scenario
from .state import State, allocate
from .streams import Streams

ROLE_NAMES = ("engaged", "engaged", "engaged", "observer")
CLASS_NAMES = ("regular", "occasional", "never", "observer")

# Peak memory of a run per person and business, for refusing a population that will not fit
# before allocating it. agents: Mesa objects per person; fast: the state (31 bytes per person and
# business) plus the world's build temporaries and the per-agent result table: a 10M-person year
# from the command line peaked at 1.58-1.70 GiB for 20M person-business pairs, 85-91 bytes a pair
# (docs/benchmarks.md); 120 leaves room.
BYTES_PER_PERSON = {"agents": 4000, "fast": 120}

# ---- the flat parameter record ----------------------------------------------------------------
_MECHANISM_FIELDS = tuple(f for f in Mechanisms.model_fields if f != "outcomes_first_order")
_DERIVED = ("trust_baseline", "purchase_rate", "prospect_rate", "regular_post_rate", "occasional_post_rate",
            "decay_above", "decay_below", "outside_weight",
            "tier_experience", "tier_outcome", "tier_meaning", "tier_accident")
Params = namedtuple("Params", _MECHANISM_FIELDS + _DERIVED, module=__name__)


def parameters(scenario: Scenario) -> Params:
    """The numbers the rulebook reads (``m`` in sim/rules.py), as one flat record that plain
    Python and numba kernels both take."""
    m, pop = scenario.mechanisms, scenario.population
    values = {f: getattr(m, f) for f in _MECHANISM_FIELDS}
    values = {k: (int(v) if isinstance(v, int) and not isinstance(v, bool) else float(v)) for k, v in values.items()}
    tiers = {kind: m.outcomes_first_order.index(kind) for kind in ("experience", "outcome", "meaning", "accident")}
    values.update(
        trust_baseline=float(pop.trust_baseline), purchase_rate=float(pop.purchase_rate),
        prospect_rate=float(pop.prospect_rate), regular_post_rate=float(pop.regular_post_rate),
        occasional_post_rate=float(pop.occasional_post_rate),
        decay_above=0.5 ** (1.0 / m.trust_halflife), decay_below=0.5 ** (1.0 / m.distrust_halflife),
        outside_weight=m.market_others * math.exp(m.choice_trust * pop.trust_baseline),
        **{f"tier_{kind}": tier for kind, tier in tiers.items()},
    )
    return Params(**values)


def parameter_record(m: Params) -> np.ndarray:
    """The same parameters as a one-element numpy record array, the form the compiled kernels
    take (``ms[0].gain_reply``): numba passes a record by reference, and its parallel loops refuse
    a bare record (an argument type mismatch when compiling), not an array of them."""
    dtype = np.dtype([(f, np.int64 if isinstance(v, int) else np.float64) for f, v in zip(m._fields, m)])
    return np.array([tuple(m)], dtype=dtype)


# ---- businesses and venues --------------------------------------------------------------------
@dataclass(frozen=True)
class VenueSpec:
    name: str
    noise: float
    relevance: float
    keep: float  # share of live threads still read the next day
    attention: float  # chance a member reads one live thread on one day
    host: int  # business index hosting it as a playground, or -1
    members: np.ndarray  # sorted positions of members (int32)


@dataclass(frozen=True)
class BusinessSpec:
    name: str
    policy_name: str
    venues: tuple[int, ...]  # venue indices where it is present
    care: float  # care effect after authenticity and turnover
    priority: str
    caring: float
    promotional: float
    coupons: float
    coupon_discount: float
    personified: bool
    capture: bool
    playground: int  # venue index of its playground, or -1
    failure_rate: float
    severe_share: float
    price: float
    margin: float
    capacity: float
    action_cost: float
    turnover: float
    difficulty: float
    forget: float  # daily chance a customer's intimacy is forgotten


# The businesses' numbers as arrays indexed by business, for the kernels.
Businesses = namedtuple("Businesses", [
    "failure_rate", "severe_share", "price", "margin", "coupon_discount", "care", "difficulty", "personified",
    "forget", "mix", "action_cost", "priority", "playground", "present", "present_ptr", "present_venues",
], module=__name__)
# The venues' numbers as arrays indexed by venue; members as one array cut by member_ptr.
Venues = namedtuple("Venues", ["noise", "relevance", "keep", "attention", "size", "member_ptr", "members", "factors"],
                    module=__name__)


def business_arrays(specs: list[BusinessSpec], nv: int) -> Businesses:
    def col(name, dtype=np.float64):
        return np.array([getattr(s, name) for s in specs], dtype)

    present = np.zeros((len(specs), nv), np.bool_)
    for j, s in enumerate(specs):
        present[j, list(s.venues)] = True
    ptr = np.zeros(len(specs) + 1, np.int64)
    ptr[1:] = np.cumsum([len(s.venues) for s in specs])
    return Businesses(
        col("failure_rate"), col("severe_share"), col("price"), col("margin"), col("coupon_discount"), col("care"),
        col("difficulty"), col("personified", np.bool_), col("forget"),
        np.array([[s.capacity * s.caring, s.capacity * s.promotional, s.capacity * s.coupons] for s in specs],
                 np.float64).reshape(-1, 3),
        col("action_cost"), np.array([PRIORITIES.index(s.priority) for s in specs], np.int64),
        col("playground", np.int64), present, ptr,
        np.array([v for s in specs for v in s.venues], np.int64),
    )


def venue_arrays(venues: list[VenueSpec], specs: list[BusinessSpec], m: Params) -> Venues:
    nv, nb = len(venues), len(specs)
    ptr = np.zeros(nv + 1, np.int64)
    ptr[1:] = np.cumsum([v.members.size for v in venues])
    members = np.concatenate([v.members for v in venues]) if venues else np.empty(0, np.int32)
    factors = np.array([[[rules.witness_factor(k, v.relevance, s.care, m) for k in range(rules.NK)]
                         for s in specs] for v in venues], np.float64).reshape(nv, nb, rules.NK)
    return Venues(
        np.array([v.noise for v in venues], np.float64), np.array([v.relevance for v in venues], np.float64),
        np.array([v.keep for v in venues], np.float64), np.array([v.attention for v in venues], np.float64),
        np.array([v.members.size for v in venues], np.float64), ptr, members.astype(np.int32, copy=False), factors,
    )


@dataclass
class World:
    scenario: Scenario
    params: Params
    businesses: list[BusinessSpec]
    venues: list[VenueSpec]
    state: State  # day 0: classes, suppliers, memberships and trust drawn; everything else zero

    @property
    def n_people(self) -> int:
        return self.state.cls.size

    @property
    def n_engaged(self) -> int:
        return self.scenario.population.engaged

    def business_arrays(self) -> Businesses:
        return business_arrays(self.businesses, len(self.venues))

    def venue_arrays(self) -> Venues:
        return venue_arrays(self.venues, self.businesses, self.params)


def split_counts(total: int, shares: list[float]) -> list[int]:
    """Largest-remainder rounding: head counts that add up to ``total`` exactly."""
    raw = np.asarray(shares, float) * total
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def build_world(scenario: Scenario, streams: Streams) -> World:
    pop = scenario.population
    m = parameters(scenario)
    names = scenario.business_names
    n_eng, n, nb = pop.engaged, pop.people, len(names)
    n_venues = len(scenario.venues) + sum(scenario.policy(b).playground for b in names)
    if nb > MAX_BUSINESSES or n_venues > MAX_VENUES:  # the schema refuses these; a guard for direct use
        raise ValueError(f"at most {MAX_BUSINESSES} businesses and {MAX_VENUES} venues (with playgrounds)")
    st = allocate(n, nb, n_venues)

    rng = streams("init.class")
    st.cls[:] = rules.OBSERVER
    counts = split_counts(n_eng, [pop.regular, pop.occasional, pop.never])
    st.cls[:n_eng] = rng.permutation(np.repeat(np.array([rules.REGULAR, rules.OCCASIONAL, rules.NEVER], np.int8),
                                               counts))

    shares = np.array([scenario.businesses[b].initial_share for b in names])
    u = streams("init.supplier").random(n)
    supplier = np.searchsorted(np.cumsum(shares), u, side="right")
    st.supplier[:] = np.where(supplier >= nb, rules.PROSPECT, supplier)  # the rest start out of the market
    del u, supplier

    base, conc = pop.trust_baseline, pop.trust_concentration
    a, b = max(base * conc, 1e-3), max((1 - base) * conc, 1e-3)
    st.trust[:] = streams("init.trust").beta(a, b, size=(n, nb))

    venues: list[VenueSpec] = []
    rng = streams("init.venues")
    for name, v in scenario.venues.items():
        members = np.flatnonzero(rng.random(n) < v.membership).astype(np.int32)
        venues.append(VenueSpec(name, v.noise, v.relevance, float(rules.archive_keep(v.archive_days)),
                                float(rules.attention(v.noise, m)), -1, members))
    playground_of = {}
    for j, bname in enumerate(names):
        if scenario.policy(bname).playground:
            # A brand's own customers are three times likelier to join its playground.
            p = np.where(st.supplier == j, min(1.0, 3 * m.playground_membership), m.playground_membership)
            members = np.flatnonzero(rng.random(n) < p).astype(np.int32)
            noise, relevance, days = 0.2, 0.9, 7.0
            playground_of[j] = len(venues)
            venues.append(VenueSpec(f"{bname} playground", noise, relevance, float(rules.archive_keep(days)),
                                    float(rules.attention(noise, m)), j, members))
    for vi, v in enumerate(venues):
        st.venues[v.members] |= np.uint32(1 << vi)

    businesses = []
    venue_index = {v.name: i for i, v in enumerate(venues)}
    for j, bname in enumerate(names):
        biz, pol = scenario.businesses[bname], scenario.policy(bname)
        present = (tuple(i for i, v in enumerate(venues) if v.host in (-1, j)) if pol.venues == "all"
                   else tuple(venue_index[v] for v in pol.venues) + ((playground_of[j],) if j in playground_of else ()))
        businesses.append(BusinessSpec(
            name=bname, policy_name=pol.name or "inline", venues=present,
            care=float(rules.care_effect(pol.authenticity, biz.turnover, m)), priority=pol.priority,
            caring=pol.caring, promotional=pol.promotional, coupons=pol.coupons,
            coupon_discount=pol.coupon_discount, personified=pol.personified, capture=pol.capture,
            playground=playground_of.get(j, -1), failure_rate=biz.failure_rate,
            severe_share=biz.severe_share, price=biz.price, margin=biz.margin,
            capacity=biz.staff_capacity, action_cost=biz.action_cost, turnover=biz.turnover,
            difficulty=biz.intimacy_difficulty,
            forget=float(rules.forget_chance(biz.turnover, pol.capture, m)),
        ))

    return World(scenario, m, businesses, venues, st)


def memberships(world: World) -> list[tuple[int, ...]]:
    """Venues of each person, as ascending tuples (positions -> venue indices)."""
    per_person: list[list[int]] = [[] for _ in range(world.n_people)]
    for vi, v in enumerate(world.venues):
        for p in v.members.tolist():
            per_person[p].append(vi)
    return [tuple(x) for x in per_person]
