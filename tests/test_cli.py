"""The `trustsim` command, driven through a real subprocess (`python -m sim`) as a user would.

Bad input of every kind must be refused before anything runs: exit code 2, exactly one line on
stderr naming the file, the field and the value, and never a traceback.
"""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.scenario import SCENARIO_DIR

ROOT = Path(__file__).resolve().parent.parent
# Small and short, so the whole file stays well under a minute on two cores.
SMALL = ["--steps", "20", "--set", "population.engaged=200"]


def trustsim(*args, cwd=None, timeout=120):
    # PYTHONPATH makes `-m sim` find this checkout even from a tmp cwd when not pip-installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def assert_refused(proc, *needles):
    """Exit 2, one line on stderr containing every needle, no traceback, nothing run."""
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert "results written" not in proc.stdout


def scenario_file(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- a real run ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("run")
    proc = trustsim("run", "default", *SMALL, cwd=cwd)
    return proc, cwd


def test_run_prints_a_table_naming_both_businesses(small_run):
    proc, _ = small_run
    assert proc.returncode == 0, proc.stderr
    header = next(line for line in proc.stdout.splitlines() if "focal" in line)
    assert "rival" in header  # one column per business, side by side
    assert "experiential" in proc.stdout and "broadcast" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_run_writes_results_to_the_default_folder_and_says_where(small_run):
    proc, cwd = small_run
    out = cwd / "results" / "default-agents-seed0"
    assert "results/default-agents-seed0" in proc.stdout
    for name in ("timeseries.parquet", "timeseries.csv", "agents.parquet", "agents.csv", "scenario.toml",
                 "run.json"):
        assert (out / name).stat().st_size > 0, name
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert set(ts.business) == {"focal", "rival"} and ts.step.max() == 20
    agents = pd.read_parquet(out / "agents.parquet")
    assert len(agents) == 2 * 200 * 11  # 200 engaged + 10x observers, one row per business


def test_saved_scenario_validates_and_reruns_to_identical_timeseries(small_run, tmp_path):
    _, cwd = small_run
    saved = cwd / "results" / "default-agents-seed0" / "scenario.toml"
    val = trustsim("validate", saved)
    assert val.returncode == 0, val.stderr
    assert val.stdout.strip() == f"{saved}: ok (2 businesses, 2 venues, 2,200 people, 20 steps)"
    # No --steps or --set: the overrides must have been written into scenario.toml itself.
    rerun = trustsim("run", saved, "--seed", "0", "--out", tmp_path / "again", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    first = pd.read_parquet(cwd / "results" / "default-agents-seed0" / "timeseries.parquet")
    again = pd.read_parquet(tmp_path / "again" / "timeseries.parquet")
    pd.testing.assert_frame_equal(first, again)


def test_another_seed_gives_another_run(small_run, tmp_path):
    _, cwd = small_run
    other = trustsim("run", "default", *SMALL, "--seed", "1", "--out", tmp_path / "s1")
    assert other.returncode == 0, other.stderr
    first = pd.read_parquet(cwd / "results" / "default-agents-seed0" / "timeseries.parquet")
    assert not first.equals(pd.read_parquet(tmp_path / "s1" / "timeseries.parquet"))


def test_set_accepts_bare_words_and_toml_values(tmp_path):
    proc = trustsim("run", "default", "--steps", "3", "--set", "population.engaged=50",
                    "--set", "businesses.focal.policy=coupon", "--set", "venues.niche.noise=0.25",
                    "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr
    saved = (tmp_path / "o" / "scenario.toml").read_text()
    assert 'name = "coupon"' in saved and "noise = 0.25" in saved and "engaged = 50" in saved


# ---- validate --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_scenario_validates(path):
    proc = trustsim("validate", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{path}: ok (") and "businesses" in proc.stdout and "people" in proc.stdout


# ---- refusals: exit 2, one line, field and value -------------------------------------------

@pytest.mark.parametrize("body, field, value", [
    ("[population]\nengagedd = 5", "population.engagedd", "5"),  # unknown key
    ('[population]\nengaged = "many"', "population.engaged", '"many"'),  # wrong type
    ("[businesses.focal]\nfailure_rate = 1.5", "businesses.focal.failure_rate", "1.5"),  # probability > 1
    ("[venues.niche]\nnoise = -0.1", "venues.niche.noise", "-0.1"),  # probability < 0
    ("[population]\nengaged = -5", "population.engaged", "-5"),  # negative size
    ("[venues.niche]\nnoise = nan", "venues.niche.noise", "nan"),  # NaN, written as TOML writes it
    ('[businesses.focal]\npolicy = "nosuch"', "businesses.focal.policy", "nosuch"),  # unknown policy
], ids=["unknown-key", "wrong-type", "probability-above-1", "probability-below-0", "negative-size", "nan",
        "unknown-policy"])
def test_bad_scenario_file_is_refused(tmp_path, body, field, value):
    path = scenario_file(tmp_path, 'base = "default"\n' + body)
    assert_refused(trustsim("validate", path, cwd=tmp_path), str(path), field, value)


def test_run_refuses_a_bad_file_before_running(tmp_path):
    # `run` shares validate's loading; one case shows it refuses before creating any output.
    path = scenario_file(tmp_path, 'base = "default"\n[venues.niche]\nnoise = nan')
    assert_refused(trustsim("run", path, "--steps", "1", cwd=tmp_path), str(path), "venues.niche.noise", "nan")
    assert not (tmp_path / "results").exists()


def test_range_errors_say_what_is_allowed(tmp_path):
    path = scenario_file(tmp_path, 'base = "default"\n[businesses.focal]\nfailure_rate = 1.5')
    assert_refused(trustsim("validate", path), "allowed", "0 to 1")


@pytest.mark.parametrize("body, needles", [
    ('name = "' + "x" * 2_000_000 + '"', ["name", "(2,000,000 characters)", "too long", "at most 80"]),
    ('description = "' + "y" * 5_000 + '"', ["description", "(5,000 characters)", "at most 2,000"]),
    ("[businesses." + "b" * 200 + "]\nprice = 10.0", ["businesses.", "name too long (200 characters)", "at most 80"]),
], ids=["2MB-name", "long-description", "long-business-name"])
def test_runaway_text_is_refused_in_one_short_line(tmp_path, body, needles):
    path = scenario_file(tmp_path, 'base = "default"\n' + body)
    proc = trustsim("validate", path, cwd=tmp_path)
    assert_refused(proc, str(path), *needles)
    assert len(proc.stderr) < 400  # the value is not echoed whole


def test_empty_file_is_refused(tmp_path):
    path = scenario_file(tmp_path, "")
    assert_refused(trustsim("validate", path), str(path), "empty")


def test_non_toml_file_is_refused(tmp_path):
    path = scenario_file(tmp_path, "this is = = not toml\n")
    assert_refused(trustsim("validate", path), str(path), "not valid TOML", "line 1")


def test_missing_file_is_refused(tmp_path):
    path = tmp_path / "nope.toml"
    assert_refused(trustsim("run", path), str(path), "no such scenario file")


def test_population_that_cannot_fit_in_memory_is_refused_before_allocating(tmp_path):
    path = scenario_file(tmp_path, 'base = "default"\n[population]\nengaged = 900000000')
    # The agents engine needs kilobytes per person: 9.9 billion people fit on no machine.
    proc = trustsim("run", path, "--steps", "1", cwd=tmp_path, timeout=60)
    assert_refused(proc, str(path), "population.engaged", "900000000", "GiB", "allowed")


def test_unknown_engine_is_refused(tmp_path):
    assert_refused(trustsim("run", "default", "--engine", "gpu", cwd=tmp_path), "--engine", "gpu", "agents")


def test_the_fast_engine_runs_and_answers_to_its_former_name_too(tmp_path):
    for engine in ("fast", "vector"):
        proc = trustsim("run", "default", "--engine", engine, *SMALL, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    # each engine's run has its own folder: one never overwrites the other's
    assert (tmp_path / "results" / "default-fast-seed0" / "timeseries.parquet").exists()
    assert not (tmp_path / "results" / "default-vector-seed0").exists()
    # the former name is the fast engine everywhere, also where memory is checked before a run
    path = scenario_file(tmp_path, 'base = "default"\n[population]\nengaged = 900000000')
    assert_refused(trustsim("run", path, "--engine", "vector", "--steps", "1", cwd=tmp_path, timeout=60),
                   "population.engaged", "fast engine", "allowed")


@pytest.mark.parametrize("arg, needles", [
    ("population.engaged", ["--set", "population.engaged", "KEY=VALUE"]),  # no '='
    ("=5", ["--set", "=5", "KEY=VALUE"]),  # no key
    ("population.engaged=-3", ["population.engaged", "-3", "with --set"]),  # bad value
    ("population.engaged=nan", ["population.engaged", "nan"]),
    ("population.nosuch=3", ["population.nosuch", "unknown key", "3"]),  # unknown leaf
    ("nosuch.deeper=3", ["nosuch.deeper", "unknown key", "3"]),  # unknown table
    ("businesses.focal.policy=nosuch", ["businesses.focal.policy", "nosuch"]),
], ids=["no-equals", "no-key", "negative", "nan", "unknown-leaf", "unknown-table", "unknown-policy"])
def test_malformed_set_is_refused(tmp_path, arg, needles):
    assert_refused(trustsim("run", "default", "--set", arg, cwd=tmp_path), *needles)
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("args, needles", [
    (["--seed", "-1"], ["--seed", "-1"]),
    (["--steps", "0"], ["steps", "0", "allowed"]),
    (["--steps", "ten"], ["--steps", "ten"]),
])
def test_bad_seed_and_steps_are_refused(tmp_path, args, needles):
    assert_refused(trustsim("run", "default", *args, cwd=tmp_path), *needles)


def test_unwritable_output_folder_is_refused_before_running(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert_refused(trustsim("run", "default", *SMALL, "--out", blocker / "sub"), "--out", str(blocker / "sub"))


def test_no_command_is_refused_in_one_line():
    assert_refused(trustsim(), "COMMAND")


def test_help_works():
    proc = trustsim("run", "--help")
    assert proc.returncode == 0 and "--engine" in proc.stdout and "--set" in proc.stdout


def test_main_returns_exit_codes_in_process(capsys):
    from sim.cli import main

    assert main(["validate", "default"]) == 0
    assert main(["validate", "no-such-scenario"]) == 2
    assert "no such scenario file" in capsys.readouterr().err


# ---- the dashboard command -------------------------------------------------------------------

@pytest.mark.parametrize("args, needles", [
    (["--port", "0"], ["--port", "'0'", "1 to 65535"]),
    (["--port", "http"], ["--port", "'http'", "1 to 65535"]),
    (["--max-sessions", "-3"], ["--max-sessions", "'-3'", ">= 1"]),
    (["--host", "no.such.host.invalid"], ["--host", "'no.such.host.invalid'", "0.0.0.0"]),  # unresolvable
    (["--host", "192.0.2.1"], ["--host", "'192.0.2.1'", "of this machine"]),  # not an address of ours
])
def test_dashboard_refuses_bad_options(args, needles):
    assert_refused(trustsim("dashboard", *args), *needles)


def test_dashboard_without_its_front_end_says_how_to_get_it(tmp_path):
    # An empty CDN cache (SOLARA_ASSETS_PROXY_CACHE_DIR) is what a set-up without `make assets` has.
    env = {**os.environ, "SOLARA_ASSETS_PROXY_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "sim", "dashboard"], env=env, text=True, capture_output=True,
                          timeout=60, stdin=subprocess.DEVNULL, cwd=ROOT)
    assert_refused(proc, "Solara's front-end packages are missing", "@widgetti/solara-vuetify3-app", "make assets")
