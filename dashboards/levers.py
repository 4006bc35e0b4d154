"""The dashboard's settings: a preset (scenario and policy), the key levers, and their URL form.

Pure data and functions, no Solara: the widgets, the shared link and the tests all go through
:func:`from_query` and :func:`to_query`, and the runs through :func:`build_scenario`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from sim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    policy_names,
    scenario_names,
)

# The dashboard runs a year in seconds; larger presets (big_brand, 1.1M people) belong to the CLI.
MAX_PEOPLE = 100_000


@dataclass(frozen=True)
class Lever:
    name: str
    label: str
    lo: float
    hi: float
    step: float
    help: str


# The levers a workshop moves, all applied to the focal business, its policy, its noisiest venue
# or the population. Ranges are the useful part of each parameter's documented range.
LEVERS: tuple[Lever, ...] = (
    Lever("caring", "Caring replies", 0, 1, 0.05, "share of staff capacity spent answering people about their outcomes"),
    Lever("promotional", "Promotional posts", 0, 1, 0.05, "share of staff capacity spent selling"),
    Lever("coupons", "Coupon posts", 0, 1, 0.05, "share of staff capacity spent posting coupons"),
    Lever("authenticity", "Authenticity", 0, 1, 0.05, "0 scripted - 1 sincere"),
    Lever("staff_capacity", "Staff capacity", 0, 100, 1, "social interactions staff can handle per day"),
    Lever("noise", "Venue noise", 0, 1, 0.05, "noise of the busiest venue: 0 quiet - 1 noisy"),
    Lever("failure_rate", "Failure rate", 0, 0.3, 0.005, "chance a purchase goes wrong (1 - product quality)"),
    Lever("turnover", "Staff turnover", 0, 2, 0.05, "share of staff leaving per year"),
    Lever("observer_ratio", "Observers per participant", 0, 30, 1, "silent observers per engaged customer"),
)
LEVER = {lv.name: lv for lv in LEVERS}
MIX = ("caring", "promotional", "coupons")  # shares of one staff capacity: they sum to at most 1


@dataclass(frozen=True)
class Settings:
    scenario: str = "default"
    policy: str = "experiential"
    caring: float = 0.9
    promotional: float = 0.0
    coupons: float = 0.0
    authenticity: float = 0.9
    staff_capacity: float = 20.0
    noise: float = 0.9
    failure_rate: float = 0.03
    turnover: float = 0.2
    observer_ratio: float = 10.0
    seed: int = 0


MAX_SEED = 2**31 - 1


@lru_cache(maxsize=None)
def scenario_choices() -> tuple[str, ...]:
    """Presets small enough to run live."""
    return tuple(n for n in scenario_names() if load_scenario(n).population.people <= MAX_PEOPLE)


def policy_choices() -> tuple[str, ...]:
    return tuple(policy_names())


@lru_cache(maxsize=64)
def _preset(scenario: str) -> Scenario:
    return load_scenario(scenario)


def busiest_venue(sc: Scenario) -> str:
    return max(sc.venues, key=lambda v: (sc.venues[v].membership, sc.venues[v].noise))


def preset(scenario: str, policy: str | None = None, seed: int = 0) -> Settings:
    """The levers as the preset has them: the scenario's focal business under ``policy`` (or its own)."""
    sc = _preset(scenario)
    focal = sc.businesses[sc.focal]
    if policy is not None:
        sc = sc.with_overrides({f"businesses.{sc.focal}.policy": policy}, source=f"policy {policy}")
    pol = sc.policy(sc.focal)
    return Settings(scenario=scenario, policy=pol.name or policy or "", caring=pol.caring, promotional=pol.promotional,
                    coupons=pol.coupons, authenticity=pol.authenticity, staff_capacity=focal.staff_capacity,
                    noise=sc.venues[busiest_venue(sc)].noise, failure_rate=focal.failure_rate,
                    turnover=focal.turnover, observer_ratio=sc.population.observer_ratio, seed=seed)


