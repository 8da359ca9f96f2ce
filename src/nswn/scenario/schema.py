"""The scenario schema, generated from the mechanisms' ``Params`` dataclasses.

A scenario has two sections that the interactive page also keeps apart: ``levers`` (what
a government chooses) and ``assumptions`` (how the world works). Each subsection is one
``Params`` dataclass; its fields' units, ranges and help come from
:func:`nswn.core.params.param`, so they are declared once. Unknown keys are errors.
"""

from __future__ import annotations

import dataclasses
import typing
from functools import cache
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    create_model,
    field_validator,
    model_validator,
)

from nswn import catalog
from nswn.instruments import registry
from nswn.instruments.keep_manufacturing import KeepManufacturingParams
from nswn.instruments.patent_reform import PatentReformParams
from nswn.instruments.upgrade_traditional import UpgradeTraditionalParams
from nswn.mechanisms.central_budget import CentralBudgetParams
from nswn.mechanisms.entry_exit import EntryExitParams
from nswn.mechanisms.environment import (
    EnvironmentParams,
    ExportControlBatch,
    ExportControlParams,
    TradeDefenceMeasure,
    TradeDefenceParams,
)
from nswn.mechanisms.indicators import IndicatorParams
from nswn.mechanisms.initialisation import InitialParams
from nswn.mechanisms.innovation import InnovationParams
from nswn.mechanisms.local_allocation import LocalBehaviourParams, LocalPolicyParams
from nswn.mechanisms.macro import MacroParams
from nswn.mechanisms.markets import MarketParams
from nswn.mechanisms.priorities import PriorityParams
from nswn.mechanisms.research import ResearchParams

STRICT = ConfigDict(extra="forbid", frozen=True)

# section name → Params dataclass; the order is the order of the docs and the page
LEVERS: dict[str, type] = {
    "priorities": PriorityParams,
    "central_budget": CentralBudgetParams,
    "local_allocation": LocalPolicyParams,
    "export_controls": ExportControlParams,
    "trade_defence": TradeDefenceParams,
    "patent_reform": PatentReformParams,
    "keep_manufacturing": KeepManufacturingParams,
    "upgrade_traditional": UpgradeTraditionalParams,
}
ASSUMPTIONS: dict[str, type] = {
    "environment": EnvironmentParams,
    "research": ResearchParams,
    "innovation": InnovationParams,
    "markets": MarketParams,
    "local_behaviour": LocalBehaviourParams,
    "entry_exit": EntryExitParams,
    "macro": MacroParams,
    "initial": InitialParams,
    "indicators": IndicatorParams,
}

LIMITS = {
    "firms": (100, 10_000_000),
    "institutions": (10, 1_000_000),
    "year": (1990, 2150),
    "span": 150,
}


def _check_technologies(value: tuple[str, ...]) -> tuple[str, ...]:
    known = catalog.technology_ids()
    for tech in value:
        if tech not in known:
            import difflib

            close = difflib.get_close_matches(tech, known, n=1) if len(tech) <= 100 else []
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown technology {_shown(tech)}{hint}; see `nswn catalog` for the ids")
    return value


def _shown(text: str) -> str:
    """``repr`` of user text, cut to 60 characters (messages echo at most that much)."""
    shown = repr(text[:60])
    return shown if len(text) <= 60 else shown + "..."


def _problems_validator(params_type: type) -> Any:
    def check(model: BaseModel) -> BaseModel:
        instance = to_params(params_type, model)
        problems = instance.problems() if hasattr(instance, "problems") else []
        if problems:
            raise ValueError("; ".join(f"{field}: {message}" for field, message in problems))
        return model

    return model_validator(mode="after")(check)


