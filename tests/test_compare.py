"""Policy comparison: common random numbers, intervals, paired differences, report, CLI."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sim
from sim.compare import OUTCOMES, compare, replicate_seeds
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


def test_verdicts_name_a_winner_per_headline(small_comparison):
    v = small_comparison.verdicts()
    assert set(v.best) <= {"experiential", "silent", "coupon"}
    reach = v[v.outcome == "reach"].iloc[0]
    assert reach.best != "silent" and "leads on reach" in reach.says


def test_report_writes_page_plots_and_data(small_comparison, tmp_path):
    page = write_report(small_comparison, tmp_path / "report")
    html = page.read_text()
    for name in ("trust", "ladder", "witnesses", "money", "accidents"):
        png = tmp_path / "report" / f"{name}.png"
        assert png.stat().st_size > 5000 and f'src="{name}.png"' in html
    for name in ("table.csv", "differences.csv", "verdicts.csv", "outcomes.csv", "timeseries.parquet"):
        assert (tmp_path / "report" / name).exists()
    assert "Who wins on what" in html and "experiential" in html


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
    assert "experiential" in proc.stdout and "broadcast" in proc.stdout and "leads on" in proc.stdout
    assert (tmp_path / "rep" / "index.html").exists()
