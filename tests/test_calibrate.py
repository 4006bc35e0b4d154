"""Calibration (sim.calibrate, `trustsim calibrate`): it recovers a parameter a run was made with,
resumes from its stored study, refuses bad specs before running, and writes what it promises."""

from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

import sim
from sim.calibrate import CalibrationError, calibrate, load_spec, open_study, run_calibration
from sim.trials import STORAGE
from sim.scenario import load_scenario
from tests.test_cli import ROOT, assert_refused, trustsim

SMALL = {"population.engaged": 400, "steps": 90}
TRUE_GAIN = 0.15


@pytest.fixture(scope="module")
def small():
    return load_scenario("default").with_overrides(SMALL)


@pytest.fixture(scope="module")
def truth(small):
    """What the model says with gain_reply = TRUE_GAIN on the replicates' own seeds (replicate k of
    a calibration runs on SeedSequence(seed, spawn_key=(k,)))."""
    sc = small.with_overrides({"mechanisms.gain_reply": TRUE_GAIN})
    runs = [sim.run(sc, engine="fast", seed=np.random.SeedSequence(0, spawn_key=(k,)), progress=False).summary()
            for k in range(2)]
    return {c: float(np.mean([r.at["focal", c] for r in runs])) for c in ("trust_engaged", "trust_observers")}


def targets_of(truth):
    return {c: {"value": v, "tolerance": 0.02 * v} for c, v in truth.items()}


def test_recovers_a_known_parameter(small, truth):
    """Targets simulated at gain_reply = 0.15; a search over 0.02-0.3 finds it again."""
    cal = calibrate(small, {"mechanisms.gain_reply": (0.02, 0.3)}, targets_of(truth), trials=25, replicates=2,
                    seed=0, executor="serial", progress=False)
    assert abs(cal.best["mechanisms.gain_reply"] - TRUE_GAIN) < 0.015, cal.best
    assert cal.fit().met.all()
    assert cal.scenario.mechanisms.gain_reply == cal.best["mechanisms.gain_reply"]
    # the trials the search ran far from the truth miss by much more than the best one
    far = cal.trials[(cal.trials["mechanisms.gain_reply"] - TRUE_GAIN).abs() > 0.08]
    assert len(far) and far.loss.min() > 20 * cal.trials.loss.min()


def test_resumes_and_grows_from_its_storage(small, truth, tmp_path):
    store = tmp_path / "study.journal"
    args = dict(replicates=1, seed=3, executor="serial", progress=False, storage=store)
    first = calibrate(small, {"mechanisms.gain_reply": (0.02, 0.3)}, targets_of(truth), trials=3, **args)
    more = calibrate(small, {"mechanisms.gain_reply": (0.02, 0.3)}, targets_of(truth), trials=5, **args)
    assert len(first.trials) == 3 and len(more.trials) == 5
    assert more.trials.head(3)[["number", "mechanisms.gain_reply", "loss"]].equals(
        first.trials[["number", "mechanisms.gain_reply", "loss"]])
    with pytest.raises(CalibrationError, match="holds a different search"):
        calibrate(small, {"mechanisms.gain_reply": (0.02, 0.2)}, targets_of(truth), trials=6, **args)


def test_a_resumed_search_does_not_replay_its_proposals(small, truth, tmp_path):
    """Random proposals after a resume are new ones: replayed, on common random numbers, they
    would only give the same results again."""
    args = dict(replicates=1, seed=9, executor="serial", progress=False, storage=tmp_path / "s.journal",
                sampler="random")
    calibrate(small, {"mechanisms.gain_reply": (0.02, 0.3)}, targets_of(truth), trials=3, **args)
    grown = calibrate(small, {"mechanisms.gain_reply": (0.02, 0.3)}, targets_of(truth), trials=6, **args)
    assert grown.trials["mechanisms.gain_reply"].nunique() == 6