@cache
def model_for(params_type: type) -> type[BaseModel]:
    """A strict pydantic model mirroring a ``Params`` dataclass (ranges from its metadata)."""
    hints = typing.get_type_hints(params_type)
    definitions: dict[str, Any] = {}
    for f in dataclasses.fields(params_type):
        meta = f.metadata
        annotation = hints[f.name]
        if annotation in (int, float):
            # numbers must be numbers: YAML booleans (true → 1) and numeric text (' 5 ') are refused
            annotation = Annotated[annotation, Strict()]
        origin = typing.get_origin(annotation)
        if origin is tuple and typing.get_args(annotation)[0] is not str:
            inner = typing.get_args(annotation)[0]
            annotation = tuple[model_for(inner), ...]  # type: ignore[misc]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        if dataclasses.is_dataclass(default) or (
            isinstance(default, tuple) and default and dataclasses.is_dataclass(default[0])
        ):
            default = _to_model_value(default)
        constraints: dict[str, Any] = {}
        if meta.get("lo") is not None:
            constraints["ge"] = meta["lo"]
        if meta.get("hi") is not None:
            constraints["le"] = meta["hi"]
        definitions[f.name] = (
            Annotated[
                annotation,
                Field(
                    description=meta.get("doc", ""),
                    **constraints,
                    json_schema_extra={
                        "unit": meta.get("unit", ""),
                        "basis": meta.get("basis", "judged"),
                    },
                ),
            ],
            default,
        )
    validators: dict[str, Any] = {}
    if params_type in (ExportControlBatch, TradeDefenceMeasure):
        validators["known_technologies"] = field_validator("technologies")(_check_technologies)
    if hasattr(params_type, "problems"):
        validators["cross_field"] = _problems_validator(params_type)
    return create_model(
        params_type.__name__ + "Model",
        __config__=STRICT,  # type: ignore[call-overload,no-any-return]
        __doc__=params_type.__doc__,
        __validators__=validators,
        **definitions,
    )


