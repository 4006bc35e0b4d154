"""Gathers benchmark rows and, with TRUSTSIM_BENCH_REPORT=FILE, writes them as a Markdown table,
with the ratios the targets are stated in (taken from rows of the same run)."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import numpy as np
import pytest


def ratios(rows: list[dict]) -> list[dict]:
    out = []
    ns = {r["engine"]: r["ns"] for r in rows if "engine" in r}
    if len(ns) == 2:
        out.append({"what": "compiled engine speed-up per person-day over the Mesa engine (same run)",
                    "value": f"{ns['agents'] / ns['fast']:.0f}x"})
    probe = next((r["probe"] for r in rows if "probe" in r), None)
    for r in rows:
        if probe and r.get("people", 0) >= 900_000 and r.get("days") == 365:
            scale = r["people"] / 1_000_000
            out.append({"what": f"{r['people']:,}-person year against the stream time for as many people",
                        "value": f"{r['wall'] / (probe * scale):.1f}x"})
    return out


@pytest.fixture(scope="session")
def bench_rows():
    rows: list[dict] = []
    yield rows
    target = os.environ.get("TRUSTSIM_BENCH_REPORT")
    if not target or not rows:
        return
    rows = rows + ratios(rows)
    lines = [f"Scale `{os.environ.get('TRUSTSIM_BENCH_SCALE', 'full')}`, {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, numpy {np.__version__}. Command: `{' '.join(sys.argv)}`.",
             "", "| measurement | value |", "| --- | --- |"]
    lines += [f"| {r['what']} | {r['value']} |" for r in rows]
    Path(target).write_text("\n".join(lines) + "\n")
