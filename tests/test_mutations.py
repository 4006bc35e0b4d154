"""The validation suite proves it can fail: every mutation of the model in tests/mutations.py is
caught by at least one pattern or docking test.

    pytest -m mutation          (make mutation; one mutant after another, 7-17 minutes each
                                 measured two at a time on 2 cores, their kernels compiled
                                 included; python -m tests.mutations --jobs 2 ran all 18 in 76 min)

Not part of `make test`: it runs the validation suite once per mutant. What the quick checks
below keep honest on every run: each mutation still applies to the source as it is, and
docs/ODD.md lists each one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.mutations import MUTATIONS, Mutation, occurrences, run

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def test_every_mutation_still_applies_to_the_source():
    assert len(MUTATIONS) >= 10 and len({m.name for m in MUTATIONS}) == len(MUTATIONS)
    stale = {m.name: occurrences(m) for m in MUTATIONS if occurrences(m) != [1] * len(m.edits)}
    assert not stale, f"mutations whose text to change is not found exactly once: {stale}"


def test_the_odd_lists_every_mutation_and_what_caught_it():
    table = ODD.read_text().split("#### Mutations", 1)[-1]
    rows = dict(re.findall(r"^\| ([^|]+?) \| [^|]+ \| ([^|]+) \|$", table, flags=re.M))
    missing = [m.name for m in MUTATIONS if m.name not in rows]
    assert not missing, f"docs/ODD.md 1.2 has no row for: {missing}"
    uncaught = {name for name, caught in rows.items() if "nothing" in caught}
    assert not uncaught, f"docs/ODD.md lists as caught by nothing: {uncaught}"


@pytest.mark.mutation
@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_the_validation_suite_catches(mutation: Mutation, tmp_path):
    verdict = run(mutation, tmp_path)
    print(f"\n{mutation.name}: caught by {', '.join(verdict.failed) or 'nothing'} ({verdict.seconds:.0f} s)")
    assert not verdict.errors, f"{mutation.name}: tests could not run on the mutant: {verdict.errors}"
    assert verdict.passed > 0, f"{mutation.name}: no validation test ran"
    assert verdict.failed, f"{mutation.name} ({mutation.wrong}): every pattern and docking test passes on it"
