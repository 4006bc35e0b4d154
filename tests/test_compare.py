"""Policy comparison: common random numbers, intervals, paired differences, report, CLI."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.compare import MATERIAL, OUTCOMES, compare, replicate_seeds
from sim.report import write_report


@pytest.fixture(scope="module")
def small_comparison():
    sc = sim.load_scenario("default").with_overrides({"population.engaged": 120, "steps": 40})
    return compare(sc, ["experiential", "silent", "coupon"], replicates=3, seed=5, engine="agents", workers=2,
                   progress=False)


def test_replicate_k_of_every_policy_starts_from_the_same_world(small_comparison):
    start = small_comparison.timeseries
    start = start[start.step == 0].set_index(["replicate", "business", "arm"])[["trust_all", "customers"]]
    for k in range(3):
        rows = start.loc[k]
        for business in ("focal", "rival"):
            assert rows.loc[business].nunique().max() == 1  # same initial trust and customers in every arm


def test_replicates_differ_and_seeds_rebuild_from_root_and_index():
    seeds = replicate_seeds(5, 3)
    assert seeds[2].spawn_key == (2,) and seeds[2].entropy == 5
    sc = sim.load_scenario("default").with_overrides({"population.engaged": 80})
    a = sim.run(sc, seed=seeds[0], steps=5).timeseries
    b = sim.run(sc, seed=np.random.SeedSequence(5, spawn_key=(0,)), steps=5).timeseries
    c = sim.run(sc, seed=seeds[1], steps=5).timeseries
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_outcomes_table_and_paired_differences(small_comparison):
    c = small_comparison
    out = c.outcomes()
    assert len(out) == 9 and set(OUTCOMES) <= set(out.columns)
    t = c.table()
    assert list(t.index) == ["experiential", "silent", "coupon"]
    assert (t[("profit", "lo")] <= t[("profit", "mean")]).all() and (t[("profit", "mean")] <= t[("profit", "hi")]).all()
    d = c.differences()
    assert c.baseline == "silent"  # doing nothing is the baseline when it is compared
    assert set(d.policy) == {"experiential", "coupon"}
    # a paired difference is the mean of per-replicate differences against the baseline
    o = out.set_index(["arm", "replicate"])
    expected = (o.loc["experiential", "replies"] - o.loc["silent", "replies"]).mean()
    got = d[(d.policy == "experiential") & (d.outcome == "replies")].difference.item()
    assert got == pytest.approx(expected) and got > 0  # silent never replies
    assert d[(d.policy == "experiential") & (d.outcome == "replies")].clear.item()


def test_verdicts_answer_each_goal_in_words(small_comparison):
    v = small_comparison.verdicts().set_index("goal")
    assert set(v.best) <= {"experiential", "silent", "coupon"}
    assert {"Trust", "Intimacy", "Customers", "Profit", "Return on engagement"} == set(v.index)
    trust = v.loc["Trust"]
    assert trust.best == "experiential" and trust.says.startswith("Trust: experiential does best")
    assert "against doing nothing (silent)" in trust.says and "on a scale from 0" in trust.says
    # "clearly" only when the paired interval excludes zero and the lead is material
    for _, row in v.iterrows():
        excludes_zero = row.lead_lo > 0 or row.lead_hi < 0
        material = abs(row.lead) >= MATERIAL * abs(row.runner_up_value)
        assert row.clear == (excludes_zero and material)
        assert ("not clearly ahead" in row.says) != row.clear
        assert row.best != row.runner_up


def test_extra_profit_per_cost_is_against_the_baseline_on_the_same_replicate(small_comparison):
    o = small_comparison.outcomes().set_index(["arm", "replicate"])
    extra = (o.loc["coupon", "profit"] - o.loc["silent", "profit"]) / o.loc["coupon", "engagement_cost"]
    assert np.allclose(o.loc["coupon", "extra_profit_per_cost"], extra)
    assert o.loc["silent", "extra_profit_per_cost"].isna().all()  # nothing spent, nothing to return


def test_a_policy_is_never_ranked_against_itself(tmp_path):
    c = compare("default", ["silent", "coupon"], replicates=2, seed=1, engine="fast", steps=20, workers=1,
                progress=False)
    v = c.verdicts()
    assert (v.best != v.runner_up).all()
    assert "Return on engagement" not in set(v.goal)  # only one policy spends anything


def test_report_writes_page_plots_and_data(small_comparison, tmp_path):
    page = write_report(small_comparison, tmp_path / "report")
    html = page.read_text()
    for name in ("trust", "ladder", "witnesses", "money", "accidents"):
        png = tmp_path / "report" / f"{name}.png"
        assert png.stat().st_size > 5000 and f'src="{name}.png"' in html
    for name in ("table.csv", "differences.csv", "verdicts.csv", "outcomes.csv", "timeseries.parquet"):
        assert (tmp_path / "report" / name).exists()
    assert "The answer, goal by goal" in html and "experiential" in html and "What the measures mean" in html
    assert html.index("The answer, goal by goal") < html.index("Means per policy")  # the answer comes first
    assert 'name="viewport"' in html and "overflow-x:auto" in html  # readable on a phone, tables scroll


def test_unknown_policy_is_refused_before_running(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim", "compare", "default", "--policies", "experiential,nosuch",
                           "--replicates", "2", "--engine", "agents"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "nosuch" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_compare_cli_prints_table_and_writes_report(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim", "compare", "default", "--policies", "experiential,broadcast",
                           "--replicates", "2", "--engine", "agents", "--steps", "10", "--set",
                           "population.engaged=60", "--report", str(tmp_path / "rep")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "experiential" in proc.stdout and "broadcast" in proc.stdout and "The answer, goal by goal" in proc.stdout and "does best" in proc.stdout
    assert (tmp_path / "rep" / "index.html").exists()


SCRIPT = """import sim
sc = sim.load_scenario("default").with_overrides({"population.engaged": 100})
c = sim.compare(sc, policies=["experiential", "broadcast"], replicates=2, seed=3, steps=10, workers=2,
                progress=False, engine="fast")
