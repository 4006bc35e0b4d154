"""``run_vector``: build the world, step the days, collect the same tables as the Mesa engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..results import Results, agents_frame
from ..scenario import Scenario
from ..streams import Streams
from ..world import build_world
from .account import COLUMNS, account
from .engine import step
from .state import VectorState


def streams_for(seed: Any) -> Streams:
    """The same root as TrustModel(rng=seed) derives."""
    if seed is None or isinstance(seed, np.random.Generator):
        seed = np.random.SeedSequence() if seed is None else int(seed.integers(2**63))
    return Streams(seed)


def run_state(scenario: Scenario, seed: Any, horizon: int,
              tick: Callable[[int], Any] = lambda k: None) -> tuple[VectorState, pd.DataFrame]:
    streams = streams_for(seed)
    st = VectorState.from_world(build_world(scenario, streams), horizon)
    nb = st.nb
    cols = {c: np.zeros((horizon + 1, nb)) for c in COLUMNS}
    for c, v in account(st).items():
        cols[c][0] = v
    for day in range(1, horizon + 1):
        step(st, streams)
        for c, v in account(st).items():
            cols[c][day] = v
        tick(1)
    names = [s.name for s in st.world.businesses]
    ts = pd.DataFrame({
        "step": np.repeat(np.arange(horizon + 1), nb),
        "business": np.tile(names, horizon + 1),
        "policy": np.tile([s.policy_name for s in st.world.businesses], horizon + 1),
        **{c: v.reshape(-1) for c, v in cols.items()},
    })
    return st, ts


def run_vector(scenario: Scenario, seed: Any, horizon: int, tick: Callable[[int], Any] = lambda k: None) -> Results:
    from ..runner import tidy_timeseries

    st, ts = run_state(scenario, seed, horizon, tick)
    ts = tidy_timeseries(ts, scenario.business_names)
    agents = agents_frame(scenario.business_names, st.cls, st.supplier, st.trust.current(), st.level, st.accidents,
                          st.contacts, st.recoveries, st.ignored, st.departures, st.world.venues)
    return Results(ts, agents, scenario, seed, "vector")
