"""Engine benchmarks: Mesa vs vector per agent-step, the vector engine at scale, memory.

Run: ``pytest tests/benchmarks --benchmark-enable --benchmark-only``. Sizes come from
TRUSTSIM_BENCH_SCALE: ``tiny`` (CI: seconds, so the benchmarks cannot rot), ``quick`` (1M people
for a year, 10M for 20 days: minutes), ``full`` (the targets: 1M and 10M people for 365 days). With
TRUSTSIM_BENCH_REPORT=FILE the measured table is also written there as Markdown.

Big runs go to a fresh subprocess each, so their peak memory (ru_maxrss) is their own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import sim

SCALE = os.environ.get("TRUSTSIM_BENCH_SCALE", "full")
SIZES = {
    # people in the Mesa-vs-vector comparison, Mesa steps, vector steps; big runs (people, steps)
    "tiny": {"compare": (2_200, 3, 30), "big": [(55_000, 30), (220_000, 10)]},
    # the targets' sizes, but 10M people for 20 days only (a full year takes tens of minutes)
    "quick": {"compare": (20_000, 5, 100), "big": [(1_000_000, 365), (10_000_000, 20)]},
    "full": {"compare": (20_000, 5, 100), "big": [(1_000_000, 365), (10_000_000, 365)]},
}[SCALE]


def scenario(people: int) -> sim.Scenario:
    """The default scenario (observer_ratio 10) with about ``people`` people."""
    return sim.load_scenario("default").with_overrides({"population.engaged": max(1, round(people / 11))})


def bandwidth_probe() -> float:
    """Plain numpy copy bandwidth (GB/s, read + write) in this session, to read timings against."""
    a = np.ones(10_000_000)
    b = np.empty_like(a)
    np.copyto(b, a)
    best = min(_timed(lambda: np.copyto(b, a)) for _ in range(5))
    return 2 * a.nbytes / best / 1e9


def _timed(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def state_bytes_per_person(people: int) -> float:
    """Bytes of vector-engine state per person and business (what BYTES_PER_PERSON means)."""
    from sim.vector.run import streams_for
    from sim.vector.state import VectorState
    from sim.world import build_world

    sc = scenario(people)
    st = VectorState.from_world(build_world(sc, streams_for(0)), sc.steps)
    arrays = [st.cls, st.supplier, st.vmask, st.trust.value, st.trust.last, st.level, st.contacts, st.accidents,
              st.recoveries, st.ignored, st.departures, st.aggrieved, st.seen_day, *st.members, st.tally.mark,
              st.tally.slot]
    return sum(a.nbytes for a in arrays) / st.n / st.nb


CHILD = """
import json, resource, sys, time
import sim
from sim.vector.run import run_state
sc = sim.load_scenario("default").with_overrides({"population.engaged": %d})
t = time.perf_counter()
st, ts = run_state(sc, 0, %d)
wall = time.perf_counter() - t
print(json.dumps({"people": sc.population.people, "wall": wall,
                  "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def run_child(people: int, steps: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD % (max(1, round(people / 11)), steps)], check=True,
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_bandwidth_probe(benchmark, bench_rows):
    gbs = benchmark.pedantic(bandwidth_probe, rounds=1, iterations=1)
    benchmark.extra_info["copy_GB_per_s"] = gbs
    bench_rows.append({"what": "numpy copy bandwidth (10M float64)", "value": f"{gbs:.1f} GB/s"})


def stepper(engine: str, sc: sim.Scenario, steps: int):
    """A built model and a function that runs ``steps`` days of it (with each day's accounts),
    so that timing leaves out building the world and the result tables."""
    if engine == "agents":
        from sim.agents import TrustModel

        model = TrustModel(sc, rng=0, steps=steps)
        return lambda: [model.step() for _ in range(steps)]
    from sim.vector.account import account
    from sim.vector.engine import step
    from sim.vector.run import streams_for
    from sim.vector.state import VectorState
    from sim.world import build_world

    streams = streams_for(0)
    st = VectorState.from_world(build_world(sc, streams), steps)
    return lambda: [(step(st, streams), account(st)) for _ in range(steps)]


@pytest.mark.parametrize("engine", ["agents", "vector"])
def test_engine_per_agent_step(benchmark, bench_rows, engine):
    people, mesa_steps, vector_steps = SIZES["compare"]
    steps = mesa_steps if engine == "agents" else vector_steps
    sc = scenario(people)
    benchmark.pedantic(lambda run: run(), setup=lambda: ((stepper(engine, sc, steps),), {}), rounds=1, iterations=1)
    ns = benchmark.stats.stats.mean / (sc.population.people * steps) * 1e9
    benchmark.extra_info.update({"people": sc.population.people, "steps": steps, "ns_per_person_step": ns})
    bench_rows.append({"what": f"{engine} engine, {sc.population.people:,} people x {steps} steps (stepping only)",
                       "value": f"{ns:,.0f} ns per person-step", "ns": ns, "engine": engine})


@pytest.mark.parametrize("people,steps", SIZES["big"], ids=[f"{p}x{s}" for p, s in SIZES["big"]])
def test_vector_at_scale(benchmark, bench_rows, people, steps):
    out = benchmark.pedantic(run_child, args=(people, steps), rounds=1, iterations=1)
    ns = out["wall"] / (out["people"] * steps) * 1e9
    benchmark.extra_info.update({**out, "ns_per_person_step": ns})
    bench_rows.append({"what": f"vector engine, {out['people']:,} people x {steps} steps",
                 "value": f"{out['wall']:.1f} s, peak RSS {out['maxrss'] / 2**30:.2f} GiB, {ns:.1f} ns per person-step"})


def test_state_bytes(benchmark, bench_rows):
    people = SIZES["big"][0][0]
    b = benchmark.pedantic(state_bytes_per_person, args=(people,), rounds=1, iterations=1)
    benchmark.extra_info["bytes_per_person_business"] = b
    bench_rows.append({"what": "vector state per person and business", "value": f"{b:.1f} bytes"})
