"""``python -m sim.fast``: compile the kernels into the on-disk cache now (``make install`` does),
so that the first run, comparison or dashboard on this machine does not wait for it. Compiles for
two and three businesses (the number of businesses is part of a kernel's signature)."""

import time

import sim
from sim.fast import FastModel
from sim.fast.cache import cache_root, source_hash

started = time.perf_counter()
base = sim.load_scenario("default").with_overrides({"population.engaged": 20})
for scenario in (base, base.with_overrides({"businesses.third.initial_share": 0.1})):
    FastModel(scenario, 0, 1).advance(1)
print(f"compiled kernels ready in {cache_root() / source_hash()} ({time.perf_counter() - started:.0f} s)")
