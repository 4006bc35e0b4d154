"""The compiled engine's driver: build the world, step the kernels, collect the same tables as the
Mesa engine."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from ..results import Results, agents_frame, tidy_timeseries
from ..scenario import Scenario
from ..state import NCOL
from ..streams import Streams, resolve_seed
from ..world import build_world, parameter_record
from . import kernels
from .draws import bit_generators

# A call into the kernels runs several days; calls are sized to take about this long, so that
# the time spent entering a call stays small and on_day is still called often enough for a
# progress bar or a cancel button.
CALL_SECONDS = 0.05
MOST_DAYS_PER_CALL = 64


class FastModel:
    """One run of the compiled engine: ``advance(days)`` runs the next days; ``state`` is the
    model's state (sim/state.py) as of the last day run, ``history`` its daily rows."""

    def __init__(self, scenario: Scenario, seed: Any = 0, horizon: int | None = None, threads: int | None = None):
        self.scenario, self.seed = scenario, seed
        self.horizon = horizon or scenario.steps
        streams = Streams(resolve_seed(seed))
        self.world = world = build_world(scenario, streams)
        self.state, self.params = world.state, parameter_record(world.params)
        self.biz, self.ven = world.business_arrays(), world.venue_arrays()
        nb = len(world.businesses)
        self.generators = streams.for_run(nb)  # kept: self.bits points into them
        self.bits = bit_generators(self.generators)
        self.history = np.zeros((self.horizon + 1, nb, NCOL))
        self.tallies = kernels.Tallies(np.zeros((nb, 4), np.int64), np.zeros(nb, np.int64))
        self.tallies.levels[:, 0] = world.n_people  # nobody is known yet
        cores = numba.config.NUMBA_NUM_THREADS
        self.threads = min(threads, cores) if threads else cores if world.n_people >= kernels.PARALLEL_PEOPLE else 1
        self.day = 0
        kernels.accounts(self.state, self.biz, self.params, world.n_engaged, self.tallies, self.history[0], False)
        self.work = kernels.scratch(self.state, self.biz, self.params, world.n_engaged)

    def advance(self, days: int) -> None:
        if not 0 < days <= self.horizon - self.day:
            raise ValueError(f"days = {days}: between 1 and the {self.horizon - self.day} left")
        numba.set_num_threads(self.threads)
        self.work = kernels.run_days(self.state, self.biz, self.ven, self.params, self.bits, self.history,
                                     self.tallies, self.world.n_engaged, self.day, days, self.work)
        self.day += days

    def timeseries(self):
        """The daily rows so far (day 0 to the last day run) as Results.timeseries."""
        return tidy_timeseries(self.history[:self.day + 1], self.scenario.business_names,
                               [b.policy_name for b in self.world.businesses])

    def results(self) -> Results:
        names = self.scenario.business_names
        return Results(self.timeseries(), agents_frame(names, self.state, self.world.venues), self.scenario,
                       self.seed, "fast")


def run_fast(scenario: Scenario, seed: Any, horizon: int, tick: Callable[[int], Any] = lambda k: None,
             threads: int | None = None) -> Results:
    model = FastModel(scenario, seed, horizon, threads)
    chunk = 1
    while model.day < horizon:
        days = min(chunk, horizon - model.day)
        started = time.perf_counter()
        model.advance(days)
        took = time.perf_counter() - started
        tick(days)
        chunk = int(min(MOST_DAYS_PER_CALL, max(1, days * CALL_SECONDS / max(took, 1e-6))))
    return model.results()
