"""Fixtures shared by test files: a real Dask cluster (sweeps and calibrations run on it)."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wait_for(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def dask_cluster(tmp_path):
    """A real scheduler and two single-threaded workers on 127.0.0.1 (no nanny, so a SIGKILL is final)."""
    sched_file = tmp_path / "scheduler.json"
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(sched_file)], cwd=ROOT, stdout=open(logs / "scheduler.log", "w"),
            stderr=subprocess.STDOUT))
        wait_for(lambda: sched_file.exists() and sched_file.stat().st_size > 0, 60, "the scheduler file")
        workers = []
        for i in range(2):
            workers.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", "--scheduler-file", str(sched_file), "--host", "127.0.0.1",
                 "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}"], cwd=ROOT,
                stdout=open(logs / f"worker{i}.log", "w"), stderr=subprocess.STDOUT))
            procs.append(workers[-1])
        from distributed import Client

        with Client(scheduler_file=str(sched_file), timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield sched_file, workers
    finally:
        for p in reversed(procs):
            stop(p)
