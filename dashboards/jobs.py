"""Runs for the dashboard: out of the server process, with progress, cancel and a result cache.

A year of 20,000 people is seconds of pure CPU. Run in the server's threads it would hold the
GIL and every other user's clicks would wait, so runs go to a pool of worker processes shared
by all sessions (one per core). The pool, the result cache and the channel that carries progress
and cancel flags are server infrastructure, shared on purpose; each session's settings, results
and models stay in that session.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import cached_property
from multiprocessing import get_context
from typing import Any

import pandas as pd

from sim.compare import Comparison, replicate_seeds
from sim.results import summarize
from sim.state import COLUMNS

from .levers import Settings, build_scenario

ENGINE = "fast"
CACHE_SIZE = 128
COLUMN_INDEX = {c.name: i for i, c in enumerate(COLUMNS)}


class Cancelled(Exception):
    """The user cancelled the run."""


@dataclass(frozen=True)
class YearResult:
    settings: Settings
    timeseries: pd.DataFrame  # one row per (step, business), as sim.Results.timeseries
    focal: str
    seconds: float  # compute time in the worker (0 when served from the cache)
    cached: bool = False

    def summary(self) -> pd.DataFrame:
        """sim.results.summarize of the year, computed once (a page reads it on every render)."""
        return self._summary

    @cached_property
    def _summary(self) -> pd.DataFrame:
        return summarize(self.timeseries)


DAYS_PER_CHECK = 5  # days a worker runs between looks at its cancel flag
# A year that has computed for LIVE_AFTER seconds sends its rows so far every LIVE_EVERY seconds
# after that; a shorter one draws once, at its end. Measured in the room benchmark (30 sessions, 2
# cores): sending from 1 s on cost the server 20% more CPU and moved the median result from 41 s to
# 53 s, because under that load most years compute for 1-1.5 s; a year of the default scenario
# takes 0.3 s on an idle machine.
LIVE_AFTER = 2.0
LIVE_EVERY = 0.5


def _year(settings: Settings, status: Any, key: str, policy: str | None = None, seed: Any = None) -> YearResult:
    """Worker side: one year of one settings (optionally another policy and seed). Every few days
    it reports the day reached and stops if asked to; a year of its own (not a comparison's arm)
    that takes longer than LIVE_AFTER also sends its chart columns so far, twice a second, so its
    page can draw the curves as they grow. The charts are drawn by the browser (ECharts): the
    server and the workers only send numbers."""
    from sim.fast import FastModel
    from sim.runner import check_fits

    from .charts import CHART_COLUMNS

    sc = build_scenario(settings)
    if policy is not None:
        sc = sc.with_overrides({f"businesses.{sc.focal}.policy": policy}, source=f"dashboard (policy {policy})")
    check_fits(sc, ENGINE)
    t0 = time.perf_counter()
    sent = t0 + LIVE_AFTER - LIVE_EVERY  # the first rows go out LIVE_AFTER seconds in
    model = FastModel(sc, settings.seed if seed is None else seed, threads=1)
    columns = [COLUMN_INDEX[c] for c in CHART_COLUMNS]
    while model.day < model.horizon:
        if status.get(key + ":cancel"):
            raise Cancelled()
        model.advance(min(DAYS_PER_CHECK, model.horizon - model.day))
        status[key] = model.day
        if policy is None and time.perf_counter() - sent >= LIVE_EVERY:
            status[key + ":rows"] = model.history[:model.day + 1][:, :, columns].astype("float32")
            sent = time.perf_counter()
    return YearResult(settings, model.timeseries(), sc.focal, time.perf_counter() - t0)


def partial_timeseries(rows, names: list[str]) -> pd.DataFrame:
    """A running year's rows (days x businesses x CHART_COLUMNS) as a timeseries table of those columns."""
    import numpy as np

    from .charts import CHART_COLUMNS

    days, nb, _ = rows.shape
    frame = {"step": np.repeat(np.arange(days), nb), "business": np.tile(np.asarray(names, dtype=object), days)}
    frame.update({c: rows[:, :, i].reshape(-1).astype(float) for i, c in enumerate(CHART_COLUMNS)})
    return pd.DataFrame(frame)


class Job:
    """One submitted run: poll ``day``, ``cancel()`` it, or wait on its ``future``."""

    def __init__(self, future: Future, status: Any, key: str, days: int):
        self.future, self._status, self.key, self.days = future, status, key, days

    def rows(self) -> Any:
        """The chart columns the run has sent so far (None before the first)."""
        try:
            return self._status.get(self.key + ":rows")
        except (OSError, EOFError):
            return None

    @property
    def day(self) -> int:
        if self.future.done():
            return self.days
        try:
            return int(self._status.get(self.key, 0))
        except (OSError, EOFError):  # the server is shutting down
            return 0

    def cancel(self) -> None:
        if self.future.done():  # its entries are gone already: writing a flag now would leave one behind
            return
        if not self.future.cancel():  # already running: ask it to stop at its next check
            self._status[self.key + ":cancel"] = True


def _forget(status: Any, key: str) -> None:
    """Drop a finished, failed or cancelled job's entries from the progress channel."""
    try:
        status.pop(key, None)
        status.pop(key + ":cancel", None)
        status.pop(key + ":rows", None)
    except (OSError, EOFError):  # the manager is already gone (shutdown)
        pass


def _watch_server(server: int) -> None:
    """Worker start-up: watch the server process. Killed, or gone without shutting the pool down,
    it leaves the forkserver and its children (the other workers, the progress manager) running,
    and through them the resource tracker; the first worker to see it gone ends them all."""
    def watch() -> None:
        while _alive(server):
            time.sleep(0.5)
        import psutil  # a dependency of dask.distributed

        try:
            forkserver = psutil.Process(os.getppid())
            for sibling in forkserver.children():
                if sibling.pid != os.getpid():
                    sibling.kill()
            forkserver.kill()
        except psutil.Error:
            pass
        os._exit(0)

    threading.Thread(target=watch, name="watch-server", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


class RunService:
    """The process pool, the progress channel and the cache, created on first use."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or int(os.environ.get("TRUSTSIM_DASHBOARD_WORKERS", 0)) or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._status: Any = None
        self._cache: OrderedDict[tuple, YearResult] = OrderedDict()
        self._atexit = False
        self._live: set[str] = set()  # keys of submitted runs not finished yet

    def _start(self, fresh: bool = False) -> tuple[ProcessPoolExecutor, Any]:
        with self._lock:
            if fresh and self._pool is not None:  # a worker died: the pool refuses all work after that
                self._stop_locked()
            if self._pool is None:
                # forkserver: the server has many threads, and a threaded process must not fork.
                ctx = get_context("forkserver")
                ctx.set_forkserver_preload(["sim.runner", "sim.fast", "dashboards.levers"])
                if self._status is None:
                    self._manager = ctx.Manager()
                    self._status = self._manager.dict()
                self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_watch_server,
                                                 initargs=(os.getpid(),))
                if not self._atexit:
                    # threading's exit hooks run last-registered first, so this one cancels the queue
                    # before concurrent.futures' own hook would wait for every queued run.
                    threading._register_atexit(self.shutdown)
                    self._atexit = True
            return self._pool, self._status

    def submit(self, settings: Settings, *, policy: str | None = None, seed: Any = None) -> Job:
        key = uuid.uuid4().hex
        days = build_scenario(settings).steps
        pool, status = self._start()
        try:
            future = pool.submit(_year, settings, status, key, policy, seed)
        except (BrokenProcessPool, RuntimeError):  # broken, or shut down under us: start afresh once
            pool, status = self._start(fresh=True)
            future = pool.submit(_year, settings, status, key, policy, seed)
        self._live.add(key)
        # its entries leave the channel before it counts as finished: nobody sees a half-forgotten run
        future.add_done_callback(lambda _: (_forget(status, key), self._live.discard(key)))
        return Job(future, status, key, days)

    def cached(self, settings: Settings) -> YearResult | None:
        with self._lock:
            hit = self._cache.get(_key(settings))
            if hit is not None:
                self._cache.move_to_end(_key(settings))
            return hit

    def remember(self, result: YearResult) -> None:
        with self._lock:
            self._cache[_key(result.settings)] = result
            self._cache.move_to_end(_key(result.settings))
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def shutdown(self) -> None:
        """Cancel queued runs and ask running ones to stop (at their next 5-day check)."""
        with self._lock:
            self._stop_locked()
            try:
                for key in list(self._live):
                    self._status[key + ":cancel"] = True
            except (OSError, EOFError):
                pass

    def _stop_locked(self) -> None:
        # The manager (progress channel) is kept: a fresh pool reuses it, and at exit
        # multiprocessing's own finalizer stops it after the workers are gone.
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _key(s: Settings) -> tuple:
    return tuple(sorted(vars(s).items()))


def wait(jobs: list[Job], progress: Callable[[float], None], stop: Callable[[], bool], poll: float = 0.5,
         rows: Callable[[Any], None] | None = None) -> list:
    """Wait for every job, reporting overall progress (0-100) in steps of at least 5 points (each
    report re-renders the page for its browser: a room of them adds up), and with ``rows`` the
    first job's newest partial rows; if ``stop()`` turns true, cancel them all and raise Cancelled."""
    total = sum(j.days for j in jobs)
    shown, drawn = -100.0, 0
    while not all(j.future.done() for j in jobs):
        if stop():
            for j in jobs:
                j.cancel()
            raise Cancelled()
        done = 100.0 * sum(j.day for j in jobs) / total
        if done - shown >= 5:
            progress(done)
            shown = done
        if rows is not None:
            got = jobs[0].rows()
            if got is not None and got.shape[0] > drawn:
                rows(got)
                drawn = got.shape[0]
        time.sleep(poll)
    progress(100.0)
    return [j.future.result() for j in jobs]


def run_year(service: RunService, settings: Settings, progress: Callable[[float], None],
             stop: Callable[[], bool], live: Callable[[pd.DataFrame], None] | None = None) -> YearResult:
    """One year of ``settings``: from the cache when someone already ran exactly these settings.
    ``live`` gets the chart columns of the days run so far while it runs (partial_timeseries)."""
    hit = service.cached(settings)
    if hit is not None:
        progress(100.0)
        return replace(hit, seconds=0.0, cached=True)
    names = build_scenario(settings).business_names
    rows = None if live is None else (lambda r: live(partial_timeseries(r, names)))
    [result] = wait([service.submit(settings)], progress, stop, rows=rows)
    service.remember(result)
    return result


def run_comparison(service: RunService, settings: Settings, policies: list[str], replicates: int,
                   progress: Callable[[float], None], stop: Callable[[], bool]) -> Comparison:
    """The focal business under each policy, ``replicates`` runs each on common random numbers (the
    seed of replicate k is shared by every policy, as in sim.compare); the other levers held fixed."""
    seeds = replicate_seeds(settings.seed, replicates)
    arms = [(p, k) for k in range(replicates) for p in policies]
    jobs = [service.submit(settings, policy=p, seed=seeds[k]) for p, k in arms]
    results = wait(jobs, progress, stop)
    frames = []
    for (p, k), res in zip(arms, results):
        ts = res.timeseries.copy()
        ts.insert(0, "replicate", k)
        ts.insert(0, "arm", p)
        frames.append(ts)
    ts = pd.concat(frames, ignore_index=True)
    ts["arm"] = pd.Categorical(ts["arm"], categories=policies)
    sc = build_scenario(settings)
    baseline = "silent" if "silent" in policies else policies[0]  # as sim.compare chooses it
    return Comparison(ts, sc, list(policies), sc.focal, baseline, replicates, settings.seed, ENGINE)


def bands(comparison: Comparison, column: str, cumulative: bool = False) -> pd.DataFrame:
    """Per policy and day: mean, 5th and 95th percentile over replicates of one focal column."""
    ts = comparison.focal[["arm", "replicate", "step", column]].sort_values(["arm", "replicate", "step"])
    if cumulative:
        ts[column] = ts.groupby(["arm", "replicate"], observed=True)[column].cumsum()
    g = ts.groupby(["arm", "step"], observed=True)[column]
    return pd.DataFrame({"mean": g.mean(), "lo": g.quantile(0.05), "hi": g.quantile(0.95)}).reset_index()

