"""Struct-of-arrays populations and the whole simulation state.

Each population (firms, institutions) is a dataclass of equally long 1-D NumPy arrays,
one per attribute. Firms are kept sorted by technology (a stable order), so per-technology
segments are contiguous; every operation that adds or removes firms restores that order.
Per-technology and per-province aggregates use ``core.segments``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nswn.core.ledger import Ledger

F64 = NDArray[np.float64]
I32 = NDArray[np.int32]
I16 = NDArray[np.int16]
I8 = NDArray[np.int8]
B8 = NDArray[np.bool_]

# Codes used in integer attribute arrays. Names are the public vocabulary.
GROUPS = ("stranglehold", "bottleneck", "competitive_advantage", "future", "traditional")
OWNER_TYPES = (
    "military_research",
    "think_tank",
    "soe",
    "private_champion",
    "new_rd_institute",
    "none",
)
FOUNDER_TYPES = ("incumbent", "entrepreneur", "returnee", "academic_spinoff")
INSTITUTION_TYPES = ("university", "public_institute", "new_rd_institute", "military_institute")

FOUNDER_INCUMBENT, FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE, FOUNDER_SPINOFF = range(4)


class Population:
    """A struct of arrays: every dataclass field is a 1-D array of the same length."""

    def __len__(self) -> int:
        first = fields(self)[0]  # type: ignore[arg-type]
        return len(getattr(self, first.name))

    def arrays(self) -> dict[str, NDArray[Any]]:
        """Return the attribute arrays by name (views, not copies)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def take(self, index: NDArray[np.integer] | B8) -> None:
        """Keep (and reorder to) the rows selected by an index or boolean mask, in place."""
        for name, values in self.arrays().items():
            setattr(self, name, np.ascontiguousarray(values[index]))

    def extend(self, rows: dict[str, NDArray[Any]]) -> None:
        """Append rows given as a complete mapping of attribute name to array."""
        current = self.arrays()
        missing = set(current) - set(rows)
        extra = set(rows) - set(current)
        if missing or extra:
            raise ValueError(f"rows must give every attribute: missing {missing}, extra {extra}")
        for name, values in current.items():
            setattr(self, name, np.concatenate([values, rows[name].astype(values.dtype)]))


@dataclass
class Firms(Population):
    """Chinese firms, one row each, sorted by technology (model.md §2)."""

    technology: I32
    province: I16
    soe: B8
    founder: I8
    capability: F64
    output: F64  # cumulative output Q (Wright's law), start-year yuan net of labour-cost change
    share: F64  # share of the Chinese market of its technology
    exports: F64  # bn CNY
    revenue: F64  # bn CNY
    rd: F64  # R&D spend, bn CNY
    subsidy: F64  # subsidies received this year, bn CNY
    profit: F64  # bn CNY
    loss_streak: I8
    national_team: B8
    partner: I32  # position of the partner institution in the institution arrays, or -1
    age: I16
    # real firms this agent stands for (1: one firm; >1: a super-individual, Scheffer et al. 1995).
    # Extensive quantities (share, exports, revenue, rd, subsidy, profit, output) are the
    # group's totals; intensive ones (capability, cost) are each member's.
    weight: F64

    @classmethod
    def empty(cls) -> Firms:
        return cls(**{f.name: np.zeros(0, dtype=_FIRM_DTYPES[f.name]) for f in fields(cls)})


_FIRM_DTYPES: dict[str, Any] = {
    "technology": np.int32,
    "province": np.int16,
    "soe": np.bool_,
    "founder": np.int8,
    "capability": np.float64,
    "output": np.float64,
    "share": np.float64,
    "exports": np.float64,
    "revenue": np.float64,
    "rd": np.float64,
    "subsidy": np.float64,
    "profit": np.float64,
    "loss_streak": np.int8,
    "national_team": np.bool_,
    "partner": np.int32,
    "age": np.int16,
    "weight": np.float64,
}


def firm_rows(n: int, **values: NDArray[Any]) -> dict[str, NDArray[Any]]:
    """Return ``n`` new firm rows: given attributes, zeros elsewhere (``partner`` -1)."""
    rows: dict[str, NDArray[Any]] = {}
    for name, dtype in _FIRM_DTYPES.items():
        if name in values:
            rows[name] = np.asarray(values[name]).astype(dtype)
        elif name == "partner":
            rows[name] = np.full(n, -1, dtype=dtype)
        elif name == "weight":
            rows[name] = np.ones(n, dtype=dtype)
        else:
            rows[name] = np.zeros(n, dtype=dtype)
    return rows


