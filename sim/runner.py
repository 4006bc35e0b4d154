"""``sim.run``: one scenario, one engine, one seed -> Results."""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .results import Results, agents_frame, tidy_timeseries
from .scenario import Scenario, ScenarioError, load_scenario
from .world import BYTES_PER_PERSON

# "fast" is the compiled engine; "vector" is its former name (the numpy engine it replaced).
ENGINES = ("agents", "fast")
ALIASES = {"vector": "fast"}


def engine_name(engine: str) -> str:
    """The engine's canonical name; ValueError naming what is allowed."""
    name = ALIASES.get(engine, engine)
    if name not in ENGINES:
        raise ValueError(f"engine = {engine!r}: allowed are {', '.join(ENGINES)}")
    return name


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
    need = pop.people * BYTES_PER_PERSON[engine_name(engine)] * max(1, len(scenario.businesses))
    have = available_memory()
    if need > 0.8 * have:
        raise ScenarioError(
            f"population.engaged = {pop.engaged} (with observer_ratio {pop.observer_ratio:g}: {pop.people:,} people) "
            f"needs about {need / 2**30:.1f} GiB on the {engine} engine, more than the {have / 2**30:.1f} GiB "
            f"available", field="population.engaged", source=scenario.name)


def run(scenario: Scenario | str | Path, *, engine: str = "agents", seed: Any = 0, steps: int | None = None,
        progress: bool | None = None, on_day: Callable[[int], Any] | None = None,
        threads: int | None = None) -> Results:
    """Run one scenario. ``engine`` is "agents" (Mesa) or "fast" (compiled); ``seed`` an int or
    SeedSequence; ``steps`` overrides the scenario's horizon; ``progress`` shows a bar (default:
    only when the run takes longer than a second and stderr is a terminal); ``on_day(day)`` is
    called after each simulated day (an exception raised there stops the run). ``threads``: cores
    one fast run may use (default: all of them from 262,144 people on, else one;
    compare, sweeps and the dashboard run one single-threaded run per process). Results never
    depend on it."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    engine = engine_name(engine)
    if steps is not None and not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps = {steps!r}: must be a positive whole number of days")
    check_fits(sc, engine)
    horizon = steps or sc.steps
    bar = tqdm(total=horizon, desc=f"{sc.name} ({engine})", unit="day", delay=1.0,
               disable=(progress is False) or None, leave=False)
    day = 0

    def tick(k: int) -> None:
        nonlocal day
        for _ in range(k):
            day += 1
            bar.update(1)
            if on_day is not None:
                on_day(day)

    try:
        if engine == "agents":
            results = _run_agents(sc, seed, horizon, tick)
        else:
            from .fast import run_fast
            results = run_fast(sc, seed, horizon, tick, threads=threads)
    finally:
        bar.close()
    results.meta.update({"steps": horizon, "scenario": sc.name, "version": _version()})
    return results


def _run_agents(sc: Scenario, seed: Any, horizon: int, tick=lambda k: None) -> Results:
    import numpy as np

    from .agents import TrustModel

    model = TrustModel(sc, rng=seed, steps=horizon)
    for _ in range(horizon):
        model.step()
        tick(1)
    ts = tidy_timeseries(np.stack(model.history), sc.business_names, [s.policy_name for s in model.specs])
    agents = agents_frame(sc.business_names, model.state, model.specs_venues)
    return Results(ts, agents, sc, seed, "agents")


def _version() -> str:
    try:
        return version("trustsim")
    except PackageNotFoundError:
        return "dev"
