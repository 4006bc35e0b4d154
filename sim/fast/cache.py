"""Where the compiled kernels are cached on disk, so that only the first run on a machine pays for
compiling them.

numba keys a cached kernel on its own source file, not on the functions it calls: a change to
the rulebook alone would leave stale machine code in use. So the cache lives in a folder named
after a hash of every source file the kernels are built from, and a change to any of them starts
a fresh folder; folders no run has used for a week are removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import numba

SIM = Path(__file__).resolve().parent.parent
SOURCES = ("rules.py", "state.py", "schedule.py", "streams.py", "world.py", "fast/kernels.py", "fast/draws.py", "fast/memory.py")
STALE_SECONDS = 7 * 24 * 3600


def source_hash() -> str:
    h = hashlib.sha256(numba.__version__.encode())
    for name in SOURCES:
        h.update((SIM / name).read_bytes())
    return h.hexdigest()[:16]


def cache_root() -> Path:
    base = os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "trustsim-numba" if not os.environ.get("NUMBA_CACHE_DIR") else Path(base)


def use_cache_dir() -> Path:
    root = cache_root()
    here = root / source_hash()
    try:
        here.mkdir(parents=True, exist_ok=True)
        os.utime(here)
        for other in root.iterdir():
            if other != here and other.is_dir() and time.time() - other.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(other, ignore_errors=True)
    except OSError:  # a read-only home: numba falls back to __pycache__ or compiles each time
        return here
    numba.config.CACHE_DIR = str(here)
    return here
