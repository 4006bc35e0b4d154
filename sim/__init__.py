"""trustsim: an agent-based simulator of trust in digital public.

    import sim
    sc = sim.load_scenario("default")
    res = sim.run(sc, engine="agents", seed=0)
    res.summary()
"""

from .results import Results
from .runner import run
from .scenario import Scenario, ScenarioError, load_scenario
from .sweep import SweepError, sweep

__all__ = ["Results", "Scenario", "ScenarioError", "SweepError", "load_scenario", "run", "sweep"]