print(c.outcomes().profit.round(6).tolist())
"""


@pytest.mark.parametrize("how", ["file", "stdin", "module"])
def test_compare_runs_from_a_script_without_a_main_guard(tmp_path, how):
    """Issue 13: the three-line script, with worker processes and no `if __name__ == "__main__":`,
    run as a file, from standard input and with -m, gives the in-process results (workers=1)."""
    (tmp_path / "plain.py").write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    args = {"file": [sys.executable, "plain.py"], "stdin": [sys.executable, "-"],
            "module": [sys.executable, "-m", "plain"]}[how]
    proc = subprocess.run(args, input=SCRIPT if how == "stdin" else None, capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    here = compare(sim.load_scenario("default").with_overrides({"population.engaged": 100}),
                   policies=["experiential", "broadcast"], replicates=2, seed=3, steps=10, workers=1,
                   progress=False, engine="fast")
    assert proc.stdout.strip().splitlines()[-1] == str(here.outcomes().profit.round(6).tolist())


def test_a_baseline_that_engages_is_not_called_unprofitable_engagement():
    """With no 'silent' among the policies the first is the baseline; when it earns most, the
    answer must not say engaging does not pay (it is itself an engagement policy)."""
    c = sim.compare("default", ["experiential", "coupon"], replicates=3, seed=2, engine="fast", workers=1,
                    progress=False)
    assert c.baseline == "experiential"
    row = c.verdicts().set_index("goal").loc["Profit"]
    assert row.best == "experiential", row.says  # 893,618 vs 815,812 in docs/ODD.md's measurements
    assert "no policy compared here earns more than experiential" in row.says
    assert "engaging costs more" not in row.says
