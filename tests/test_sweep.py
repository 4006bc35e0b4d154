"""Sweeps: spec checks, seeds, the Parquet store and resume, failures, analysis, and real Dask parts
(a `dask scheduler` with two `dask worker` processes; a `trustsim sweep` driver) killed mid-sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

import sim
from tests.conftest import wait_for as _wait_for
from sim.sweep import load_spec, run_key

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TRUSTSIM = [sys.executable, "-m", "sim"]
KEEP = ["row", "replicate", "key", "businesses.focal.policy", "venues.popular.noise", "trust_all", "customers",
        "profit"]

# A tiny grid: 3 policies x 3 noise levels x 4 replicates = 36 runs of 300 people for 30 days.
TINY = {
    "name": "tiny", "scenario": "default", "design": "grid", "replicates": 4, "steps": 30,
    "engine": "fast", "seed": 11, "outputs": ["trust_all", "customers", "profit"],
    "fixed": {"population.engaged": 300},
    "parameters": {"businesses.focal.policy": {"values": ["experiential", "broadcast", "silent"]},
                   "venues.popular.noise": {"range": [0.2, 0.8], "levels": 3}},
}


def write_spec(path: Path, spec: dict) -> Path:
    path.write_text(tomli_w.dumps(spec))
    return path


def runs_of(out: Path) -> pd.DataFrame:
    files = sorted((out / "runs").glob("*.parquet"))
    df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return df.sort_values(["row", "replicate"]).reset_index(drop=True)


def manifest(out: Path) -> list[dict]:
    records = []
    for line in (out / ".manifest.jsonl").read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line a killed driver left half-written; closed off on resume
            continue
    return records


def assert_complete_and_equal(out: Path, reference: pd.DataFrame, expected_runs: int) -> None:
    """Every run present exactly once (one file per key, one `done` per key) and identical to the serial run."""
    files = sorted(p.stem for p in (out / "runs").glob("*.parquet"))
    assert len(files) == expected_runs == len(set(files))
    assert not list((out / "runs").glob(".*")), "a temp file was left under runs/"
    done = [r["key"] for r in manifest(out) if r["event"] == "done"]
    assert sorted(done) == files, "each finished run is logged done exactly once"
    got = runs_of(out)
    assert got["key"].is_unique
    pd.testing.assert_frame_equal(got[KEEP], reference[KEEP], check_exact=True)


@pytest.fixture(scope="module")
def serial_reference(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("serial") / "sweep"
    report = sim.sweep(TINY, out, executor="serial", progress=False)
    assert report.done == 36 and not report.failed
    return runs_of(out)


# ---- specs ------------------------------------------------------------------------------------

BAD = [
    ({"parameters": {"mechanisms.gain_replies": {"range": [0.0, 0.1]}}}, "mechanisms.gain_replies: unknown key"),
    ({"parameters": {"mechanisms.gain_reply": {"range": [0.2, 0.2]}}}, "is empty"),
    ({"parameters": {"mechanisms.gain_reply": {"values": []}}}, "values is empty"),
    ({"design": "factorial"}, "'factorial' is not a design (allowed: grid, lhs, sobol, morris)"),
    ({"replicate": 3}, "replicate: unknown key"),
    ({"outputs": ["happiness"]}, "'happiness' is not a summary column"),
    ({"parameters": {"mechanisms.gain_reply": {"range": [0.0, 3.0]}}}, "out of range"),
    ({"design": "sobol", "samples": 8}, "a sobol design samples ranges"),
    ({"design": "sobol", "samples": 12, "parameters": {"mechanisms.gain_reply": {"range": [0.0, 0.1]}}},
     "power of 2"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_specs_are_refused_by_load_spec(change, message):
    with pytest.raises(sim.SweepError) as err:
        load_spec({**TINY, **change})
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("change", "message"), BAD[:4:3] + BAD[1:2], ids=["unknown key", "design", "empty range"])
def test_cli_refuses_bad_spec_before_any_run(tmp_path, change, message):
    spec = write_spec(tmp_path / "bad.toml", {**TINY, **change})
    out = tmp_path / "out"
    proc = subprocess.run([*TRUSTSIM, "sweep", str(spec), "--out", str(out), "--workers", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and str(spec) in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists(), "nothing may be created or run for a refused spec"


def test_shipped_experiments_are_valid():
    grid = load_spec(ROOT / "experiments" / "policy_noise_grid.toml")
    assert grid.spec.design == "grid" and len(grid.design) == 4 * 5
    assert set(grid.design["businesses.focal.policy"]) <= set(sim.scenario.policy_names())
    sobol = load_spec(ROOT / "experiments" / "trust_sobol.toml")
    assert sobol.spec.design == "sobol" and len(sobol.design) == 32 * (6 + 2)
    # SALib's Sobol sequence stays inside the declared bounds
    for name, par in sobol.spec.parameters.items():
        col = sobol.design[name]
        assert col.min() >= par.range[0] and col.max() <= par.range[1]


def test_designs_are_reproducible_and_differ_by_seed():
    base = {**TINY, "design": "lhs", "samples": 10, "parameters": {
        "mechanisms.gain_reply": {"range": [0.0, 0.2]}, "population.engaged": {"range": [200, 400], "integer": True}}}
    a, b = load_spec(base).design, load_spec(base).design
    pd.testing.assert_frame_equal(a, b)
    c = load_spec({**base, "seed": 12}).design
    assert not a.equals(c)
    # a Latin hypercube: each of the 10 equal strata of each parameter holds exactly one point
    strata = np.floor((a["mechanisms.gain_reply"] - 0.0) / 0.02).astype(int).clip(0, 9)
    assert sorted(strata) == list(range(10))
    assert a["population.engaged"].dtype == np.int64


# ---- running, storing, resuming -----------------------------------------------------------------

def test_run_seeds_depend_on_key_alone(tmp_path, serial_reference):
    # Run (row 4, replicate 2) rebuilt by hand from the root seed and its key equals the stored one.
    sw = load_spec(TINY)
    row, rep = 4, 2
    sc = sw.base.with_overrides(dict(sw.design.iloc[row]))
    res = sim.run(sc, engine="fast", seed=np.random.SeedSequence(11, spawn_key=(rep,)), steps=30)
    stored = serial_reference.set_index("key").loc[run_key(row, rep)]
    assert res.summary().at["focal", "profit"] == stored["profit"]
    assert res.summary().at["focal", "trust_all"] == stored["trust_all"]
    # replicates differ; and without common random numbers row and replicate both enter the seed
    assert serial_reference.groupby("row")["trust_all"].nunique().min() > 1
    assert sw.seed(0, 1).spawn_key == (1,)
    assert load_spec({**TINY, "common_random_numbers": False}).seed(3, 1).spawn_key == (3, 1)


def test_resume_reruns_only_what_is_missing(tmp_path, serial_reference):
    out = tmp_path / "sweep"
    sim.sweep(TINY, out, executor="serial", progress=False)
    with pytest.raises(sim.SweepError, match="already holds sweep 'tiny'; add --resume"):
        sim.sweep(TINY, out, executor="serial", progress=False)
    with pytest.raises(sim.SweepError, match="holds a different sweep"):
        sim.sweep({**TINY, "seed": 12}, out, executor="serial", progress=False, resume=True)
    # Lose three runs and leave a stale temp file, as a killed driver would.
    lost = [run_key(0, 0), run_key(5, 3), run_key(8, 1)]
    for key in lost:
        (out / "runs" / f"{key}.parquet").unlink()
    (out / "runs" / f".{run_key(0, 0)}.tmp-99999").write_bytes(b"half a file")
    before = len(manifest(out))
    report = sim.sweep(TINY, out, executor="serial", progress=False, resume=True)
    assert (report.done, report.skipped, report.failed) == (36, 33, {})
    rerun = [r["key"] for r in manifest(out)[before:] if r["event"] == "done"]
    assert sorted(rerun) == sorted(lost)
    got = runs_of(out)
    pd.testing.assert_frame_equal(got[KEEP], serial_reference[KEEP], check_exact=True)
    assert not list((out / "runs").glob(".*"))
    # pandas reads the folder directly; the hidden manifest and temp names stay out of it
    assert len(pd.read_parquet(out / "runs")) == 36


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path):
    # Row 1 asks for a population that passes the schema but cannot fit in memory: run() refuses it
    # on the worker, every attempt. The other rows must finish.
    spec = {**TINY, "replicates": 2, "retries": 1,
            "parameters": {"population.engaged": {"values": [300, 100_000_000, 310]}}}
    out = tmp_path / "sweep"
    report = sim.sweep(spec, out, executor="serial", progress=False)
    assert report.done == 4
    assert sorted(report.failed) == [run_key(1, 0), run_key(1, 1)]
    assert all("GiB" in m and m.startswith("ScenarioError") for m in report.failed.values())
    log = manifest(out)
    assert [r["key"] for r in log if r["event"] == "retry"] == [run_key(1, 0), run_key(1, 1)]
    failed = [r for r in log if r["event"] == "failed"]
    assert {r["key"] for r in failed} == set(report.failed) and all(r["attempt"] == 1 for r in failed)
    assert sorted(p.stem for p in (out / "runs").glob("*.parquet")) == [
        run_key(0, 0), run_key(0, 1), run_key(2, 0), run_key(2, 1)]
    # analyze works on what finished and says what is missing
    result = __import__("sim.analyze", fromlist=["analyze"]).analyze(out)
    assert result.missing_rows == [1] and result.failed == 2


# ---- analysis ---------------------------------------------------------------------------------

def test_sobol_sweep_and_analyze(tmp_path):
    spec = {**TINY, "design": "sobol", "samples": 8, "replicates": 1, "steps": 40,
            "parameters": {"mechanisms.trust_halflife": {"range": [20.0, 365.0]},
                           "mechanisms.reading_budget": {"range": [0.5, 20.0]},
                           "mechanisms.recovery_bonus": {"range": [0.0, 0.4]}}}
    out = tmp_path / "sobol"
    report = sim.sweep(spec, out, executor="serial", progress=False)
    assert report.done == 8 * (3 + 2)
    proc = subprocess.run([*TRUSTSIM, "analyze", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "sobol sensitivity indices" in proc.stdout and "mechanisms.trust_halflife" in proc.stdout
    idx = pd.read_csv(out / "sensitivity.csv")
    assert list(idx.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(idx) == 3 * 3
    trust = idx[idx.output == "trust_all"].set_index("parameter")
    assert np.isfinite(trust[["S1", "ST", "S1_conf", "ST_conf"]].to_numpy()).all()
    assert (trust["ST_conf"] >= 0).all()
    # trust decays with its half-life, so the half-life carries a real share of the variance of final
    # trust; the recovery bonus hardly matters in 40 days of a small market.
    assert trust.at["mechanisms.trust_halflife", "ST"] > trust.at["mechanisms.recovery_bonus", "ST"]
    assert (out / "sensitivity.png").stat().st_size > 10_000


def test_grid_analyze_writes_bands(tmp_path, serial_reference):
    out = tmp_path / "sweep"
    sim.sweep(TINY, out, executor="serial", progress=False)
    proc = subprocess.run([*TRUSTSIM, "analyze", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = pd.read_csv(out / "rows.csv")
    assert len(rows) == 9 and (rows["profit_n"] == 4).all()
    assert (rows["profit_lo"] <= rows["profit_mean"]).all() and (rows["profit_mean"] <= rows["profit_hi"]).all()
    mean0 = serial_reference[serial_reference.row == 0]["profit"].mean()
    assert rows.loc[rows.row == 0, "profit_mean"].item() == pytest.approx(mean0)
    assert (out / "outcomes.png").stat().st_size > 10_000
    bad = subprocess.run([*TRUSTSIM, "analyze", str(tmp_path / "nothing")], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "not a sweep folder" in bad.stderr


# ---- real processes killed mid-sweep ------------------------------------------------------------

def _workers_done(out: Path) -> int:
    path = out / ".manifest.jsonl"
    if not path.exists():
        return 0
    done = [json.loads(line) for line in path.read_text().splitlines() if '"event": "done"' in line]
    return len({r.get("worker") for r in done} - {None})


def _done_count(out: Path) -> int:
    path = out / ".manifest.jsonl"
    if not path.exists():
        return 0
    return sum('"event": "done"' in line for line in path.read_text().splitlines())


def test_dask_cluster_survives_a_killed_worker(tmp_path, dask_cluster, serial_reference):
    sched_file, workers = dask_cluster
    out = tmp_path / "sweep"
    box: dict = {}

    def drive():
        try:
            box["report"] = sim.sweep(TINY, out, executor=str(sched_file), progress=False)
        except BaseException as exc:  # surfaced by the assertion below
            box["error"] = exc

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    # both workers have finished a run first (on a loaded machine one may start late)
    _wait_for(lambda: _workers_done(out) == 2, 90, "a finished run on each worker")
    from distributed import Client

    with Client(scheduler_file=str(sched_file), timeout="30s") as client:
        addr = next(a for a, w in client.scheduler_info()["workers"].items() if w["name"] == "w0")
        # Kill w0 while it holds a run, so that run has to be rescheduled on w1.
        _wait_for(lambda: bool(client.processing().get(addr)), 30, "a run in flight on w0")
        workers[0].send_signal(signal.SIGKILL)
    workers[0].wait(10)
    driver.join(120)
    assert not driver.is_alive(), "the sweep did not finish after a worker was killed"
    assert "error" not in box, box.get("error")
    report = box["report"]
    assert report.done == 36 and not report.failed
    assert_complete_and_equal(out, serial_reference, 36)
    # both workers took part before one was killed; the survivor did the rest
    assert runs_of(out)["worker"].nunique() == 2


def test_killed_driver_resumes(tmp_path, serial_reference):
    spec = write_spec(tmp_path / "tiny.toml", TINY)
    out = tmp_path / "sweep"
    cmd = [*TRUSTSIM, "sweep", str(spec), "--out", str(out)]
    # A session of its own, so the LocalCluster processes the killed driver leaves behind can be ended too.
    driver = subprocess.Popen([*cmd, "--workers", "2"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: _done_count(out) >= 5, 90, "the first finished runs")
        driver.send_signal(signal.SIGKILL)
        driver.wait(10)
    finally:
        try:
            os.killpg(driver.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        driver.wait(10)
    finished = len(list((out / "runs").glob("*.parquet")))
    assert 5 <= finished < 36, "the driver should have died mid-sweep"
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "add --resume" in again.stderr
    resumed = subprocess.run([*cmd, "--resume", "--workers", "1"], cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"({finished} before this call), 0 failed" in resumed.stdout
    assert_complete_and_equal(out, serial_reference, 36)



PLAIN = {"name": "plain", "scenario": "default", "design": "grid", "replicates": 2, "steps": 10, "engine": "fast",
         "seed": 11, "outputs": ["trust_all", "profit"], "fixed": {"population.engaged": 100},
         "parameters": {"businesses.focal.policy": {"values": ["experiential", "silent"]}}}
PLAIN_SCRIPT = f"""
import sim
r = sim.sweep({PLAIN!r}, "out", workers=2, progress=False)
print(r.done, r.failed)
"""


@pytest.mark.parametrize("how", ["file", "stdin", "module"])
def test_sweep_on_a_local_cluster_runs_from_a_script_without_a_main_guard(tmp_path, how):
    """Issue 13: sim.sweep starts a dask LocalCluster (worker processes) from a plain script, from
    standard input and with -m, with no `if __name__ == "__main__":`; its runs are those of an
    in-process sweep of the same spec (before: "Nanny failed to start")."""
    from sim.sweep import load_sweep

    (tmp_path / "plain.py").write_text(PLAIN_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = {"file": [sys.executable, "plain.py"], "stdin": [sys.executable, "-"],
            "module": [sys.executable, "-m", "plain"]}[how]
    proc = subprocess.run(args, input=PLAIN_SCRIPT if how == "stdin" else None, capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "4 {}"
    sim.sweep(PLAIN, tmp_path / "here", executor="serial", progress=False)
    cols = ["row", "replicate", "trust_all", "profit"]
    there, here = (load_sweep(tmp_path / d)[2][cols] for d in ("out", "here"))
    pd.testing.assert_frame_equal(there, here)
