"""The dashboard's shared run service: real worker processes, as the server uses them."""

from __future__ import annotations

import os
import signal
import time

import pytest

from dashboards.jobs import Cancelled, RunService, run_year
from dashboards.levers import preset, set_lever

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service():
    s = RunService(workers=1)
    yield s
    s.shutdown()


def never() -> bool:
    return False


def test_a_run_reports_progress_and_gives_its_own_year(service):
    seen = []
    result = run_year(service, preset("default", seed=11), seen.append, never)
    assert seen[-1] == 100.0 and len(seen) >= 2
    assert result.settings.seed == 11 and not result.cached
    assert result.timeseries.step.max() == 365
    again = run_year(service, preset("default", seed=11), seen.append, never)
    assert again.cached and again.timeseries is result.timeseries


def test_a_cancelled_run_stops_and_leaves_nothing_behind(service):
    # A year of 62,000 people (the most observers a participant can set): long enough to be
    # caught running, and stopped at its next 5-day check.
    settings = set_lever(preset("default", seed=12), "observer_ratio", 30)
    job = service.submit(settings)
    deadline = time.monotonic() + 60
    while job.day == 0 and not job.future.done() and time.monotonic() < deadline:
        time.sleep(0.002)
    assert not job.future.done(), "the year ended before it could be cancelled"
    job.cancel()
    with pytest.raises(Cancelled):
        job.future.result(timeout=30)
    deadline = time.monotonic() + 10
    while service._live and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not service._live
    assert dict(service._status) == {}
    assert service.cached(settings) is None
    # and a page that stops waiting cancels its run the same way
    with pytest.raises(Cancelled):
        run_year(service, preset("default", seed=16), lambda p: None, lambda: True)


def test_the_room_keeps_running_after_a_run_process_dies(service):
    run_year(service, preset("default", seed=13), lambda p: None, never)  # the pool is up
    [pid] = list(service._pool._processes)
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    result = run_year(service, preset("default", seed=14), lambda p: None, never)
    assert result.settings.seed == 14


def test_a_running_year_sends_its_curves_as_they_grow(monkeypatch):
    """The worker's partial rows, read as the page reads them, are the final year's own numbers,
    day for day, and arrive while it runs (here at every 5-day check)."""
    from dashboards import jobs
    from dashboards.charts import CHART_COLUMNS

    sent = []

    class Channel(dict):
        def __setitem__(self, key, value):
            if key.endswith(":rows"):
                sent.append(value.shape[0])
            super().__setitem__(key, value)

    monkeypatch.setattr(jobs, "LIVE_EVERY", 0.0)
    monkeypatch.setattr(jobs, "LIVE_AFTER", 0.0)
    status = Channel()
    settings = preset("default", seed=15)
    result = jobs._year(settings, status, "k")
    assert sent[0] == jobs.DAYS_PER_CHECK + 1 and sent[-1] == 366 and sent == sorted(sent)
    names = list(dict.fromkeys(result.timeseries.business))
    partial = jobs.partial_timeseries(status["k:rows"], names)
    final = result.timeseries[["step", "business", *CHART_COLUMNS]].astype({"business": object})
    import pandas as pd

    pd.testing.assert_frame_equal(partial, final.reset_index(drop=True), check_dtype=False, rtol=1e-6)
