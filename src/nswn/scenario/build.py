"""From a validated scenario to a runnable :class:`nswn.core.model.Model`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from pydantic import BaseModel

from nswn import catalog
from nswn.core.model import Context, Mechanism, Model
from nswn.core.random import stream
from nswn.core.state import GROUPS, OWNER_TYPES, Provinces, State, Technologies
from nswn.instruments import registry
from nswn.instruments.national_teams import NationalTeams, select_team
from nswn.mechanisms import indicators
from nswn.mechanisms.central_budget import CentralBudget
from nswn.mechanisms.entry_exit import EntryExit
from nswn.mechanisms.environment import Environment, GrowthPaths
from nswn.mechanisms.initialisation import InitialSettings, StartMacro, initial_state, rd_closures
from nswn.mechanisms.innovation import Innovation, rd_spend
from nswn.mechanisms.local_allocation import LocalAllocation
from nswn.mechanisms.macro import Macro, MacroPolicy
from nswn.mechanisms.markets import Markets
from nswn.mechanisms.priorities import Priorities
from nswn.mechanisms.research import Research, research_flows
from nswn.scenario.schema import ASSUMPTIONS, GROWTH_COLUMNS, LEVERS, to_params

# ledger lines that are not central-budget instruments
OTHER_LINES = ("export_discipline", "local_discretion", "keep_manufacturing", "upgrade_traditional")


@dataclass(frozen=True)
class Config:
    """A scenario as plain frozen ``Params`` dataclasses, one per section.

    ``catalog`` and ``start_values`` are the scenario's overrides of the vintage's catalog and
    macro start values; ``schedule`` holds, for every change year, the configuration in force
    from that year on (levers, assumptions and catalog growth rates resolved to one value per
    year before the engine runs; :func:`growth_paths`).
    """

    levers: dict[str, Any]
    assumptions: dict[str, Any]
    instruments: dict[str, Any]  # enabled instrument name → its Params
    firms: int
    institutions: int
    start_year: int
    end_year: int
    catalog: dict[str, dict[str, float]] = field(default_factory=dict)
    start_values: dict[str, float] = field(default_factory=dict)
    schedule: tuple[tuple[int, Config], ...] = ()


def to_config(scenario: BaseModel) -> Config:
    """Convert the validated pydantic scenario into dataclasses the mechanisms take."""
    from nswn.scenario import io

    base = _config(scenario)
    changes = tuple(
        (year, _config(io.scenario_model().model_validate(data))) for year, data in io.scheduled_data(scenario)
    )
    return replace(base, schedule=changes)


def _config(scenario: BaseModel) -> Config:
    levers = {key: to_params(t, getattr(scenario.levers, key)) for key, t in LEVERS.items()}  # type: ignore[attr-defined]
    assumptions = {key: to_params(t, getattr(scenario.assumptions, key)) for key, t in ASSUMPTIONS.items()}  # type: ignore[attr-defined]
    chosen = scenario.levers.instruments  # type: ignore[attr-defined]
    instruments = {
        name: to_params(cls.Params, getattr(chosen, name))
        for name, cls in registry().items()
        if getattr(chosen, name) is not None
    }
    return Config(
        levers=levers,
        assumptions=assumptions,
        instruments=instruments,
        firms=scenario.firms if scenario.firms is not None else real_population(),
        institutions=scenario.institutions,  # type: ignore[attr-defined]
        start_year=scenario.years.start,
        end_year=scenario.years.end,
        catalog={tech: dict(columns) for tech, columns in scenario.catalog.items()},  # type: ignore[attr-defined]
        start_values=dict(scenario.start_values),  # type: ignore[attr-defined]
    )  # type: ignore[attr-defined]


def catalog_technologies(
    start_year: int = catalog.LATEST, overrides: dict[str, dict[str, float]] | None = None
) -> Technologies:
    """The catalog's technologies as arrays (static attributes only), as of the vintage of
    ``start_year``, with a scenario's per-technology ``overrides`` applied."""
    techs = catalog.technologies_for(start_year)
    populations = catalog.firm_populations()
    overrides = overrides or {}

    def column(name: str) -> np.ndarray:
        return np.array([overrides.get(t.id, {}).get(name, getattr(t, name)) for t in techs], dtype=float)

    group = np.array([GROUPS.index(t.group) for t in techs], dtype=np.int8)
    return Technologies(
        ids=tuple(t.id for t in techs),
        group=group,
        simulated=group != GROUPS.index("traditional"),
        rel_capability0=column("rel_capability0"),
        emulability=column("emulability"),
        entrepreneurship=column("entrepreneurship"),
        science_intensity=column("science_intensity"),
        frontier_growth=column("frontier_growth"),
        demand0=np.maximum(column("demand0"), 1e-6),
        world_demand0=column("world_demand0"),
        demand_growth=column("demand_growth"),
        world_demand_growth=column("world_demand_growth"),
        foreign_share0=column("foreign_share0"),
        world_share0=column("world_share0"),
        strategic_weight=column("strategic_weight"),
        owner_type=np.array([OWNER_TYPES.index(t.issue_owner_type) for t in techs], dtype=np.int8),
        value_added_ratio=column("value_added_ratio"),
        margin=column("margin"),
        firms_real=np.array(
            [overrides.get(t.id, {}).get("firms_real", populations[t.id].firms_real) for t in techs], dtype=float
        ),
    )


