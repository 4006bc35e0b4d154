"""The compiled engine: the day of sim/schedule.py as numba kernels over the state of sim/state.py.

Same rulebook (sim/rules.py), same world (sim/world.py), same per-decision streams as the Mesa
engine, so both agree exactly at small N (tests/test_docking.py).
"""

from .cache import use_cache_dir

use_cache_dir()  # before the kernels are defined: numba reads it when it sets up their caches

from .run import FastModel, run_fast  # noqa: E402

__all__ = ["FastModel", "run_fast"]
