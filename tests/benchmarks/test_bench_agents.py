"""How long the Mesa engine takes per agent-step (one person for one day), at 2,000 and 20,000 people.

Run: make bench (or pytest tests/benchmarks --benchmark-enable --benchmark-only -k agents).
TRUSTSIM_BENCH_SCALE=tiny runs a few days only, so CI can check the benchmark still works.
"""

import os

import pytest

import sim
from sim.agents import TrustModel

TINY = os.environ.get("TRUSTSIM_BENCH_SCALE") == "tiny"
DAYS = 3 if TINY else 60


@pytest.mark.parametrize("people", [2_000, 20_000])
def test_agents_engine_time_per_agent_step(benchmark, people):
    ratio = 10
    sc = sim.load_scenario("default").with_overrides({"population.engaged": round(people / (1 + ratio)),
                                                      "population.observer_ratio": ratio})
    n = sc.population.people

    def year_slice():
        model = TrustModel(sc, rng=1)
        model.run_for(DAYS)
        return model

    model = benchmark.pedantic(year_slice, rounds=1 if TINY else 3, iterations=1)
    assert model.steps == DAYS
    per = benchmark.stats.stats.median / (n * DAYS)
    benchmark.extra_info.update({"people": n, "days": DAYS, "us_per_agent_step": round(per * 1e6, 3)})
    print(f"\nagents engine: {n:,} people x {DAYS} days: {per * 1e6:.2f} us per agent-step")