def build_scenario(s: Settings) -> Scenario:
    """The preset with the policy and levers applied, validated."""
    sc = _preset(s.scenario)
    f = f"businesses.{sc.focal}"
    return sc.with_overrides({
        f"{f}.policy": s.policy,
        **{f"{f}.policy.{k}": getattr(s, k) for k in (*MIX, "authenticity")},
        f"{f}.staff_capacity": s.staff_capacity,
        f"{f}.failure_rate": s.failure_rate,
        f"{f}.turnover": s.turnover,
        f"venues.{busiest_venue(sc)}.noise": s.noise,
        "population.observer_ratio": s.observer_ratio,
    }, source="dashboard")


def set_lever(s: Settings, name: str, value: float) -> Settings:
    """Move one lever, clamped to its range; raising one share of the staff mix shrinks the
    others in proportion, so the widgets can never make caring + promotional + coupons exceed 1."""
    lv = LEVER[name]
    value = min(max(float(value), lv.lo), lv.hi)
    s = replace(s, **{name: value})
    if name in MIX:
        others = [k for k in MIX if k != name]
        room, used = 1.0 - value, sum(getattr(s, k) for k in others)
        if used > room + 1e-12:
            scale = room / used
            shrunk = {k: round(getattr(s, k) * scale, 6) for k in others}
            # Rounding may leave the sum a hair over the capacity: take that from the largest share.
            excess = value + sum(shrunk.values()) - 1.0
            if excess > 0:
                k = max(shrunk, key=shrunk.get)
                shrunk[k] = max(0.0, shrunk[k] - excess)
            s = replace(s, **shrunk)
    return s


def to_query(s: Settings) -> str:
    """The settings as a URL query string (every field, so a link reproduces the run exactly)."""
    return urlencode({k: _fmt(v) for k, v in asdict(s).items()})


def _fmt(v: object) -> str:
    """Short where that is exact (0.9, 20), every digit where it is not."""
    if isinstance(v, float):
        short = f"{v:g}"
        return short if float(short) == v else repr(v)
    return str(v)


def from_query(query: str | None) -> tuple[Settings, list[str]]:
    """Settings from a URL query string, and one message per value refused.

    A refused value (unknown name, out of range, not a number) takes the preset's value; a query
    whose staff mix exceeds the capacity keeps the preset's mix. Unknown keys are reported too."""
    pairs = dict(parse_qsl(query or "", keep_blank_values=True))
    pairs.pop("key", None)  # the facilitator's key (dashboards/wall.py) travels in the link, it is not a setting
    errors: list[str] = []
    scenario = pairs.pop("scenario", Settings.scenario)
    if scenario not in scenario_choices():
        errors.append(f"scenario={scenario!r}: not a preset; allowed: {', '.join(scenario_choices())}")
        scenario = Settings.scenario
    policy = pairs.pop("policy", None)
    if policy is not None and policy not in policy_choices():
        errors.append(f"policy={policy!r}: not a policy preset; allowed: {', '.join(policy_choices())}")
        policy = None
    s = preset(scenario, policy)
    seed = pairs.pop("seed", None)
    if seed is not None:
        if seed.isascii() and seed.isdigit() and int(seed) <= MAX_SEED:
            s = replace(s, seed=int(seed))
        else:
            errors.append(f"seed={seed!r}: must be a whole number from 0 to {MAX_SEED}")
    values = {}
    for lv in LEVERS:
        raw = pairs.pop(lv.name, None)
        if raw is None:
            continue
        try:
            x = float(raw)
        except ValueError:
            errors.append(f"{lv.name}={raw!r}: not a number; allowed: {lv.lo:g} to {lv.hi:g}")
            continue
        if not lv.lo <= x <= lv.hi:  # NaN fails this too
            errors.append(f"{lv.name}={raw}: out of range; allowed: {lv.lo:g} to {lv.hi:g}")
            continue
        values[lv.name] = x
    mix = {k: values.get(k, getattr(s, k)) for k in MIX}
    if sum(mix.values()) > 1 + 1e-9:
        errors.append(f"caring + promotional + coupons = {sum(mix.values()):.10g}: must be at most 1 (shares of one "
                      "staff capacity); the preset's mix is kept")
        for k in MIX:
            values.pop(k, None)
    s = replace(s, **values)
    errors.extend(f"{k}: unknown setting; known: {', '.join(f.name for f in fields(Settings))}" for k in pairs)
    try:
        build_scenario(s)
    except ScenarioError as exc:  # a preset and policy that do not combine: say so, keep the preset
        errors.append(str(exc))
        s = preset(scenario)
    return s, errors
