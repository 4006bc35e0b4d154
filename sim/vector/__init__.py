"""The numpy engine: structure-of-arrays state, one function per phase, lazy trust decay.

Same rulebook (sim/rules.py), same world (sim/world.py), same per-decision streams as the Mesa
engine, so both agree exactly at small N (tests/test_docking.py).
"""

from .run import run_vector

__all__ = ["run_vector"]
