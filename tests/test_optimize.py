"""Policy search (sim.optimize, `trustsim optimize`): the front holds valid, non-dominated policies
that the staff can carry out, its files work with `trustsim compare`, and bad specs are refused."""

import numpy as np
import pandas as pd
import pytest

import sim
from sim.optimize import SearchError, load_spec, policy_space, run_search
from sim.scenario import load_scenario
from tests.test_cli import ROOT, assert_refused, trustsim

SMALL = {"population.engaged": 300, "steps": 60}


@pytest.fixture(scope="module")
def search():
    spec = {"scenario": "default", "fixed": SMALL, "trials": 16, "replicates": 2, "seed": 2,
            "objectives": ["trust_all", "profit"]}
    return run_search(load_spec(spec), executor="serial", progress=False)


def test_the_front_is_the_non_dominated_policies(search):
    front = search.front()
    done = search.trials[search.trials.state == "COMPLETE"]
    assert len(done) == 16 and 1 <= len(front) <= 16
    pts = done[["trust_all", "profit"]].to_numpy()
    for row in front.itertuples():
        mine = np.array([row.trust_all, row.profit])
        beaten = ((pts >= mine).all(axis=1) & (pts > mine).any(axis=1)).any()
        assert not beaten, row.policy
    # and every trial off the front is beaten by one on it
    on = set(front.trial)
    for _, t in done[~done.number.isin(on)].iterrows():
        assert ((front.trust_all >= t.trust_all) & (front.profit >= t.profit)).any(), t.number
    assert (front.trust_all_lo <= front.trust_all).all() and (front.trust_all <= front.trust_all_hi).all()


def test_every_policy_tried_fits_the_staff_capacity_and_validates(search):
    keys = [f"businesses.focal.policy.{f}" for f in ("caring", "promotional", "coupons")]
    assert (search.trials[keys].sum(axis=1) <= 1 + 1e-9).all()
    assert (search.trials[keys].sum(axis=1) > 0.5).any()  # the shares were really searched, not all tiny
    for name, policy in search.policies().items():
        assert policy.name == name and policy.caring + policy.promotional + policy.coupons <= 1 + 1e-9


def test_the_front_replays_exactly(search):
    """A front policy run on replicate k's seed gives that replicate's value again: the table is
    what the policy does, not a stale proposal."""
    row = search.front().iloc[0]
    sc = search.setup.base.with_overrides({"businesses.focal.policy": search.policies()[row.policy].model_dump()})
    res = sim.run(sc, engine="fast", seed=np.random.SeedSequence(2, spawn_key=(1,)), progress=False)
    v = search.values
    kept = v[(v.trial == row.trial) & (v.objective == "profit") & (v.replicate == 1)].value.item()
    assert res.summary().at["focal", "profit"] == pytest.approx(kept, rel=1e-12)


def test_space_narrows_and_fixes(tmp_path):
    sc = load_scenario("default")
    space = policy_space(sc, {"caring": [0.3, 0.6], "priority": ["random"], "businesses.focal.policy.playground": True},
                         "t")
    assert (space["caring"].low, space["caring"].high) == (0.3, 0.6)
    assert space["priority"].fixed and space["playground"].choices == (True,)
    assert space["venues"].choices == ("all", "niche", "popular")
    spec = {"scenario": "default", "fixed": SMALL, "trials": 4, "replicates": 1,
            "space": {"caring": [0.3, 0.6], "priority": "random", "playground": True, "coupons": 0.0}}
    s = run_search(load_spec(spec), executor="serial", progress=False)
    t = s.trials
    assert t["businesses.focal.policy.caring"].between(0.3 / 1.6, 0.6).all()  # scaled only if shares exceed 1
    assert (t["businesses.focal.policy.priority"] == "random").all()
    assert t["businesses.focal.policy.playground"].all() and (t["businesses.focal.policy.coupons"] == 0).all()