def _to_model_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_to_model_value(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return model_for(type(value))(
            **{f.name: _to_model_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
        )
    return value


def to_params(params_type: type, model: BaseModel) -> Any:
    """Convert a validated section model back into its frozen ``Params`` dataclass."""
    hints = typing.get_type_hints(params_type)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(params_type):
        value = getattr(model, f.name)
        annotation = hints[f.name]
        if typing.get_origin(annotation) is tuple and typing.get_args(annotation)[0] is not str:
            inner = typing.get_args(annotation)[0]
            value = tuple(to_params(inner, v) for v in value)
        values[f.name] = value
    return params_type(**values)


def _section(name: str, members: dict[str, type], doc: str) -> type[BaseModel]:
    fields: dict[str, Any] = {key: (model_for(t), model_for(t)()) for key, t in members.items()}
    return create_model(name, __config__=STRICT, __doc__=doc, **fields)  # type: ignore[call-overload,no-any-return]


@cache
def instruments_model() -> type[BaseModel]:
    """The ``levers.instruments`` section: one optional entry per registered instrument."""
    fields: dict[str, Any] = {name: (model_for(cls.Params) | None, None) for name, cls in registry().items()}

    def shares_sum_to_one(model: BaseModel) -> BaseModel:
        total = sum(getattr(model, name).share for name in registry() if getattr(model, name) is not None)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"instrument shares must sum to 1 (they sum to {total:.4f})")
        return model

    return create_model(  # type: ignore[call-overload,no-any-return]
        "Instruments",
        __config__=STRICT,
        __doc__="Central budget lines and their shares.",
        __validators__={"shares": model_validator(mode="after")(shares_sum_to_one)},
        **fields,
    )


# catalog columns a scenario may override per technology (``catalog:``), with their ranges
CATALOG_OVERRIDES: dict[str, tuple[float, float]] = {
    **catalog.TECHNOLOGY_RANGES,
    "firms_real": (1.0, 10_000_000.0),
}
# catalog columns a scenario's schedule may change by year (model.md §8): rates, not start values
GROWTH_COLUMNS = ("demand_growth", "world_demand_growth", "frontier_growth")
# macro start values a scenario may override (``start_values:``), with their ranges
START_VALUES: dict[str, tuple[float, float]] = {
    "gdp": (1.0, 1e7),
    "manufacturing_value_added": (1.0, 1e7),
    "services_share": (0.0, 1.0),
    "debt_to_gdp": (0.0, 20.0),
    "labour_intensive_share": (0.0, 1.0),
}


def _range_problems(values: dict[str, float], ranges: dict[str, tuple[float, float]], label: str) -> list[str]:
    """``key: problem`` texts for values whose key is unknown or whose value is out of range."""
    problems = []
    for key, number in values.items():
        if key not in ranges:
            kind = "column" if label else "start value"
            problems.append(f"{label}{key}: unknown {kind}; allowed: {', '.join(ranges)}")
            continue
        lo, hi = ranges[key]
        if not lo <= number <= hi:
            problems.append(f"{label}{key} = {number}: out of range; allowed: from {lo:g} to {hi:g}")
    return problems


def _check_catalog(value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    known = catalog.technology_ids()
    problems = []
    for tech, columns in value.items():
        if tech not in known:
            import difflib

            close = difflib.get_close_matches(tech, known, n=1)
            problems.append(f"unknown technology {tech!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            continue
        problems += _range_problems(columns, CATALOG_OVERRIDES, f"{tech}.")
    if problems:
        raise ValueError("; ".join(problems))
    return value


def _check_start_values(value: dict[str, float]) -> dict[str, float]:
    problems = _range_problems(value, START_VALUES, "")
    if problems:
        raise ValueError("; ".join(problems))
    return value


class Years(BaseModel):
    """Simulated calendar years; ``start`` must have a data vintage (``catalog.VINTAGES``)."""

    model_config = STRICT
    start: StrictInt = Field(2024, ge=LIMITS["year"][0], le=LIMITS["year"][1], description="First (recorded) year")
    end: StrictInt = Field(2050, ge=LIMITS["year"][0], le=LIMITS["year"][1], description="Last simulated year")

    @model_validator(mode="after")
    def _order(self) -> Years:
        if self.start not in catalog.VINTAGES:
            raise ValueError(
                f"start = {self.start}: no data vintage for this start year; available start years: "
                f"{', '.join(str(v) for v in catalog.VINTAGES)} (a start year is never relabelled)"
            )
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        if self.end - self.start > LIMITS["span"]:
            raise ValueError(f"at most {LIMITS['span']} years may be simulated")
        return self


@cache
def scenario_model() -> type[BaseModel]:
    """The whole scenario file."""
    levers_fields = {key: (model_for(t), model_for(t)()) for key, t in LEVERS.items()}
    default_instruments = instruments_model()(basic_research={"share": 1.0})
    levers_fields["instruments"] = (instruments_model(), default_instruments)
    levers = create_model(
        "Levers",
        __config__=STRICT,
        __doc__="What a government chooses.",  # type: ignore[call-overload]
        **levers_fields,
    )
    assumptions = _section("Assumptions", ASSUMPTIONS, "How the world works (uncertain).")
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Scenario",
        __config__=STRICT,
        __doc__="An nswn scenario.",
        name=(str, Field("unnamed", min_length=1, max_length=80)),
        description=(str, ""),
        claim=(str, Field("", description="Which claim of the brief the scenario serves")),
        base=(str | None, None),
        years=(Years, Years()),
        firms=(
            StrictInt | None,
            Field(
                None,
                ge=LIMITS["firms"][0],
                le=LIMITS["firms"][1],
                description="Agents that represent the catalog's real firm population (firms_real.csv); fewer agents "
                "than real firms group the smaller firms into super-individuals (a coarser resolution, precision "
                "only). Default (null): the whole real population, one agent per firm — the converged resolution "
                "(docs/convergence.md)",
            ),
        ),
        institutions=(
            StrictInt,
            Field(
                3_000,
                ge=LIMITS["institutions"][0],
                le=LIMITS["institutions"][1],
                description="Number of knowledge institutions",
            ),
        ),
        catalog=(
            Annotated[
                dict[str, dict[str, Annotated[float, Strict()]]],
                AfterValidator(_check_catalog),
                Field(description="Per-technology overrides of catalog attributes: {technology id: {column: value}}"),
            ],
            {},
        ),
        start_values=(
            Annotated[
                dict[str, Annotated[float, Strict()]],
                AfterValidator(_check_start_values),
                Field(description="Overrides of the vintage's macro start values (bn CNY at 2024 prices, ratios)"),
            ],
            {},
        ),
        schedule=(
            dict[int, dict[str, Any]],  # lax keys: JSON object keys are strings
            Field(
                {},
                description="Changes by year: {year: {levers: {...}, assumptions: {...}, catalog: {technology: "
                "{demand_growth|world_demand_growth|frontier_growth: value}}}}; each year's changes apply from that "
                "year on, on top of the earlier ones (validated as whole scenarios)",
            ),
        ),
        levers=(levers, levers()),
        assumptions=(assumptions, assumptions()),
    )