def real_population() -> int:
    """Chinese firms in the catalog's simulated technologies (``firms_real.csv``): the default
    number of agents, one per real firm."""
    tech = catalog_technologies()
    return int(np.round(tech.firms_real[tech.simulated]).sum())


def catalog_provinces() -> Provinces:
    provs = catalog.provinces()
    share = np.array([p.gdp_share for p in provs])
    return Provinces(
        ids=tuple(p.id for p in provs),
        gdp_share=share / share.sum(),
        pilot_intensity=np.array([p.pilot_zone_intensity for p in provs]),
    )


def start_macro(start_year: int = catalog.LATEST, overrides: dict[str, float] | None = None) -> StartMacro:
    """Macro start values of the vintage of ``start_year``, with a scenario's overrides."""
    facts = {key: fact.value for key, fact in catalog.macro_for(start_year).items()}
    facts.update(overrides or {})
    return StartMacro(
        gdp=facts["gdp"],
        manufacturing_value_added=facts["manufacturing_value_added"],
        services_share=facts["services_share"],
        debt_to_gdp=facts["debt_to_gdp"],
        price_level=facts.get("gdp_deflator", 1.0),
        gerd_share=facts.get("gerd_share", 0.0),
        basic_research_share=facts.get("basic_research_share", 0.0),
        labour_intensive_share=facts.get("labour_intensive_share", 1.0),
    )


def ledger_lines() -> tuple[str, ...]:
    """Every ledger line: all registered instruments (enabled or not, so every run's tables
    have the same ``funding_*`` columns) and the non-central lines."""
    return (*registry(), *OTHER_LINES)


def build_model(config: Config, seed: int) -> Model:
    """Initialise the state and assemble the mechanisms in the order of model.md §3.

    The start state comes from the catalog vintage of ``config.start_year`` with the
    scenario's catalog and start-value overrides. With a schedule, the mechanisms are
    re-assembled from the configuration in force at each change year (the state carries on;
    the priority mechanism and its start-year choices are kept).
    """
    lv, asm = config.levers, config.assumptions
    lines = ledger_lines()
    settings = InitialSettings(
        firms=config.firms,
        institutions=config.institutions,
        start_year=config.start_year,
        initial=asm["initial"],
        environment=asm["environment"],
        controls=lv["export_controls"],
        markets=asm["markets"],
        innovation=asm["innovation"],
        research=asm["research"],
        centralisation=lv["local_allocation"].centralisation,
        instruments=lines,
        trade_defence=lv["trade_defence"],
    )
    start = start_macro(config.start_year, config.start_values)
    state = initial_state(
        catalog_technologies(config.start_year, config.catalog),
        catalog_provinces(),
        start,
        settings,
        stream(seed, "initialisation", config.start_year),
    )
    priorities = Priorities(lv["priorities"])
    # the start state gets its priorities (the shortlist is chosen from it) ...
    priorities.step(state, Context(year=state.year, rng=stream(seed, priorities.name, state.year), ledger=state.ledger))
    mechanisms, central, local = _assemble(config, seed, state, priorities, opening=True)
    _opening_flows(state, central, local, asm, seed)
    rd_closures(state, start)
    recorder = indicators.make_recorder(lines)
    changes = dict(config.schedule)
    paths = growth_paths(config)

    def schedule(year: int) -> list[Mechanism] | None:
        if year not in changes:
            return None
        return _assemble(changes[year], seed, state, priorities, opening=False, paths=paths.get(year))[0]

    return Model(
        state,
        mechanisms,
        seed=seed,
        end_year=config.end_year,
        recorder=recorder,
        schedule=schedule if changes else None,
    )


