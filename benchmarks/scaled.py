"""A baseline of a given number of agents, also above the real firm population.

Agents are capped at the real population (the catalog's ``firms_real.csv``: 29 234 firms), so
``--firms 1000000`` alone runs 29 234 agents. For scaling benchmarks above that, every
simulated technology's real firm count is multiplied by ``agents / 29 234`` through the
scenario's catalog overrides (``catalog: {technology: {firms_real: ...}}``): a synthetic,
larger economy of the same structure, one agent per (synthetic) firm. Its results are not the
real economy's; only its speed and memory are of interest.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def scenario(agents: int | None, name: str = "baseline", one_per_firm: bool = False) -> Any:
    """The ``name`` scenario at ``agents`` agents (``None`` or 0: the default resolution).

    With ``one_per_firm`` the real firm counts are scaled to ``agents`` also below the real
    population (a smaller synthetic economy) and the agent budget is set to the synthetic
    population, so that there is one agent of weight 1 per firm at every size, no
    super-individuals: what a reference implementation without agent weights (the Mesa docking
    model) can reproduce. Without it, the budget is ``agents`` (above the real population, close
    to one agent per synthetic firm; below it, super-individuals of the real economy).
    """
    from nswn import api
    from nswn.scenario.build import catalog_technologies, real_population

    base = api.load_scenario(name)
    if not agents:
        return base
    real = real_population()
    if agents <= real and not one_per_firm:
        return api.with_overrides(base, firms=agents)
    data = base.model_dump(mode="json")
    tech = catalog_technologies()
    factor = agents / real
    catalog = data.setdefault("catalog", {})
    synthetic = 0
    for i, tid in enumerate(tech.ids):
        if tech.simulated[i]:
            entry = catalog.setdefault(tid, {})
            entry["firms_real"] = float(max(1.0, np.round(entry.get("firms_real", tech.firms_real[i]) * factor)))
            synthetic += int(entry["firms_real"])
    # one agent per (synthetic) firm: the agent budget is the synthetic population itself (the
    # rounded counts may not sum to ``agents`` exactly). Not ``None``: that budget is the *catalog's*
    # real population (29 234, ``real_population``), which above it groups the synthetic firms
    # into super-individuals — agents the Mesa reference, without weights, would count as firms.
    data["firms"] = synthetic if one_per_firm else agents
    data["name"] = f"{data.get('name', name)}_x{factor:.3g}"
    from nswn.scenario import io

    return io.validate(data, f"{data['name']} (benchmark scaling)")
