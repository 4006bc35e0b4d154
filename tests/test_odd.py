"""docs/ODD.md cannot drift from the code: the parameter table is the schema's, every parameter
and rule function is documented, and the scheduling section names the phases TrustModel.step runs."""

import inspect
import re
import types

from sim import odd, rules, scenario
from sim.agents import TrustModel

TEXT = odd.ODD_PATH.read_text(encoding="utf-8")


def section(number: int) -> str:
    """The text of ``## N ...`` up to the next top-level section."""
    match = re.search(rf"^## {number} .*?(?=^## )", TEXT, flags=re.M | re.S)
    assert match, f"docs/ODD.md has no section '## {number} ...'"
    return match.group(0)


def rule_functions() -> list[str]:
    return [name for name, obj in vars(rules).items()
            if isinstance(obj, types.FunctionType) and obj.__module__ == rules.__name__
            and not name.startswith("_")]


def phases() -> list[str]:
    """The phase methods in the order TrustModel.step calls them."""
    return re.findall(r"self\.(_\w+)\(", inspect.getsource(TrustModel.step))


def test_parameter_table_is_current():
    assert odd.table_block(TEXT) == "\n" + odd.render_parameter_table(), (
        "docs/ODD.md's parameter table differs from the schema: run `python -m sim.odd`")


def test_update_odd_rewrites_only_the_table(tmp_path):
    path = tmp_path / "ODD.md"
    path.write_text(f"before\n{odd.BEGIN}\n| stale |\n{odd.END}\nafter\n", encoding="utf-8")
    assert odd.update_odd(path) is True
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"before\n{odd.BEGIN}\n| parameter |") and text.endswith(f"{odd.END}\nafter\n")
    assert odd.table_block(text) == "\n" + odd.render_parameter_table()
    assert odd.update_odd(path) is False


def test_table_has_one_row_per_parameter_with_pipes_escaped():
    rows = scenario.parameter_table()
    lines = odd.render_parameter_table().splitlines()
    assert len(lines) == 2 + len(rows)
    for line, row in zip(lines[2:], rows):
        cells = re.split(r"(?<!\\)\|", line)[1:-1]
        assert len(cells) == len(odd.COLUMNS), line
        assert cells[0].strip() == f"`{row['parameter']}`"


def test_every_parameter_of_the_schema_is_documented():
    for row in scenario.parameter_table():
        assert f"`{row['parameter']}`" in TEXT, row["parameter"]
    models = (scenario.Population, scenario.Venue, scenario.Business, scenario.Policy,
              scenario.Mechanisms, scenario.Scenario)
    for model in models:
        for name in model.model_fields:
            assert re.search(rf"\b{re.escape(name)}\b", TEXT), f"{model.__name__}.{name} is not in docs/ODD.md"


def test_every_rule_function_has_a_submodel():
    names = rule_functions()
    assert len(names) > 10
    headings = re.findall(r"^### 7\.\d+ `(\w+)`", section(7), flags=re.M)
    missing = sorted(set(names) - set(headings))
    assert not missing, f"sim/rules.py functions without a '### 7.N `name`' subsection: {missing}"
    stale = sorted(set(headings) - set(names))
    assert not stale, f"Submodels describe functions that sim/rules.py no longer has: {stale}"


def test_scheduling_section_names_every_phase_in_order():
    called = phases()
    assert len(called) >= 5, called  # the regex still finds TrustModel.step's phases
    methods = [n for n, _ in inspect.getmembers(TrustModel, inspect.isfunction)
               if n.startswith("_") and not n.startswith("__")]
    assert set(called) <= set(methods)
    text = section(3)
    missing = [name for name in called if f"`{name}`" not in text]
    assert not missing, f"phases of TrustModel.step not named in section 3: {missing}"
    first = [text.index(f"`{name}`") for name in called]
    assert first == sorted(first), "section 3 names the phases in another order than TrustModel.step runs them"