def growth_paths(config: Config) -> dict[int, GrowthPaths]:
    """The growth rates in force from each change year of ``config.schedule`` (model.md §8).

    A schedule's ``catalog`` may change a technology's ``demand_growth``,
    ``world_demand_growth`` and ``frontier_growth`` (:data:`GROWTH_COLUMNS`) from its year on.
    A market rate changed in year ``Y`` applies in full in ``Y`` and converges to the long-run
    rate from there (its ``*_since`` is ``Y − 1``; rates never changed keep the start year).

    Returns
    -------
    {change year: GrowthPaths}
        Only the change years from the first one that changes a rate (before it, and without
        any, the environment uses the catalog's rates as set at the start: the rule is then
        the one without schedules, bit for bit).
    """
    start = catalog_technologies(config.start_year, config.catalog)
    rates = {column: getattr(start, column).copy() for column in GROWTH_COLUMNS}
    since = {column: np.full(len(start.ids), float(config.start_year)) for column in GROWTH_COLUMNS}
    out: dict[int, GrowthPaths] = {}
    changed_yet = False
    for year, then in config.schedule:
        now = catalog_technologies(config.start_year, then.catalog)
        for column in GROWTH_COLUMNS:
            new = getattr(now, column)
            moved = new != rates[column]
            since[column] = np.where(moved, float(year - 1), since[column])
            rates[column] = new.copy()
            changed_yet = changed_yet or bool(moved.any())
        if changed_yet:
            out[year] = GrowthPaths(
                demand_growth=rates["demand_growth"].copy(),
                world_demand_growth=rates["world_demand_growth"].copy(),
                frontier_growth=rates["frontier_growth"].copy(),
                demand_since=since["demand_growth"].copy(),
                world_demand_since=since["world_demand_growth"].copy(),
            )
    return out


def _assemble(
    config: Config,
    seed: int,
    state: State,
    priorities: Priorities,
    *,
    opening: bool,
    paths: GrowthPaths | None = None,
) -> tuple[list[Mechanism], CentralBudget, LocalAllocation]:
    """The year's mechanisms for ``config``, in schedule order (model.md §3); ``paths``: the
    growth rates a schedule set (None: the catalog's)."""
    lv, asm = config.levers, config.assumptions
    instruments = [(registry()[name](params), params.share) for name, params in config.instruments.items()]
    selection: list[Mechanism] = []
    for instrument, _ in instruments:
        if isinstance(instrument, NationalTeams):
            if opening:
                # ... and, with national teams, its first tournament
                select_team(state, instrument.params, stream(seed, "tournament", state.year))
            selection.append(instrument.tournament())
    central = CentralBudget(lv["central_budget"], instruments, seed)
    local = LocalAllocation(lv["local_allocation"], asm["local_behaviour"])
    macro_policy = MacroPolicy(
        keep=lv["keep_manufacturing"],
        upgrade=lv["upgrade_traditional"],
        central_debt_share=lv["central_budget"].debt_financed_share,
        local_debt_share=lv["local_allocation"].debt_financed_share,
        labour_cost_growth=asm["markets"].labour_cost_growth,
    )
    mechanisms: list[Mechanism] = [
        Environment(asm["environment"], lv["export_controls"], paths),
        priorities,
        central,
        local,
        Research(asm["research"]),
        Innovation(asm["innovation"]),
        Markets(asm["markets"], lv["trade_defence"]),
        *selection,
        EntryExit(
            asm["entry_exit"],
            lv["patent_reform"],
            asm["local_behaviour"].pilot_entry_boost,
            max_firms=20 * max(config.firms, real_population(), 1_000),
        ),
        Macro(asm["macro"], macro_policy),
    ]
    names = [m.name for m in mechanisms] + [i.name for i, _ in instruments] + ["initialisation"]
    if len(set(names)) != len(names):
        raise ValueError(f"mechanism and instrument names must be unique (they key random streams): {names}")
    return mechanisms, central, local


def _opening_flows(
    state: State, central: CentralBudget, local: LocalAllocation, asm: dict[str, Any], seed: int
) -> None:
    """The start year's own flows: allocate the budgets once and turn funding into research
    output, so the recorded start year shows the scenario's funding, subsidies and papers.
    Knowledge, capabilities and markets are not touched."""
    year = state.year
    state.ledger.reset()
    for mechanism in (central, local):
        mechanism.step(state, Context(year=year, rng=stream(seed, mechanism.name, year), ledger=state.ledger))
    research_flows(state, asm["research"])
    state.firms.rd = rd_spend(state, asm["innovation"])
