"""The parameter table of docs/ODD.md, generated from the scenario schema.

``python -m sim.odd`` rewrites the block between the markers in docs/ODD.md from
:func:`sim.scenario.parameter_table`, so the documentation cannot drift from the schema
(tests/test_odd.py fails when it has).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .scenario import ROOT, parameter_table

BEGIN = "<!-- BEGIN PARAMETER TABLE -->"
END = "<!-- END PARAMETER TABLE -->"
COLUMNS = ("parameter", "type", "unit", "range", "default", "source", "meaning")
ODD_PATH = ROOT / "docs" / "ODD.md"


def _cell(value: object) -> str:
    text = " ".join(str(value).split())  # one line per row
    return text.replace("|", "\\|") if text else "-"


def render_parameter_table() -> str:
    """The schema's parameters as a Markdown table, one row per parameter."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in parameter_table():
        row = dict(row)
        if row["type"] == "Literal":
            row["type"] = "choice"
        row["parameter"] = f"`{row['parameter']}`"
        lines.append("| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def table_block(text: str) -> str:
    """What stands between the markers in ``text`` (without the markers)."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN} and {END} are missing or out of order")
    return text[start + len(BEGIN):end]


def update_odd(path: str | Path = ODD_PATH) -> bool:
    """Rewrite the parameter table between the markers of ``path``; return whether it changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    old = table_block(text)
    new = "\n" + render_parameter_table()
    if old == new:
        return False
    start = text.find(BEGIN) + len(BEGIN)
    path.write_text(text[:start] + new + text[text.find(END):], encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else ODD_PATH
    changed = update_odd(path)
    print(f"{path}: parameter table {'updated' if changed else 'already current'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
