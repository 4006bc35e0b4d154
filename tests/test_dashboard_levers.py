"""The dashboard's settings (dashboards/levers.py), without Solara: the URL form of the settings,
the refusal messages a participant sees for a bad link, the staff-mix rule the sliders keep, and
where each lever lands in the simulated scenario."""

from __future__ import annotations

import math
from dataclasses import fields, replace

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from dashboards.levers import (LEVER, LEVERS, MAX_PEOPLE, MAX_SEED, MIX, Settings, build_scenario, busiest_venue,
                               from_query, policy_choices, preset, scenario_choices, set_lever, to_query)
from sim.scenario import load_scenario, scenario_names

# Deterministic and without a .hypothesis/ directory: the same examples on every machine and run.
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
TOL = 1e-9  # the tolerance sim.scenario.Policy allows on caring + promotional + coupons


def mix_total(s: Settings) -> float:
    return sum(getattr(s, k) for k in MIX)


def decimals(step: float) -> int:
    return len(f"{step:g}".partition(".")[2])


def on_grid(lv) -> st.SearchStrategy[float]:
    """A value the lever's slider can send: lo + k * step, as the browser rounds it."""
    n = round((lv.hi - lv.lo) / lv.step)
    return st.integers(0, n).map(lambda k: round(lv.lo + k * lv.step, decimals(lv.step)))


grid_moves = st.lists(st.sampled_from(LEVERS).flatmap(lambda lv: st.tuples(st.just(lv.name), on_grid(lv))),
                      max_size=8)
any_moves = st.lists(st.sampled_from(LEVERS).flatmap(
    lambda lv: st.tuples(st.just(lv.name), st.floats(lv.lo - 1, lv.hi + 1, allow_nan=False))), min_size=1, max_size=8)


def apply(s: Settings, moves) -> Settings:
    for name, value in moves:
        s = set_lever(s, name, value)
    return s


# ---- the URL form ------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", scenario_choices())
@pytest.mark.parametrize("policy", policy_choices())
def test_every_preset_survives_its_link(scenario, policy):
    s = preset(scenario, policy)
    assert s.scenario == scenario and s.policy == policy
    assert from_query(to_query(s)) == (s, [])


def test_link_carries_every_setting():
    keys = [k for k, _ in (pair.split("=") for pair in to_query(Settings()).split("&"))]
    assert keys == [f.name for f in fields(Settings)]


@PROPERTY
@given(scenario=st.sampled_from(scenario_choices()), policy=st.sampled_from(policy_choices()),
       seed=st.integers(0, MAX_SEED), moves=grid_moves)
def test_slider_settings_survive_their_link(scenario, policy, seed, moves):
    s = apply(preset(scenario, policy, seed), moves)
    note(to_query(s))
    assert from_query(to_query(s)) == (s, [])


def test_empty_link_gives_the_defaults():
    assert from_query("") == (Settings(), [])
    assert from_query(None) == (Settings(), [])
    assert Settings() == preset("default")


# ---- set_lever ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lv", LEVERS, ids=lambda lv: lv.name)
def test_set_lever_clamps_to_the_range(lv):
    s = Settings(caring=0.0)  # leave room in the staff mix
    assert getattr(set_lever(s, lv.name, lv.hi + 5), lv.name) == lv.hi
    assert getattr(set_lever(s, lv.name, lv.lo - 5), lv.name) == lv.lo
    mid = (lv.lo + lv.hi) / 2
    assert getattr(set_lever(s, lv.name, mid), lv.name) == mid


def test_set_lever_changes_only_its_lever_outside_the_mix():
    s = Settings(caring=0.5, promotional=0.3, coupons=0.2)
    moved = set_lever(s, "staff_capacity", 55)
    assert moved == replace(s, staff_capacity=55.0)


def test_growing_one_share_shrinks_the_others_in_proportion():
    s = Settings(caring=0.5, promotional=0.3, coupons=0.2)
    s2 = set_lever(s, "caring", 0.8)  # room 0.2 for 0.5 in use: the others scaled by 0.4
    assert s2.caring == 0.8
    assert s2.promotional == pytest.approx(0.12)
    assert s2.coupons == pytest.approx(0.08)
    assert s2.promotional / s2.coupons == pytest.approx(0.3 / 0.2)
    assert mix_total(s2) == pytest.approx(1.0)

    s3 = set_lever(s, "coupons", 1.0)  # all of it: the others go to zero
    assert (s3.caring, s3.promotional, s3.coupons) == (0.0, 0.0, 1.0)


