"""Sweep throughput: runs per minute on this machine with 1 and 2 local Dask worker processes.

Run: ``pytest tests/benchmarks/test_bench_sweep.py --benchmark-enable --benchmark-only``.
TRUSTSIM_BENCH_SCALE=tiny (CI) sweeps 8 runs of 300 engaged customers for 30 days, so the benchmark
cannot rot; ``quick``/``full`` sweep 40 runs of 1,000 engaged customers (11,000 people) for 180 days.
Two rates are kept: the wall clock of the whole call (cluster start included: what a user waits) and
the steady rate between the first and the last finished run, read from the manifest's timestamps.
"""

from __future__ import annotations

import json
import os

import pytest

import sim

SCALE = os.environ.get("TRUSTSIM_BENCH_SCALE", "full")
RUNS, ENGAGED, STEPS = {"tiny": (8, 300, 30), "quick": (40, 1_000, 180), "full": (40, 1_000, 180)}[SCALE]


def spec() -> dict:
    return {"name": f"bench-{SCALE}", "scenario": "default", "design": "grid", "replicates": RUNS // 4,
            "steps": STEPS, "engine": "fast", "seed": 0, "outputs": ["trust_all", "profit"],
            "fixed": {"population.engaged": ENGAGED},
            "parameters": {"businesses.focal.policy": {"values": ["experiential", "broadcast", "coupon", "silent"]}}}


@pytest.mark.parametrize("workers", [1, 2])
def test_sweep_runs_per_minute(benchmark, bench_rows, tmp_path_factory, workers):
    outs = []

    def one_sweep():
        out = tmp_path_factory.mktemp(f"bench-w{workers}") / "sweep"
        outs.append(out)
        return sim.sweep(spec(), out, executor="local", workers=workers, progress=False)

    report = benchmark.pedantic(one_sweep, rounds=1, iterations=1)
    assert report.done == RUNS and not report.failed
    wall = benchmark.stats.stats.mean
    times = [json.loads(line)["time"] for line in (outs[-1] / ".manifest.jsonl").read_text().splitlines()
             if '"event": "done"' in line]
    steady = (len(times) - 1) / (max(times) - min(times)) * 60 if len(times) > 1 and max(times) > min(times) else None
    benchmark.extra_info.update({"runs": RUNS, "workers": workers, "runs_per_minute_wall": RUNS / wall * 60,
                                 "runs_per_minute_steady": steady})
    what = f"sweep, {workers} worker(s), {RUNS} runs of {ENGAGED * 11:,} people x {STEPS} days"
    bench_rows.append({"what": f"{what}: runs/min incl. cluster start", "value": f"{RUNS / wall * 60:.0f}"})
    if steady is not None:
        bench_rows.append({"what": f"{what}: runs/min steady", "value": f"{steady:.0f}"})
