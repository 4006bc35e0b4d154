"""``sim.run``: one scenario, one engine, one seed -> Results."""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from .results import Results, agents_frame
from .scenario import Scenario, ScenarioError, load_scenario
from .world import BYTES_PER_PERSON

ENGINES = ("agents", "vector")


def available_memory() -> int:
    """Bytes of memory this process could still use (MemAvailable), or a large number if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def check_fits(scenario: Scenario, engine: str) -> None:
    """Refuse, before allocating, a population that would not fit in memory."""
    pop = scenario.population
    need = pop.people * BYTES_PER_PERSON[engine] * max(1, len(scenario.businesses))
    have = available_memory()
    if need > 0.8 * have:
        raise ScenarioError(
            f"population.engaged = {pop.engaged} (with observer_ratio {pop.observer_ratio:g}: {pop.people:,} people) "
            f"needs about {need / 2**30:.1f} GiB on the {engine} engine, more than the {have / 2**30:.1f} GiB "
            f"available", field="population.engaged", source=scenario.name)


def run(scenario: Scenario | str | Path, *, engine: str = "agents", seed: Any = 0, steps: int | None = None,
        progress: bool | None = None, on_day: Callable[[int], Any] | None = None) -> Results:
    """Run one scenario. ``engine`` is "agents" (Mesa) or "vector" (numpy); ``seed`` an int or
    SeedSequence; ``steps`` overrides the scenario's horizon; ``progress`` shows a bar (default:
    only when the run takes longer than a second and stderr is a terminal); ``on_day(day)`` is
    called after each simulated day (an exception raised there stops the run)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if engine not in ENGINES:
        raise ValueError(f"engine = {engine!r}: allowed are {', '.join(ENGINES)}")
    if steps is not None and not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps = {steps!r}: must be a positive whole number of days")
    check_fits(sc, engine)
    horizon = steps or sc.steps
    bar = tqdm(total=horizon, desc=f"{sc.name} ({engine})", unit="day", delay=1.0,
               disable=(progress is False) or None, leave=False)
    day = 0

    def tick(k: int) -> None:
        nonlocal day
        day += k
        bar.update(k)
        if on_day is not None:
            on_day(day)

    try:
        if engine == "agents":
            results = _run_agents(sc, seed, horizon, tick)
        else:
            from .vector import run_vector
            results = run_vector(sc, seed, horizon, tick)
    finally:
        bar.close()
    results.meta.update({"steps": horizon, "scenario": sc.name, "version": _version()})
    return results


def _run_agents(sc: Scenario, seed: Any, horizon: int, tick) -> Results:
    from .agents import Business, TrustModel

    model = TrustModel(sc, rng=seed, steps=horizon)
    for _ in range(horizon):
        model.step()
        tick(1)
    raw = model.datacollector.get_agenttype_vars_dataframe(Business).reset_index()
    ts = raw.rename(columns={"Step": "step", "name": "business"}).drop(columns=["AgentID"])
    ts["step"] = ts["step"].astype(int)
    ts = tidy_timeseries(ts, sc.business_names)
    agents = agents_frame(sc.business_names, model.cls, model.supplier, model.trust, model.level, model.accidents,
                          model.contacts, model.recoveries, model.ignored, model.departures, model.specs_venues)
    return Results(ts, agents, sc, seed, "agents")


def tidy_timeseries(ts: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    from .agents.model import BUSINESS_COLUMNS

    ts = ts[["step", "business", "policy", *BUSINESS_COLUMNS]].copy()
    ts["business"] = pd.Categorical(ts["business"], categories=names)
    ints = [c for c in BUSINESS_COLUMNS if c not in ("trust_engaged", "trust_observers", "trust_all",
                                                      "share_of_wallet", "revenue", "engagement_cost", "profit")]
    ts[ints] = ts[ints].astype("int64")
    ts[["revenue", "engagement_cost", "profit"]] = ts[["revenue", "engagement_cost", "profit"]].astype(float)
    return ts.sort_values(["step", "business"]).reset_index(drop=True)


def _version() -> str:
    try:
        return version("trustsim")
    except PackageNotFoundError:
        return "dev"