def test_shrinking_or_fitting_share_leaves_the_others_alone():
    s = Settings(caring=0.5, promotional=0.3, coupons=0.0)
    assert set_lever(s, "caring", 0.2) == replace(s, caring=0.2)
    assert set_lever(s, "coupons", 0.2) == replace(s, coupons=0.2)  # 0.5 + 0.3 + 0.2 = 1 fits exactly


@PROPERTY
@given(moves=any_moves)
def test_set_lever_keeps_every_lever_in_range(moves):
    s = apply(Settings(), moves)
    for lv in LEVERS:
        assert lv.lo <= getattr(s, lv.name) <= lv.hi


@PROPERTY
@given(moves=any_moves)
def test_slider_mix_never_exceeds_capacity(moves):
    s = apply(Settings(), moves)
    note(repr(s))
    assert mix_total(s) <= 1 + TOL


def test_three_slider_moves_still_give_a_runnable_scenario():
    # On the sliders' 0.05 grid: promotional 0.2, coupons 0.15, then caring 0.95 leaves
    # promotional 0.026563 + coupons 0.023438 (each rounded up), 1.000001 in all.
    s = apply(Settings(), [("promotional", 0.2), ("coupons", 0.15), ("caring", 0.95)])
    build_scenario(s)  # raises ScenarioError: caring + promotional + coupons must be at most 1
    assert from_query(to_query(s)) == (s, [])


# ---- refusals ----------------------------------------------------------------------------------

ALLOWED_SCENARIOS = ", ".join(scenario_choices())
ALLOWED_POLICIES = ", ".join(policy_choices())
KNOWN = ", ".join(f.name for f in fields(Settings))


@pytest.mark.parametrize("query, field, message", [
    ("scenario=atlantis", "scenario", f"scenario='atlantis': not a preset; allowed: {ALLOWED_SCENARIOS}"),
    ("scenario=big_brand", "scenario", f"scenario='big_brand': not a preset; allowed: {ALLOWED_SCENARIOS}"),
    ("policy=bribery", "policy", f"policy='bribery': not a policy preset; allowed: {ALLOWED_POLICIES}"),
    ("caring=1.5", "caring", "caring=1.5: out of range; allowed: 0 to 1"),
    ("staff_capacity=-3", "staff_capacity", "staff_capacity=-3: out of range; allowed: 0 to 100"),
    ("failure_rate=0.5", "failure_rate", "failure_rate=0.5: out of range; allowed: 0 to 0.3"),
    ("observer_ratio=31", "observer_ratio", "observer_ratio=31: out of range; allowed: 0 to 30"),
    ("turnover=lots", "turnover", "turnover='lots': not a number; allowed: 0 to 2"),
    ("authenticity=", "authenticity", "authenticity='': not a number; allowed: 0 to 1"),
    ("noise=nan", "noise", "noise=nan: out of range; allowed: 0 to 1"),
    ("noise=inf", "noise", "noise=inf: out of range; allowed: 0 to 1"),
    ("seed=-1", "seed", f"seed='-1': must be a whole number from 0 to {MAX_SEED}"),
    ("seed=1.5", "seed", f"seed='1.5': must be a whole number from 0 to {MAX_SEED}"),
    (f"seed={MAX_SEED + 1}", "seed", f"seed='{MAX_SEED + 1}': must be a whole number from 0 to {MAX_SEED}"),
    ("colour=red", None, f"colour: unknown setting; known: {KNOWN}"),
])
def test_a_refused_value_gets_one_message_and_the_preset_value(query, field, message):
    s, errors = from_query(query)
    assert errors == [message]
    assert s == Settings()  # every refused value falls back to the (default) preset
    if field is not None:
        assert getattr(s, field) == getattr(Settings(), field)


def test_refused_values_take_the_chosen_presets_value():
    salon = preset("beauty_salon", "broadcast")
    assert salon != preset("beauty_salon")  # the policy changes the mix
    s, errors = from_query("scenario=beauty_salon&policy=broadcast&authenticity=7&staff_capacity=33&seed=9")
    assert errors == ["authenticity=7: out of range; allowed: 0 to 1"]
    assert s == replace(salon, staff_capacity=33.0, seed=9)


def test_unknown_scenario_or_policy_fall_back_to_the_default_and_the_scenarios_own_policy():
    s, errors = from_query("scenario=atlantis&policy=broadcast")
    assert len(errors) == 1 and errors[0].startswith("scenario='atlantis'")
    assert s == preset("default", "broadcast")
    s, errors = from_query("scenario=auto_parts&policy=bribery")
    assert len(errors) == 1 and errors[0].startswith("policy='bribery'")
    assert s == preset("auto_parts")


