"""Serve the dashboard for a room: production mode, bounded sessions, no telemetry, offline assets.

``trustsim dashboard [--host H] [--port P]`` (and ``make dashboard``) end up here.
"""

from __future__ import annotations

import os
import sys

from .assets import cache_dir, needed_specs
from .wall import KEY_ENV, new_key

DEFAULTS = {"host": "127.0.0.1", "port": 8765, "max_sessions": 120, "cull_minutes": 10}


def missing_assets() -> list[str]:
    root = cache_dir()
    return [s for s in needed_specs() if not (root / s).is_dir()]


def environment(max_sessions: int, cull_minutes: float, workers: int | None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault(KEY_ENV, new_key())  # the facilitator's key: a new one each start unless given
    env.update({
        # SOLARA_KERNEL_MAX_COUNT is the setting Solara reads (SOLARA_KERNELS_MAX_COUNT, in its docs, is not):
        # at the limit a new page waits on "Loading app" instead of taking the server down.
        "SOLARA_KERNEL_MAX_COUNT": str(max_sessions),
        # Closed tabs keep their kernel for 24 h by default; a workshop room churns through many.
        "SOLARA_KERNEL_CULL_TIMEOUT": f"{cull_minutes:g}m",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        # The "This website runs on Solara" badge sits over the numbers on a phone.
        "SOLARA_THEME_SHOW_BANNER": "False",
        "SOLARA_THEME_TITLE": "Trust in digital public",
    })
    if workers:
        env["TRUSTSIM_DASHBOARD_WORKERS"] = str(workers)
    return env


def command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "solara", "run", "dashboards.app", "--production", "--host", host, "--port", str(port),
            "--no-open", "--no-check-version"]


def serve(host: str, port: int, max_sessions: int, cull_minutes: float, workers: int | None) -> None:
    """Replace this process with the Solara server (signals and exit codes then are the server's)."""
    cmd = command(host, port)
    env = environment(max_sessions, cull_minutes, workers)
    print(f"trustsim dashboard: http://{host}:{port}/  (up to {max_sessions} sessions; closed tabs freed after "
          f"{cull_minutes:g} min; Ctrl-C stops)", flush=True)
    print(f"facilitator's wall (keep this link to yourself: it can clear the wall and push a preset): "
          f"http://{host}:{port}/wall?key={env[KEY_ENV]}", flush=True)
    os.execve(cmd[0], cmd, env)
