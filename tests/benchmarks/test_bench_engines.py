"""Engine benchmarks: the compiled engine against the Mesa engine and against memory bandwidth.

Run: ``make bench`` (or ``pytest tests/benchmarks/test_bench_engines.py --benchmark-enable
--benchmark-only -s``). Sizes come from TRUSTSIM_BENCH_SCALE: ``tiny`` (CI: seconds, so the
benchmarks cannot rot), ``quick`` (the targets' sizes, 10M people for 30 days), ``full`` (the
targets: 1M and 10M people for a year from the command line). With TRUSTSIM_BENCH_REPORT=FILE the
measured table is also written there as Markdown (docs/benchmarks.md is such a table).

Ratios are taken within one run on this noisy, shared 2-core machine: the compiled engine
against the Mesa engine on the same scenario, and big runs against the time numpy needs to stream
64 bytes per person per day (one 8M-float64 copy per day for 1M people) measured in the same run.
Big runs go to a fresh ``trustsim run`` subprocess each, so their wall time includes starting
Python, loading the compiled kernels, building the world and writing the results, and their
peak memory (the child's ru_maxrss) is their own.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import sim

SCALE = os.environ.get("TRUSTSIM_BENCH_SCALE", "full")
SIZES = {
    # Mesa vs compiled: (people, days); big runs from the CLI: (people, days)
    "tiny": {"compare": (2_200, 5), "big": [(55_000, 30), (220_000, 10)], "probe_days": 10},
    "quick": {"compare": (22_000, 30), "big": [(1_000_000, 365), (10_000_000, 30)], "probe_days": 365},
    "full": {"compare": (22_000, 30), "big": [(1_000_000, 365), (10_000_000, 365)], "probe_days": 365},
}[SCALE]
ROOT = Path(__file__).resolve().parents[2]


def scenario(people: int) -> sim.Scenario:
    """The default scenario (observer_ratio 10) with about ``people`` people."""
    return sim.load_scenario("default").with_overrides({"population.engaged": max(1, round(people / 11))})


def stream_probe(people: int = 1_000_000, days: int = 365) -> float:
    """Seconds numpy needs to stream 64 bytes per person per day: copy a people x 64-byte array
    once per day (read + write), the floor an engine touching every person daily cannot beat."""
    a = np.ones(people * 8)
    b = np.empty_like(a)
    np.copyto(b, a)
    started = time.perf_counter()
    for _ in range(days):
        np.copyto(b, a)
    return time.perf_counter() - started


def test_stream_probe(benchmark, bench_rows):
    seconds = benchmark.pedantic(stream_probe, kwargs={"days": SIZES["probe_days"]}, rounds=1, iterations=1)
    per_year = seconds * 365 / SIZES["probe_days"]
    benchmark.extra_info["seconds_per_year"] = per_year
    bench_rows.append({"what": "numpy: stream 64 bytes per person per day, 1,000,000 people x 365 days",
                       "value": f"{per_year:.2f} s", "probe": per_year})


def _stepper(engine: str, sc: sim.Scenario, days: int):
    """A built model and a function that runs ``days`` days of it with each day's accounts, so
    that timing leaves out building the world, compiling and the result tables."""
    if engine == "agents":
        from sim.agents import TrustModel

        model = TrustModel(sc, rng=0, steps=days)
        return lambda: [model.step() for _ in range(days)]
    from sim.fast import FastModel

    FastModel(sc, 0, 1).advance(1)  # kernels loaded (or compiled) outside the timing
    model = FastModel(sc, 0, days, threads=1)
    return lambda: model.advance(days)


@pytest.mark.parametrize("engine", ["agents", "fast"])
def test_engine_per_person_day(benchmark, bench_rows, engine):
    people, days = SIZES["compare"]
    sc = scenario(people)
    benchmark.pedantic(lambda run: run(), setup=lambda: ((_stepper(engine, sc, days),), {}),
                       rounds=1 if SCALE == "tiny" else 5, iterations=1)  # the best of 5 for both engines
    ns = benchmark.stats.stats.min / (sc.population.people * days) * 1e9
    benchmark.extra_info.update({"people": sc.population.people, "days": days, "ns_per_person_day": ns})
    bench_rows.append({"what": f"{engine} engine, {sc.population.people:,} people x {days} days (stepping only, "
                               "one thread)", "value": f"{ns:,.1f} ns per person-day", "ns": ns, "engine": engine})


def cli_run(people: int, days: int) -> dict:
    """``trustsim run`` in a fresh process: wall seconds and the child's peak memory."""
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "run", "default", "--engine", "fast", "--steps", str(days),
                        "--set", f"population.engaged={max(1, round(people / 11))}", "--out", out],
                       check=True, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: grows monotonically, so each run is measured
    # after smaller ones (SIZES lists them in increasing size)
    return {"wall": wall, "maxrss": max(peak, before) * 1024, "people": scenario(people).population.people}


@pytest.mark.parametrize("people,days", SIZES["big"], ids=[f"{p}x{d}" for p, d in SIZES["big"]])
def test_cli_year_at_scale(benchmark, bench_rows, people, days):
    out = benchmark.pedantic(cli_run, args=(people, days), rounds=1, iterations=1)
    benchmark.extra_info.update(out)
    bench_rows.append({"what": f"`trustsim run` fast engine, {out['people']:,} people x {days} days (whole command)",
                       "value": f"{out['wall']:.1f} s, peak RSS {out['maxrss'] / 2**30:.2f} GiB",
                       "wall": out["wall"], "people": out["people"], "days": days})


COMPILE = """
import sys, time
t = time.perf_counter()
import sim
from sim.fast import run_fast
sc = sim.load_scenario("default").with_overrides({"population.engaged": 50})
run_fast(sc, 0, 2)
print(time.perf_counter() - t)
"""


def test_compile_first_and_cached(benchmark, bench_rows, tmp_path):
    """The first run on a machine compiles the kernels; every later process loads them. At tiny
    scale (CI) both runs load the machine's cache: the compile itself is the same (48-83 s
    here) whatever the scale, and CI has already paid it at install."""
    env = os.environ if SCALE == "tiny" else {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}

    def twice():
        return [float(subprocess.run([sys.executable, "-c", COMPILE], check=True, capture_output=True, text=True,
                                     env=env, cwd=ROOT).stdout) for _ in range(2)]

    first, cached = benchmark.pedantic(twice, rounds=1, iterations=1)
    benchmark.extra_info.update({"first": first, "cached": cached})
    bench_rows.append({"what": "import, compile or load the kernels, and a 2-day run of 550 people (new process)",
                       "value": f"first {first:.1f} s, cached {cached:.2f} s"})


def test_state_bytes(benchmark, bench_rows):
    from sim.state import state_bytes

    b = benchmark.pedantic(lambda: state_bytes(1_000_000, 2, 2) / 2_000_000, rounds=1, iterations=1)
    bench_rows.append({"what": "state per person and business (sim/state.py, 2 businesses)", "value": f"{b:.1f} bytes"})