@pytest.mark.parametrize("space, needles", [
    ({"salary": [0, 1]}, ["space.salary", "not a searched policy field", "caring"]),
    ({"caring": [0.5, 1.5]}, ["space.caring", "leaves the allowed range"]),
    ({"caring": [0.8, 0.2]}, ["space.caring", "empty"]),
    ({"priority": ["loudest_first"]}, ["space.priority", "'loudest_first' is not a choice", "accidents_first"]),
    ({"venues": ["mall"]}, ["space.venues", "not a choice", "'all', 'niche', 'popular'"]),
    ({"caring": 0, "promotional": 0, "coupons": 0}, ["nothing to search"]),
    ({"businesses.rival.policy.caring": [0.2, 0.3]}, ["not a policy field of the searched business",
                                                      "businesses.focal.policy.caring"]),
])
def test_bad_spaces_are_refused(space, needles):
    with pytest.raises(SearchError) as err:
        load_spec({"scenario": "default", "space": space})
    for needle in needles:
        assert needle in str(err.value)
    assert "\n" not in str(err.value)


def spec_file(tmp_path, body="", trials=3):
    """A small search spec; ``body`` goes before the [fixed] table (top-level keys)."""
    path = tmp_path / "search.toml"
    head = 'scenario = "default"\nreplicates = 1\n' + (f"trials = {trials}\n" if trials is not None else "")
    path.write_text(head + body + '[fixed]\n"population.engaged" = 200\n"steps" = 30\n')
    return path


@pytest.mark.parametrize("body, needles", [
    ('objectives = ["trust_all", "happiness"]\n', ["objectives", "'happiness' is not a summary column"]),
    ('objectives = []\n', ["objectives", "one to three"]),
    ('trials = 0\n', ["trials", "0"]),
    ('bussiness = "rival"\n', ["bussiness", "unknown key"]),
    ('business = "nobody"\n', ["business = 'nobody'", "focal, rival"]),
])
def test_bad_specs_are_refused_by_the_command(tmp_path, body, needles):
    path = spec_file(tmp_path, body, trials=None if body.startswith("trials") else 3)
    proc = trustsim("optimize", path, "--out", tmp_path / "out")
    assert_refused(proc, *needles)
    assert not (tmp_path / "out").exists()


def test_the_command_writes_the_front_and_policies_that_compare_takes(tmp_path):
    out = tmp_path / "out"
    proc = trustsim("optimize", spec_file(tmp_path), "--out", out, "--workers", "1", "--trials", "4", timeout=300)
    assert proc.returncode == 0, proc.stderr
    front = pd.read_csv(out / "front.csv")
    assert (out / "front.png").stat().st_size > 5_000
    files = sorted((out / "policies").glob("front_*.toml"))
    assert [f.stem for f in files] == sorted(front.policy)
    command = proc.stdout.strip().splitlines()[-1].removeprefix("next: trustsim ").split()
    cmp = trustsim(*command[:-2], "--replicates", "2", "--steps", "10", "--set", "population.engaged=100",
                   timeout=300)
    assert cmp.returncode == 0, cmp.stderr
    for policy in front.policy:  # the compare table names policies in words: front 1
        assert policy.replace("_", " ") in cmp.stdout
    assert_refused(trustsim("optimize", spec_file(tmp_path), "--out", out), "already holds a policy search")


def test_shipped_spec_loads():
    setup = load_spec(ROOT / "experiments" / "optimize_focal.toml")
    assert setup.spec.trials >= 50 and sum(not d.fixed for d in setup.space.values()) >= 9


def test_the_public_call_returns_the_front(search):
    front = sim.optimize(load_scenario("default").with_overrides(SMALL), trials=3, replicates=1, executor="serial",
                         progress=False, space={"priority": "accidents_first"})
    assert {"policy", "trial", "trust_all", "trust_all_lo", "profit_hi", "businesses.focal.policy.caring"} <= set(front)