def test_a_trial_cut_short_is_run_again(small, truth, tmp_path):
    """A process killed mid-trial leaves it RUNNING in the study: on resume its parameters are run
    first, and it is neither counted nor shown."""
    spec = {"scenario": "default", "fixed": SMALL, "parameters": {"mechanisms.gain_reply": {"range": [0.02, 0.3]}},
            "targets": targets_of(truth), "trials": 2, "replicates": 1, "seed": 1}
    setup = load_spec(spec)
    store = tmp_path / "study.journal"
    study = open_study(setup, store)
    cut = study.ask(setup.distributions())  # asked, never told: as if killed
    cal = run_calibration(setup, storage=store, executor="serial", progress=False)
    assert len(cal.trials) == 2 and (cal.trials.state == "COMPLETE").all()
    assert cut.number not in set(cal.trials.number)
    assert cal.trials["mechanisms.gain_reply"].iloc[0] == cut.params["mechanisms.gain_reply"]
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states.count(optuna.trial.TrialState.FAIL) == 1


def test_a_trial_without_a_value_fails_instead_of_scoring(small):
    """No coupons under the experiential policy: a target on coupon redeemers has no value, so the
    trial is failed (and said why), never scored as if it had one."""
    cal = calibrate(small, {"mechanisms.gain_reply": (0.02, 0.3)}, {"coupon_new_share": 0.8}, trials=2,
                    replicates=1, executor="serial", progress=False)
    assert (cal.trials.state == "FAIL").all()
    assert cal.trials.error.str.contains("no value for coupon_new_share").all()
    with pytest.raises(CalibrationError, match="no trial finished"):
        cal.best


@pytest.mark.parametrize("name", ["calibrate_coupons", "calibrate_my_business"])
def test_shipped_specs_load_and_name_their_sources(name):
    setup = load_spec(ROOT / "experiments" / f"{name}.toml")
    assert all(t.source for t in setup.spec.targets.values())
    assert setup.spec.trials >= 50


def spec_file(tmp_path, body, name="spec.toml"):
    path = tmp_path / name
    path.write_text(body)
    return path


BASE = """scenario = "default"
trials = 3
replicates = 1
steps = 40
[fixed]
"population.engaged" = 200
"""


@pytest.mark.parametrize("body, needles", [
    ('[parameters."mechanisms.nope"]\nrange = [0, 1]\n[targets.profit]\nvalue = 1000.0\n', ["mechanisms.nope"]),
    ('[parameters."mechanisms.trial_switch"]\nrange = [0.2, 2.0]\n[targets.profit]\nvalue = 1000.0\n',
     ["trial_switch", "2.0"]),
    ('[parameters."mechanisms.trial_switch"]\nrange = [0.5, 0.5]\n[targets.profit]\nvalue = 1000.0\n',
     ["parameters.mechanisms.trial_switch", "empty"]),
    ('[parameters."mechanisms.trial_switch"]\nrange = [0.2, 0.8]\n[targets.happiness]\nvalue = 1.0\n',
     ["targets.happiness", "not a summary column", "allowed"]),
    ('[parameters."mechanisms.trial_switch"]\nrange = [0.2, 0.8]\n[targets."nobody.profit"]\nvalue = 1.0\n',
     ["'nobody' is not a business", "focal"]),
    ('[parameters."mechanisms.trial_switch"]\nrange = [0.2, 0.8]\n[targets.profit]\nvalue = 0.0\n',
     ["targets.profit", "tolerance"]),
    ('[parameters."mechanisms.trial_switch"]\nrange = [0.2, 0.8]\n[targets.profit]\nvalue = 1.0\nsourse = "x"\n',
     ["sourse", "unknown key"]),
])
def test_bad_specs_are_refused_before_running(tmp_path, body, needles):
    proc = trustsim("calibrate", spec_file(tmp_path, BASE + body), "--out", tmp_path / "out")
    assert_refused(proc, *needles)
    assert not (tmp_path / "out").exists()


def test_whole_number_ranges_are_checked_at_the_values_searched():
    """[0.5, 300] of a head count is searched from 1 (the smallest whole number in it), which the key
    allows, so it is not refused for 0."""
    spec = {"scenario": "default", "parameters": {"population.engaged": {"range": [0.5, 300], "integer": True}},
            "targets": {"customers": {"value": 100.0}}}
    assert load_spec(spec).distributions()["population.engaged"].low == 1