@dataclass
class Institutions(Population):
    """Knowledge institutions: universities, public and new R&D institutes, military labs."""

    kind: I8
    field: I32
    quality: F64
    alignment: F64
    funding: F64  # bn CNY received this year
    output: F64  # research output o_k this year
    publications: F64
    patents: F64


@dataclass
class Technologies:
    """Per-technology catalog attributes (static) and state (dynamic), one entry each."""

    ids: tuple[str, ...]
    group: I8
    simulated: B8  # False for the aggregate traditional sector (no firms)
    rel_capability0: F64
    emulability: F64
    entrepreneurship: F64
    science_intensity: F64
    frontier_growth: F64
    demand0: F64
    world_demand0: F64
    demand_growth: F64
    world_demand_growth: F64
    foreign_share0: F64
    world_share0: F64
    strategic_weight: F64
    owner_type: I8
    value_added_ratio: F64
    margin: F64
    firms_real: F64  # Chinese firms competing in the market at the start (catalog firms_real.csv)
    # dynamic state, set by initialisation and mechanisms
    frontier: F64 = field(default_factory=lambda: np.zeros(0))
    demand: F64 = field(default_factory=lambda: np.zeros(0))
    world_demand: F64 = field(default_factory=lambda: np.zeros(0))
    knowledge: F64 = field(default_factory=lambda: np.zeros(0))
    knowledge_required: F64 = field(default_factory=lambda: np.zeros(0))
    fence: F64 = field(default_factory=lambda: np.zeros(0))
    knowhow_access: F64 = field(default_factory=lambda: np.zeros(0))
    market_access: F64 = field(default_factory=lambda: np.zeros(0))
    priority: F64 = field(default_factory=lambda: np.zeros(0))
    foreign_share: F64 = field(default_factory=lambda: np.zeros(0))
    foreign_log_appeal: F64 = field(default_factory=lambda: np.zeros(0))
    foreign_log_weight: F64 = field(default_factory=lambda: np.zeros(0))
    friction: F64 = field(default_factory=lambda: np.zeros(0))
    rd_half0: F64 = field(default_factory=lambda: np.zeros(0))
    output_scale: F64 = field(default_factory=lambda: np.zeros(0))
    fixed_cost0: F64 = field(default_factory=lambda: np.zeros(0))
    research_reference: F64 = field(default_factory=lambda: np.zeros(0))
    reference_funding: F64 = field(default_factory=lambda: np.zeros(0))  # mean per institution, start
    transfer_bonus: F64 = field(default_factory=lambda: np.zeros(0))
    entries: F64 = field(default_factory=lambda: np.zeros(0))
    exits: F64 = field(default_factory=lambda: np.zeros(0))
    china_exports: F64 = field(default_factory=lambda: np.zeros(0))
    foreign_exports: F64 = field(default_factory=lambda: np.zeros(0))
    world_share: F64 = field(default_factory=lambda: np.zeros(0))
    foreign_output: F64 = field(default_factory=lambda: np.zeros(0))  # cumulative, Wright's law
    china_output: F64 = field(default_factory=lambda: np.zeros(0))  # cumulative, all Chinese firms ever
    best_capability: F64 = field(default_factory=lambda: np.zeros(0))
    entrant_weight: F64 = field(default_factory=lambda: np.zeros(0))  # real firms per entrant agent

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, technology_id: str) -> int:
        """Position of a technology id."""
        return self.ids.index(technology_id)


