"""The dashboard's shared run service: real worker processes, as the server uses them."""

from __future__ import annotations

import os
import signal
import time

import pytest

from dashboards.jobs import Cancelled, RunService, run_year
from dashboards.levers import preset

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
    assert set(result.charts) == {"trust", "intimacy", "witnesses", "customers", "profit"}
    assert result.timeseries.step.max() == 365
    again = run_year(service, preset("default", seed=11), seen.append, never)
    assert again.cached and again.timeseries is result.timeseries


def test_a_cancelled_run_stops_and_leaves_nothing_behind(service):
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        run_year(service, preset("default", seed=12), lambda p: None, lambda: time.monotonic() - t0 > 0.5)
    deadline = time.monotonic() + 10
    while service._live and time.monotonic() < deadline:  # the worker stops at its next 5-day check
        time.sleep(0.1)
    assert not service._live
    assert dict(service._status) == {}
    assert service.cached(preset("default", seed=12)) is None


def test_the_room_keeps_running_after_a_run_process_dies(service):
    run_year(service, preset("default", seed=13), lambda p: None, never)  # the pool is up
    [pid] = list(service._pool._processes)
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    result = run_year(service, preset("default", seed=14), lambda p: None, never)
    assert result.settings.seed == 14
