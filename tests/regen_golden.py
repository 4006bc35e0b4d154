"""Regenerate the golden small run: python -m tests.regen_golden"""

from pathlib import Path

import pandas as pd

import sim

GOLDEN = Path(__file__).parent / "data" / "golden_agents.csv"


def golden_summary(engine: str = "agents") -> pd.DataFrame:
    sc = sim.load_scenario("default").with_overrides(
        {"population.engaged": 120, "population.observer_ratio": 5, "businesses.focal.failure_rate": 0.1})
    summary = sim.run(sc, engine=engine, seed=20261122, steps=45).summary()
    summary.index = summary.index.astype(str)
    return summary


if __name__ == "__main__":
    golden_summary().to_csv(GOLDEN)
    print(f"wrote {GOLDEN}")