def test_non_positive_trials_are_refused(tmp_path):
    body = BASE.replace("trials = 3", "trials = 0") + (
        '[parameters."mechanisms.trial_switch"]\nrange = [0.2, 0.8]\n[targets.profit]\nvalue = 1000.0\n')
    assert_refused(trustsim("calibrate", spec_file(tmp_path, body), "--out", tmp_path / "out"), "trials", "0")
    ok = spec_file(tmp_path, BASE + body[len(BASE):], "ok.toml")
    assert_refused(trustsim("calibrate", ok, "--trials", "0"), "--trials")
    assert_refused(trustsim("calibrate", ok, "--trials", "1000000"), "trials", "100000")


def test_the_command_writes_a_fitted_scenario_and_a_report_and_resumes(tmp_path):
    """On a local Dask cluster (the CLI's executor), then extended with --resume."""
    body = BASE + ('[parameters."mechanisms.gain_reply"]\nrange = [0.02, 0.3]\n'
                   '[parameters."businesses.focal.staff_capacity"]\nrange = [2, 30]\ninteger = true\n'
                   '[targets.trust_engaged]\nvalue = 0.4\ntolerance = 0.01\nsource = "made up for the test"\n'
                   '[targets."rival.customers"]\nvalue = 150\n')
    spec, out = spec_file(tmp_path, body), tmp_path / "out"
    proc = trustsim("calibrate", spec, "--out", out, "--workers", "1", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "targets met" in proc.stdout
    fitted = load_scenario(out / "fitted.toml")
    assert isinstance(fitted.businesses["focal"].staff_capacity, float)
    assert fitted.businesses["focal"].staff_capacity == int(fitted.businesses["focal"].staff_capacity)
    assert fitted.population.engaged == 200  # the spec's fixed values are part of the fit
    page = (out / "report.html").read_text()
    for img in ("fit.png", "history.png", "spread.png"):
        assert f'src="{img}"' in page and (out / img).stat().st_size > 5_000
    assert "made up for the test" in page
    assert_refused(trustsim("calibrate", spec, "--out", out), "already holds a calibration", "--resume")
    again = trustsim("calibrate", spec, "--out", out, "--workers", "1", "--resume", "--trials", "5", timeout=300)
    assert again.returncode == 0, again.stderr
    trials = pd.read_csv(out / "trials.csv")
    assert list(trials.number) == [0, 1, 2, 3, 4]
    assert (out / STORAGE).exists()


def test_runs_from_a_plain_script_on_local_processes(tmp_path):
    """The documented call, with the default executor (local Dask processes), from a script
    without a main guard."""
    script = tmp_path / "cal.py"
    script.write_text(
        "import sim\n"
        "sc = sim.load_scenario('default').with_overrides({'population.engaged': 200, 'steps': 30})\n"
        "cal = sim.calibrate(sc, parameters={'mechanisms.gain_reply': (0.02, 0.3)},\n"
        "                    targets={'trust_engaged': 0.4}, trials=3, replicates=2, seed=1, workers=2,\n"
        "                    progress=False)\n"
        "print('best', cal.best['mechanisms.gain_reply'], len(cal.trials))\n")
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-1] == "3"
    assert "Traceback" not in proc.stderr


def test_public_name():
    assert sim.calibrate is calibrate and Path(sim.calibrate.__code__.co_filename).name == "calibrate.py"


def test_on_a_dask_cluster_the_trials_are_the_serial_ones(small, truth, tmp_path, dask_cluster, monkeypatch):
    """Trials run on a real scheduler's workers, two at a time (one per worker): the same trials as
    in-process two at a time, number for number."""
    sched_file, _ = dask_cluster
    spec = {"scenario": "default", "fixed": SMALL, "parameters": {"mechanisms.gain_reply": {"range": [0.02, 0.3]}},
            "targets": targets_of(truth), "trials": 4, "replicates": 2, "seed": 6}
    from distributed import Client

    with Client(scheduler_file=str(sched_file), timeout="30s") as client:
        on_cluster = run_calibration(load_spec(spec), executor=client, workers=2, progress=False)
        assert client.status == "running"  # the caller's client stays theirs: not closed by the call
    # in-process with the same batch width: the sampler sees the same sequence of asks and tells
    monkeypatch.setattr("sim.trials._slots", lambda executor, workers: 2)
    here = run_calibration(load_spec(spec), executor="serial", progress=False)
    cols = ["number", "mechanisms.gain_reply", "loss"]
    pd.testing.assert_frame_equal(on_cluster.trials[cols], here.trials[cols])
