"""The initial world: who is who, who belongs where, who buys from whom, who trusts whom.

Both engines start from the same :class:`World`, built from the scenario and the run's streams,
so a docking difference can only come from the dynamics. People are indexed by position:
engaged customers first, then silent observers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rules import archive_keep, attention, care_effect, forget_chance
from .scenario import Scenario
from .streams import Streams

REGULAR, OCCASIONAL, NEVER, OBSERVER = 0, 1, 2, 3
ROLE_NAMES = ("engaged", "engaged", "engaged", "observer")
CLASS_NAMES = ("regular", "occasional", "never", "observer")
# Chance that a person of each class reports an accident in public.
COMPLAIN = np.array([0.9, 0.5, 0.0, 0.0])

# Tier of each post kind (indexed by rules.EXPERIENCE, OUTCOME, MEANING, ACCIDENT) under the
# "outcomes_first" priority: meaning first, then outcome, accident, experience.
OUTCOME_TIER = np.array([3, 1, 0, 2])

# Bytes of state per person in each engine, for the memory check before allocating.
# vector: peak RSS of a 10M-person run of the engine per person and business (1.87 GiB / 2e7,
# tests/benchmarks/test_bench_engines.py); its state alone is ~27 bytes, the rest is world-building
# and per-day temporaries.
BYTES_PER_PERSON = {"agents": 4000, "vector": 100}


@dataclass(frozen=True)
class VenueSpec:
    name: str
    noise: float
    relevance: float
    keep: float  # share of live threads still read the next day
    attention: float  # chance a member reads one live thread on one day
    host: int  # business index hosting it as a playground, or -1
    members: np.ndarray  # sorted positions of members


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


@dataclass
class World:
    scenario: Scenario
    businesses: list[BusinessSpec]
    venues: list[VenueSpec]
    cls: np.ndarray  # int8 participation class per person
    supplier: np.ndarray  # int8 business index, -1 for none
    trust: np.ndarray  # float64 (people, businesses)

    @property
    def n_people(self) -> int:
        return self.cls.size

    @property
    def n_engaged(self) -> int:
        return self.scenario.population.engaged


def split_counts(total: int, shares: list[float]) -> list[int]:
    """Largest-remainder rounding: head counts that add up to ``total`` exactly."""
    raw = np.asarray(shares, float) * total
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def build_world(scenario: Scenario, streams: Streams) -> World:
    pop, m = scenario.population, scenario.mechanisms
    names = scenario.business_names
    n_eng, n = pop.engaged, pop.people

    rng = streams("init.class")
    cls = np.full(n, OBSERVER, np.int8)
    counts = split_counts(n_eng, [pop.regular, pop.occasional, pop.never])
    cls[:n_eng] = rng.permutation(np.repeat(np.array([REGULAR, OCCASIONAL, NEVER], np.int8), counts))

    shares = np.array([scenario.businesses[b].initial_share for b in names])
    if shares.sum() > 1 + 1e-9:
        raise ValueError(f"businesses.*.initial_share must add up to at most 1 (got {shares.sum():g})")
    u = streams("init.supplier").random(n)
    supplier = np.searchsorted(np.cumsum(shares), u, side="right").astype(np.int8)
    supplier[supplier >= len(names)] = -1

    base, conc = pop.trust_baseline, pop.trust_concentration
    a, b = max(base * conc, 1e-3), max((1 - base) * conc, 1e-3)
    trust = streams("init.trust").beta(a, b, size=(n, len(names)))

    venues: list[VenueSpec] = []
    rng = streams("init.venues")
    for name, v in scenario.venues.items():
        members = np.flatnonzero(rng.random(n) < v.membership)
        venues.append(VenueSpec(name, v.noise, v.relevance, float(archive_keep(v.archive_days)),
                                float(attention(v.noise, m)), -1, members))
    playground_of = {}
    for j, bname in enumerate(names):
        if scenario.policy(bname).playground:
            # A brand's own customers are three times likelier to join its playground.
            p = np.where(supplier == j, min(1.0, 3 * m.playground_membership), m.playground_membership)
            members = np.flatnonzero(rng.random(n) < p)
            noise, relevance, days = 0.2, 0.9, 7.0
            playground_of[j] = len(venues)
            venues.append(VenueSpec(f"{bname} playground", noise, relevance, float(archive_keep(days)),
                                    float(attention(noise, m)), j, members))

    businesses = []
    venue_index = {v.name: i for i, v in enumerate(venues)}
    for j, bname in enumerate(names):
        biz, pol = scenario.businesses[bname], scenario.policy(bname)
        present = (tuple(i for i, v in enumerate(venues) if v.host in (-1, j)) if pol.venues == "all"
                   else tuple(venue_index[v] for v in pol.venues) + ((playground_of[j],) if j in playground_of else ()))
        businesses.append(BusinessSpec(
            name=bname, policy_name=pol.name or "inline", venues=present,
            care=float(care_effect(pol.authenticity, biz.turnover, m)), priority=pol.priority,
            caring=pol.caring, promotional=pol.promotional, coupons=pol.coupons,
            coupon_discount=pol.coupon_discount, personified=pol.personified, capture=pol.capture,
            playground=playground_of.get(j, -1), failure_rate=biz.failure_rate,
            severe_share=biz.severe_share, price=biz.price, margin=biz.margin,
            capacity=biz.staff_capacity, action_cost=biz.action_cost, turnover=biz.turnover,
            difficulty=biz.intimacy_difficulty,
            forget=float(forget_chance(biz.turnover, pol.capture, m)),
        ))

    return World(scenario, businesses, venues, cls, supplier, trust)


def memberships(world: World) -> list[tuple[int, ...]]:
    """Venues of each person, as tuples (positions -> venue indices)."""
    per_person: list[list[int]] = [[] for _ in range(world.n_people)]
    for vi, v in enumerate(world.venues):
        for p in v.members.tolist():
            per_person[p].append(vi)
    return [tuple(x) for x in per_person]
