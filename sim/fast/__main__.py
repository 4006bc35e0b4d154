"""``python -m sim.fast``: compile the kernels into the on-disk cache now (``make install`` does),
so that the first run, comparison or dashboard on this machine does not wait for it. One compile
serves every scenario: no kernel's signature depends on the numbers of people, businesses or
venues (tests/test_fast.py checks)."""

import time

import sim
from sim.fast import FastModel
from sim.fast.cache import cache_root, source_hash

started = time.perf_counter()
FastModel(sim.load_scenario("default").with_overrides({"population.engaged": 20}), 0, 1).advance(1)
print(f"compiled kernels ready in {cache_root() / source_hash()} ({time.perf_counter() - started:.0f} s)")
