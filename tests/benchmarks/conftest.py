"""Gathers benchmark rows and, with TRUSTSIM_BENCH_REPORT=FILE, writes them as a Markdown table."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def bench_rows():
    rows: list[dict] = []
    yield rows
    target = os.environ.get("TRUSTSIM_BENCH_REPORT")
    if not target or not rows:
        return
    ns = {r["engine"]: r["ns"] for r in rows if "engine" in r}
    if len(ns) == 2:
        rows.append({"what": "vector speed-up per person-step over agents",
                     "value": f"{ns['agents'] / ns['vector']:.0f}x"})
    lines = [f"Scale `{os.environ.get('TRUSTSIM_BENCH_SCALE', 'full')}`, {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, numpy {np.__version__}. Command: `{' '.join(sys.argv)}`.",
             "", "| measurement | value |", "| --- | --- |"]
    lines += [f"| {r['what']} | {r['value']} |" for r in rows]
    Path(target).write_text("\n".join(lines) + "\n")