def test_a_mix_over_capacity_keeps_the_presets_mix():
    s, errors = from_query("caring=0.9&promotional=0.5&authenticity=0.4")
    assert errors == [("caring + promotional + coupons = 1.4: must be at most 1 (shares of one staff capacity); "
                       "the preset's mix is kept")]
    base = Settings()
    assert (s.caring, s.promotional, s.coupons) == (base.caring, base.promotional, base.coupons)
    assert s.authenticity == 0.4  # the other levers in the link still apply


def test_a_mix_over_capacity_counts_the_presets_shares_too():
    # the default preset has caring 0.9: adding 0.2 of coupons overfills it
    s, errors = from_query("coupons=0.2")
    assert len(errors) == 1 and errors[0].startswith("caring + promotional + coupons = 1.1:")
    assert s == Settings()


def test_every_bad_value_is_reported_and_the_good_ones_kept():
    s, errors = from_query("seed=x&caring=2&coupons=0.05&noise=0.25&colour=red&shape=round")
    assert [e.split(":")[0] for e in errors] == ["seed='x'", "caring=2", "colour", "shape"]
    assert s == replace(Settings(), coupons=0.05, noise=0.25)


def test_a_superscript_seed_is_refused_not_crashed_on():
    s, errors = from_query("seed=%C2%B2")  # '²'
    assert errors == [f"seed='²': must be a whole number from 0 to {MAX_SEED}"]
    assert s == Settings()


# ---- build_scenario ----------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", scenario_choices())
def test_each_lever_lands_in_the_right_place(scenario):
    base = load_scenario(scenario)
    loud = busiest_venue(base)
    s = replace(preset(scenario, "broadcast", seed=4), caring=0.35, promotional=0.25, coupons=0.15,
                authenticity=0.45, staff_capacity=37.0, noise=0.35, failure_rate=0.115, turnover=1.25,
                observer_ratio=7.0)
    sc = build_scenario(s)
    focal = sc.businesses[sc.focal]
    pol = focal.policy
    assert sc.focal == base.focal
    assert pol.name == "broadcast"
    assert (pol.caring, pol.promotional, pol.coupons, pol.authenticity) == (0.35, 0.25, 0.15, 0.45)
    assert focal.staff_capacity == 37.0
    assert focal.failure_rate == 0.115
    assert focal.turnover == 1.25
    assert sc.venues[loud].noise == 0.35
    assert sc.population.observer_ratio == 7.0
    # nothing else moves: the other venues and the competitors are the preset's
    for name, venue in base.venues.items():
        if name != loud:
            assert sc.venues[name] == venue
    for name, business in base.businesses.items():
        if name != base.focal:
            assert sc.businesses[name] == business
    assert sc.population.engaged == base.population.engaged
    assert sc.steps == base.steps


@pytest.mark.parametrize("scenario", scenario_choices())
def test_the_presets_levers_rebuild_the_preset(scenario):
    base = load_scenario(scenario)
    sc = build_scenario(preset(scenario))
    assert sc.businesses == base.businesses
    assert sc.venues == base.venues
    assert sc.population == base.population


def test_policy_without_lever_overrides_keeps_its_own_settings():
    s = preset("default", "silent")
    sc = build_scenario(s)
    assert sc.policy(sc.focal).venues == []  # the silent policy's own field, not a lever
    assert sc.policy(sc.focal).name == "silent"


# ---- scenario_choices --------------------------------------------------------------------------

def test_scenario_choices_leave_out_the_presets_too_big_to_run_live():
    assert "big_brand" in scenario_names()
    assert load_scenario("big_brand").population.people > MAX_PEOPLE
    assert "big_brand" not in scenario_choices()
    assert set(scenario_choices()) == {n for n in scenario_names() if load_scenario(n).population.people <= MAX_PEOPLE}
    assert "default" in scenario_choices()


def test_levers_table_is_consistent():
    assert list(LEVER) == [lv.name for lv in LEVERS]
    assert set(MIX) <= set(LEVER)
    base = Settings()
    for lv in LEVERS:
        assert lv.lo < lv.hi and lv.step > 0
        assert lv.lo <= getattr(base, lv.name) <= lv.hi
        assert math.isclose((lv.hi - lv.lo) / lv.step, round((lv.hi - lv.lo) / lv.step))
