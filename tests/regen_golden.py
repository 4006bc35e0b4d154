"""Regenerate the golden small run: python -m tests.regen_golden"""

from pathlib import Path

import pandas as pd

import sim

GOLDEN = Path(__file__).parent / "data" / "golden_agents.csv"


def golden_summary(engine: str = "agents") -> pd.DataFrame:
    # Small, and busy enough that every path is on it: intimacy up to L3, coupons redeemed,
    # accidents answered and ignored (test_golden_small_run checks that they happen). At this size
    # someone still at L3 at the end is rare (one seed in 20 with the default intimacy rates), so
    # the focal business answers its regulars first and steps up come easier.
    sc = sim.load_scenario("default").with_overrides(
        {"population.engaged": 300, "population.observer_ratio": 3, "businesses.focal.failure_rate": 0.1,
         "businesses.focal.staff_capacity": 3, "businesses.rival.policy": "coupon",
         "businesses.focal.policy.priority": "regulars_first", "mechanisms.level2": 0.6, "mechanisms.level3": 0.6})
    summary = sim.run(sc, engine=engine, seed=20261122, steps=180).summary()
    summary.index = summary.index.astype(str)
    return summary


if __name__ == "__main__":
    golden_summary().to_csv(GOLDEN)
    print(f"wrote {GOLDEN}")
