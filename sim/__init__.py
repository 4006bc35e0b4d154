"""trustsim: an agent-based simulator of trust in digital public.

    import sim
    sc = sim.load_scenario("default")
    res = sim.run(sc, engine="agents", seed=0)
    res.summary()

The public names are imported when first used, so that ``import sim.rules`` (the rulebook, for
numba kernels or a quick look) does not pull in pandas, Mesa or the comparison machinery.
"""

import sys
import types
from importlib import import_module

_PUBLIC = {
    "Calibration": "calibrate", "calibrate": "calibrate", "Comparison": "compare", "compare": "compare", "Results": "results", "run": "runner",
    "optimize": "optimize", "Scenario": "scenario", "ScenarioError": "scenario", "load_scenario": "scenario",
    "SweepError": "sweep", "sweep": "sweep",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """``sim.compare``, ``sim.sweep``, ``sim.calibrate`` and ``sim.optimize`` are functions, named like the modules that define them:
    importing such a module (which sets it as an attribute of the package) must not hide the
    function. The modules stay reachable as ``sys.modules["sim.compare"]`` and by import."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and name in _PUBLIC and _PUBLIC[name] == name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
