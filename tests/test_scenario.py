"""Scenario files: loading, inheritance, policies as data, overrides and clear refusals."""

import math

import pytest

import sim
from sim.scenario import ScenarioError, load_scenario, parameter_table, policy_names, scenario_names


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_default_scenario_has_focal_business_competitor_and_ten_times_more_observers():
    sc = load_scenario("default")
    assert sc.focal == "focal" and len(sc.businesses) >= 2
    assert sc.population.observers == 10 * sc.population.engaged
    assert sc.policy("focal").name == "experiential" and sc.policy("rival").name == "broadcast"


@pytest.mark.parametrize("name", scenario_names())
def test_every_shipped_scenario_validates(name):
    assert load_scenario(name).steps >= 1


@pytest.mark.parametrize("name", scenario_names())
def test_every_shipped_scenario_runs_on_both_engines(name):
    sc = load_scenario(name)
    engines = ["fast"] + (["agents"] if sc.population.people <= 50_000 else [])
    for engine in engines:
        summary = sim.run(sc, engine=engine, seed=1, steps=3, progress=False).summary()
        assert list(summary.index) == list(sc.businesses) and summary.customers.sum() > 0


def test_trade_presets_differ_where_the_seeds_say():
    salon, parts = load_scenario("beauty_salon"), load_scenario("auto_parts")
    assert salon.businesses["focal"].intimacy_difficulty < parts.businesses["focal"].intimacy_difficulty
    assert load_scenario("poor_quality").businesses["focal"].failure_rate > 5 * load_scenario(
        "default").businesses["focal"].failure_rate
    assert load_scenario("big_brand").population.people > 1_000_000


@pytest.mark.parametrize("name", policy_names())
def test_every_shipped_policy_resolves(name):
    sc = load_scenario("default").with_overrides({"businesses.focal.policy": name})
    assert sc.policy("focal").name == name


def test_a_file_overrides_a_subset_of_its_base(tmp_path):
    path = write(tmp_path, 'base = "default"\n[population]\nengaged = 123\n[businesses.rival]\nprice = 40\n')
    sc = load_scenario(path)
    default = load_scenario("default")
    assert sc.population.engaged == 123 and sc.businesses["rival"].price == 40
    assert sc.population.observer_ratio == default.population.observer_ratio
    assert sc.venues == default.venues and sc.policy("rival") == default.policy("rival")


def test_a_new_policy_can_be_written_in_a_scenario_file(tmp_path):
    path = write(tmp_path, '''base = "default"
[policies.careful_coupons]
base = "experiential"
coupons = 0.05
caring = 0.8
[businesses.focal]
policy = "careful_coupons"
''')
    pol = load_scenario(path).policy("focal")
    assert pol.name == "careful_coupons" and pol.coupons == 0.05 and pol.personified  # rest from experiential


def test_overrides_reach_into_named_policies_and_return_a_validated_copy():
    sc = load_scenario("default")
    new = sc.with_overrides({"businesses.focal.policy.authenticity": 0.2, "venues.popular.noise": 0.5})
    assert new.policy("focal").authenticity == 0.2 and new.policy("focal").caring == sc.policy("focal").caring
    assert new.venues["popular"].noise == 0.5 and sc.venues["popular"].noise == 0.9  # original untouched
    with pytest.raises(ScenarioError, match=r"venues.popular.noise = 2"):
        sc.with_overrides({"venues.popular.noise": 2})
    with pytest.raises(ScenarioError, match="population.engagd: unknown key"):
        sc.with_overrides({"population.engagd": 5})


@pytest.mark.parametrize("text, field, value", [
    ("[population]\nengaged = -5", "population.engaged", "-5"),
    ("[population]\nobserver_ratio = nan", "population.observer_ratio", "nan"),
    ('[venues.niche]\nnoise = 1.5', "venues.niche.noise", "1.5"),
    ('[businesses.focal]\nfailure_rate = "often"', "businesses.focal.failure_rate", "often"),
    ('[population]\nengagedd = 5', "population.engagedd", ""),
    ('[businesses.focal]\npolicy = "nosuch"', "businesses.focal.policy", "nosuch"),
    ('[businesses.focal.policy]\nbase = "experiential"\ncaring = 0.9\ncoupons = 0.5', "caring + promotional + coupons", "1.4"),
    ('focal = "ghost"', "focal", "ghost"),
    ("steps = true", "steps", "true"),
    ('[population]\nengaged = "5"', "population.engaged", '"5"'),
    ('[businesses.focal.policy]\nbase = "experiential"\npersonified = "yes"', "personified", '"yes"'),
    ("[businesses.focal]\ninitial_share = 0.9\n[businesses.rival]\ninitial_share = 0.9", "initial_share", "1.8"),
    ("[mechanisms]\noutcomes_first_order = [\"meaning\", \"meaning\", \"outcome\", \"accident\"]",
     "outcomes_first_order", "meaning"),
])
def test_bad_values_are_refused_with_field_and_value(tmp_path, text, field, value):
    path = write(tmp_path, 'base = "default"\n' + text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    line = str(err.value)
    assert "\n" not in line and str(path) in line and field in line and value in line


@pytest.mark.parametrize("text, words", [("", "empty"), ("this is = = not toml", "not valid TOML")])
def test_empty_and_non_toml_files_are_refused(tmp_path, text, words):
    with pytest.raises(ScenarioError, match=words):
        load_scenario(write(tmp_path, text))


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.toml")


def test_absurd_population_is_refused_before_allocating():
    sc = load_scenario("default").with_overrides({"population.engaged": 900_000_000})
    with pytest.raises(ScenarioError, match="population.engaged = 900000000.*GiB"):
        sim.run(sc, steps=1)


def test_every_parameter_is_documented_with_unit_range_default_and_source():
    rows = parameter_table()
    assert len(rows) > 60
    for row in rows:
        assert row["unit"] and row["source"] and row["meaning"], row["parameter"]
        assert row["range"] and "None" not in row["range"], row["parameter"]
        if row["type"] in ("float", "int"):
            assert not math.isnan(float(row["default"]))