@dataclass
class Provinces:
    """Provinces: GDP shares and pilot-zone intensity (model.md §2, §6.4)."""

    ids: tuple[str, ...]
    gdp_share: F64
    pilot_intensity: F64

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Macro:
    """The aggregate economy, in bn CNY at 2024 prices (model.md §6.10)."""

    gdp: float
    va_traditional: float
    va_strategic: float
    va_services: float
    va_other: float
    debt: float
    productivity_traditional: float = 1.0
    tfp_index: float = 1.0
    tfp_growth: float = 0.0
    strategic_productivity0: float = 1.0
    central_budget: float = 0.0
    local_budget: float = 0.0
    soe_losses: float = 0.0
    manufacturing_subsidy: float = 0.0
    labour_cost: float = 0.0
    decoupling: float = 0.0
    centralisation: float = 0.0
    allocation_quality: float = float("nan")
    rd_rest_intensity: float = 0.0  # R&D / VA of the economy outside the modelled industries (closure)
    basic_research_statistical_share: float = 1.0  # share of basic_research grants that statistics count
    price_level: float = 1.0  # GDP deflator, 1 in 2024; debt is nominal (bn CNY at current prices)
    manufacturing_relative_price: float = 1.0  # manufacturing deflator / GDP deflator, 1 at the start
    # labour-intensive part of va_traditional (textiles, apparel, leather and footwear), bn CNY at
    # 2024 prices; the only part the labour-cost drag relocates (§6.10). NaN: the whole aggregate
    va_labour_intensive: float = float("nan")
    # value added that the home demand for the modelled industries' goods would carry, Σ_t v_t D_t,
    # bn CNY at 2024 prices: the part of the demand for manufactures they serve (§6.10). NaN: not
    # set (a state built by hand); the macro step then takes this year's value as last year's
    strategic_demand_va: float = float("nan")


@dataclass
class CapabilityAttribution:
    """The year's attribution of each technology's capability change to its channels.

    The measured quantity is the log relative capability of a technology's best firm,
    ``c_best − F`` (the run summary's ``relative_capability`` is its exponential). The
    mechanisms add what each channel moved it by this year (``mechanisms.attribution``);
    the recorder takes the sums once a year and starts afresh.

    Attributes
    ----------
    channels
        Channel name → array, shape (n_technologies,), log capability this year.
    firm_subsidy
        Subsidy source (instrument or local channel) → array, shape (n_firms,), bn CNY of
        effective R&D paid to each firm this year (reset with ``firms.subsidy``).
    """

    channels: dict[str, F64] = field(default_factory=dict)
    firm_subsidy: dict[str, F64] = field(default_factory=dict)
    known: list[str] = field(default_factory=list)  # every channel seen so far, in first-seen order
    last_measure: F64 | None = None  # c_best − F at the last recorded year

    def add(self, channel: str, values: F64) -> None:
        """Add ``values`` (shape (n_technologies,)) to ``channel``."""
        current = self.channels.get(channel)
        self.channels[channel] = np.array(values, dtype=np.float64) if current is None else current + values
        if channel not in self.known:
            self.known.append(channel)

    def take(self) -> dict[str, F64]:
        """The channels accumulated since the last call (then cleared)."""
        out, self.channels = self.channels, {}
        return out


@dataclass
class State:
    """Everything a run changes: populations, technologies, provinces, macro, ledger."""

    year: int
    start_year: int
    technologies: Technologies
    firms: Firms
    institutions: Institutions
    provinces: Provinces
    macro: Macro
    ledger: Ledger
    # instrumentation only: nothing in the model reads it (mechanisms.attribution writes it)
    attribution: CapabilityAttribution = field(default_factory=CapabilityAttribution)

    # segment offsets of ``firms.technology`` (``None``: not sorted) and the array they were
    # computed for: recomputed only when entry/exit (or anything else) replaces that array
    _bounds: NDArray[np.intp] | None = field(default=None, init=False, repr=False, compare=False)
    _bounds_of: NDArray[np.int32] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def n_technologies(self) -> int:
        return len(self.technologies)

    def technology_bounds(self) -> NDArray[np.intp] | None:
        """Offsets (length ``n_technologies + 1``) of each technology's contiguous firm segment.

        Kept on the state: computed once per firm table (entry and exit set them when they
        rebuild the table), so the per-technology kernels need not scan for them. ``None``
        when the firms are not sorted by technology. The firm table's ``technology`` array is
        never changed in place (it is replaced), which is what the cache relies on.
        """
        technology = self.firms.technology
        if self._bounds_of is not technology:
            n = self.n_technologies
            if len(technology) > 1 and bool(np.any(technology[1:] < technology[:-1])):
                self._bounds = None
            else:
                bounds = np.zeros(n + 1, dtype=np.intp)
                np.cumsum(np.bincount(technology, minlength=n), out=bounds[1:])
                self._bounds = bounds
            self._bounds_of = technology
        return self._bounds

    def set_technology_bounds(self, bounds: NDArray[np.intp]) -> None:
        """Record the segment offsets of the current (sorted) firm table."""
        self._bounds, self._bounds_of = bounds, self.firms.technology

    def sort_firms(self) -> None:
        """Restore the firms' order by technology (stable, so ties keep their order)."""
        order = np.argsort(self.firms.technology, kind="stable")
        self.firms.take(order)
        self._bounds_of = None
