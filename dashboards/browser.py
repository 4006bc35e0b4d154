"""A served dashboard and a real browser, for the browser tests, the load benchmark and screenshots.

The browser is Debian's Chromium driven by Playwright (Playwright's own browser download does not
work on the machines this project runs on).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = os.environ.get("TRUSTSIM_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's hosts, which a closed
# network refuses, many at a time.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def have_chromium() -> bool:
    return Path(CHROMIUM).exists()


def launch(playwright):
    """Headless Chromium from the system."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(port: int | None = None, workers: int | None = None, log: Path | None = None,
           timeout: float = 60.0, key: str | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """``trustsim dashboard`` on 127.0.0.1 in a subprocess; yields (base url, process). ``key``:
    the facilitator's key to start it with (default: the server makes one up)."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "sim", "dashboard", "--port", str(port)]
    if workers:
        cmd += ["--workers", str(workers)]
    out = open(log, "w") if log else subprocess.DEVNULL
    # Its own process group, so the server's forkserver, manager and run processes go with it.
    env = {**os.environ, "TRUSTSIM_FACILITATOR_KEY": key} if key else None
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent,
                            start_new_session=True, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"`{' '.join(cmd)}` exited with {proc.returncode}" + (f"; see {log}" if log else ""))
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.3)
        yield url, proc
    finally:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(proc.pid, signal.SIGKILL)
        if log:
            out.close()
