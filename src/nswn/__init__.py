"""nswn — an executable model of China's new-style whole-of-nation system (新型举国体制).

The curated public API; importing it loads nothing heavy::

    import nswn
    scenario = nswn.load_scenario("baseline")
    result = nswn.simulate(scenario, seed=0, firms=5000)
    result.technology_year.head()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Result",
    "ScenarioError",
    "__version__",
    "compare",
    "load_scenario",
    "open_results",
    "report",
    "run_ensemble",
    "simulate",
]

if TYPE_CHECKING:
    from nswn.api import Result, compare, load_scenario, open_results, report, run_ensemble, simulate
    from nswn.scenario.io import ScenarioError


def __getattr__(name: str) -> Any:
    if name in ("Result", "load_scenario", "simulate", "open_results", "compare", "report", "run_ensemble"):
        from nswn import api

        return getattr(api, name)
    if name == "ScenarioError":
        from nswn.scenario.io import ScenarioError

        return ScenarioError
    raise AttributeError(f"module 'nswn' has no attribute {name!r}")
