"""trustsim: an agent-based simulator of trust in digital public.

    import sim
    sc = sim.load_scenario("default")
    res = sim.run(sc, engine="agents", seed=0)
    res.summary()
"""

from .compare import Comparison, compare
from .results import Results
from .runner import run
from .scenario import Scenario, ScenarioError, load_scenario
from .sweep import SweepError, sweep

__all__ = ["Comparison", "Results", "Scenario", "ScenarioError", "SweepError", "compare", "load_scenario", "run", "sweep"]
