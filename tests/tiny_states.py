"""Small hand-built states for behavioural tests (a few firms and technologies, round numbers).

Each test builds exactly the state it needs with :func:`tiny_state`, so that the expected
result of one mechanism or instrument can be computed by hand in the test. Nothing here
reads the catalog or the scenario files: when the model's state gains a field, add its
default here (one place) and the behavioural tests keep working.

Defaults: every technology is simulated, with demand 100, world demand 200, frontier 0,
foreign share 0.5, output scale 100, usable knowledge equal to what is required, full
know-how and market access, priority 1; one university of quality 1 per field; two
provinces of equal GDP share and no pilot zones; a macro economy of GDP 100.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nswn.core.ledger import Ledger
from nswn.core.model import Context
from nswn.core.state import (
    INSTITUTION_TYPES,
    OWNER_TYPES,
    Firms,
    Institutions,
    Macro,
    Provinces,
    State,
    Technologies,
    firm_rows,
)
from nswn.instruments import BUILT_IN, LEVER_INSTRUMENTS
from nswn.mechanisms.markets import MarketParams

UNIVERSITY, PUBLIC_INSTITUTE, NEW_INSTITUTE, MILITARY_INSTITUTE = (
    INSTITUTION_TYPES.index(k) for k in ("university", "public_institute", "new_rd_institute", "military_institute")
)
LEDGER_NAMES = (*BUILT_IN, *LEVER_INSTRUMENTS)

# markets without learning or labour-cost drift and with unit weights: ln E_i = c_i, ln E^f = F_t,
# export elasticity 1; friction at θ 0.3, κ 2 (tests that need it off replace friction_slope)
FLAT_MARKETS = MarketParams(
    learning_rate=0.0,
    labour_cost0=0.0,
    labour_cost_growth=0.0,
    foreign_labour_cost=0.0,
    capability_weight=1.0,
    cost_weight=1.0,
    export_elasticity=1.0,
    friction_threshold=0.3,
    friction_slope=2.0,
)

TECH_DEFAULTS: dict[str, float] = {
    # static catalog attributes
    "group": 0,
    "simulated": True,
    "rel_capability0": 0.0,
    "emulability": 0.5,
    "entrepreneurship": 0.5,
    "science_intensity": 0.5,
    "frontier_growth": 0.0,
    "demand0": 100.0,
    "world_demand0": 200.0,
    "demand_growth": 0.0,
    "world_demand_growth": 0.0,
    "foreign_share0": 0.5,
    "world_share0": 0.2,
    "strategic_weight": 1.0,
    "owner_type": OWNER_TYPES.index("none"),
    "value_added_ratio": 0.3,
    "margin": 0.2,
    "firms_real": 10.0,
    # dynamic state
    "frontier": 0.0,
    "demand": 100.0,
    "world_demand": 200.0,
    "knowledge": 1.0,
    "knowledge_required": 1.0,
    "fence": 0.0,
    "knowhow_access": 1.0,
    "market_access": 1.0,
    "priority": 1.0,
    "foreign_share": 0.5,
    "foreign_log_appeal": 0.0,
    "foreign_log_weight": 0.0,
    "friction": 0.0,
    "rd_half0": 1.0,
    "output_scale": 100.0,
    "fixed_cost0": 0.0,
    "research_reference": 1.0,
    "reference_funding": 1.0,
    "transfer_bonus": 0.0,
    "entries": 0.0,
    "exits": 0.0,
    "china_exports": 0.0,
    "foreign_exports": 0.0,
    "world_share": 0.2,
    "foreign_output": 0.0,
    "china_output": 0.0,
    "best_capability": 0.0,
    "entrant_weight": 1.0,
}
_TECH_DTYPES = {"group": np.int8, "simulated": np.bool_, "owner_type": np.int8}


def technologies(n: int, **values: Any) -> Technologies:
    """``n`` technologies ``t0 … t{n-1}`` with :data:`TECH_DEFAULTS`; a scalar or a length-``n`` list overrides."""
    unknown = set(values) - set(TECH_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown technology attributes {sorted(unknown)}")
    columns = {
        name: np.broadcast_to(np.asarray(values.get(name, default)), (n,)).astype(_TECH_DTYPES.get(name, np.float64))
        for name, default in TECH_DEFAULTS.items()
    }
    return Technologies(ids=tuple(f"t{i}" for i in range(n)), **columns)


def firms(**values: Any) -> Firms:
    """Firms from the given attribute lists (all the same length); zeros elsewhere, no partner."""
    n = len(next(iter(values.values())))
    return Firms(**firm_rows(n, **{k: np.asarray(v) for k, v in values.items()}))


def institutions(**values: Any) -> Institutions:
    """Institutions from the given attribute lists; defaults: universities, quality 1, alignment 0.5, nothing yet."""
    n = len(values["field"])
    defaults: dict[str, Any] = {
        "kind": np.full(n, UNIVERSITY),
        "quality": np.ones(n),
        "alignment": np.full(n, 0.5),
        "funding": np.zeros(n),
        "output": np.zeros(n),
        "publications": np.zeros(n),
        "patents": np.zeros(n),
    }
    merged = {**defaults, **{k: np.asarray(v) for k, v in values.items()}}
    dtypes = {"kind": np.int8, "field": np.int32}
    return Institutions(**{k: np.asarray(v).astype(dtypes.get(k, np.float64)) for k, v in merged.items()})


def tiny_state(
    n_tech: int = 2,
    firm_values: dict[str, Any] | None = None,
    institution_values: dict[str, Any] | None = None,
    provinces: Provinces | None = None,
    macro: Macro | None = None,
    year: int = 2025,
    **tech_values: Any,
) -> State:
    """A whole state: ``n_tech`` technologies (``tech_values`` override), the given firms
    (default: one private firm of capability 0 and share 0.5 per technology) and
    institutions (default: one university of quality 1 per field)."""
    if firm_values is None:
        firm_values = {"technology": list(range(n_tech)), "share": [0.5] * n_tech}
    if institution_values is None:
        institution_values = {"field": list(range(n_tech))}
    state = State(
        year=year,
        start_year=2024,
        technologies=technologies(n_tech, **tech_values),
        firms=firms(**firm_values),
        institutions=institutions(**institution_values),
        provinces=provinces or Provinces(ids=("p0", "p1"), gdp_share=np.array([0.5, 0.5]), pilot_intensity=np.zeros(2)),
        macro=macro
        or Macro(gdp=100.0, va_traditional=20.0, va_strategic=10.0, va_services=50.0, va_other=20.0, debt=0),
        ledger=Ledger(LEDGER_NAMES, n_tech),
    )
    if np.any(np.diff(state.firms.technology) < 0):
        raise ValueError("tiny_state: list firms sorted by technology")
    return state


def ctx(state: State, seed: int = 0) -> Context:
    """A context for ``state``'s year with a fresh generator of ``seed``."""
    return Context(year=state.year, rng=np.random.default_rng(seed), ledger=state.ledger)


def booked(state: State, instrument: str) -> float:
    """Total bn CNY booked by ``instrument`` this year."""
    return state.ledger.by_instrument()[instrument]
