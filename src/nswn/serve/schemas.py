"""Settings and request/response models of the policy-simulator service.

The request models are built per application (:func:`request_models`), so that the
OpenAPI document states the service's real limits (firm count, years) and the shipped
scenario names a request may use as its base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, model_validator

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
PATH_PATTERN = r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$"
COLUMN_PATTERN = r"^[a-z_][a-z0-9_]*\*?$"
ParameterPath = Annotated[str, StringConstraints(pattern=PATH_PATTERN, max_length=200)]
ColumnName = Annotated[str, StringConstraints(pattern=COLUMN_PATTERN, max_length=80)]


@dataclass(frozen=True)
class Settings:
    """Limits and sizes of the service.

    Attributes
    ----------
    firms
        Agents of an interactive run when a request does not say (None: the whole real
        firm population, one agent per firm — the converged default every shell uses).
    max_firms
        Largest firm count a request may ask for.
    min_start_year, max_end_year
        Years a request may simulate.
    run_seconds
        Run-time limit of one simulation.
    wait_seconds
        Longest a request waits for a busy pool before it is told to retry.
    max_body_bytes
        Largest request body.
    cache_size
        Runs kept in the LRU cache.
    processes
        Worker processes (0: threads of the server process).
    threads
        Worker threads when ``processes`` is 0.
    max_pending
        Distinct runs allowed to wait at once.
    allowed_hosts
        Host headers accepted (None: any); ``nswn serve`` on loopback accepts only loopback
        names, which stops DNS-rebinding pages from driving the service.
    warm
        Run the baseline at start-up so the page's first load is fast.
    page_firms
        Agents of the page's paired runs (``POST /api/ensemble``) when a request does not say:
        3 654 for the 29 234 real firms, resolution 1/8, for the page's speed; at it the paired
        differences of docs/convergence.md pass except the controls' effect on TFP in 2050, and
        the levels of a few outputs are biased slightly (the page states its resolution).
    page_seeds
        Paired seeds of a page update when a request does not say: 12, the smallest of 4, 8,
        12, 16 at which the expected 90 % half-width of the paired difference on the
        stranglehold-at-parity-2050 card is at most 1 technology, with the spread of paired
        differences from a pilot on seeds 1000–1031 (docs/page.md, "How many seeds: the rule";
        ``benchmarks/page_seeds.py``).
    max_seeds
        Most seeds one ensemble request may ask for (it runs twice as many runs).
    """

    firms: int | None = None
    max_firms: int = 40_000
    min_start_year: int = 2000
    max_end_year: int = 2050
    run_seconds: float = 30.0  # the default run is the whole real population (~4 s on one core)
    wait_seconds: float = 60.0
    max_body_bytes: int = 64 * 1024
    cache_size: int = 512  # a page update keeps 2 × page_seeds runs (page series are ~30 kB each)
    processes: int = 0
    threads: int = 2
    max_pending: int = 64
    allowed_hosts: tuple[str, ...] | None = None
    warm: bool = True
    page_firms: int = 3654
    page_seeds: int = 12
    max_seeds: int = 16
    static_dir: Path | None = field(default=None)


class ServiceProblem(Exception):
    """A request the service refuses, with its status and FastAPI-style detail."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


def problem(loc: list[Any], message: str, kind: str, value: Any = None) -> dict[str, Any]:
    item: dict[str, Any] = {"loc": loc, "msg": message, "type": kind}
    if value is not None:
        item["input"] = value
    return item


class Message(BaseModel):
    """An error that is not about one field (size, busy)."""

    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class FieldErrors(BaseModel):
    """Validation errors, one per field path."""

    detail: list[FieldError]


class SimulateResponse(BaseModel):
    """The indicator tables of one run, column by column (``null`` where undefined)."""

    manifest: dict[str, Any] = Field(description="Run id, scenario name and hash, seed, firms, years, version")
    cached: bool = Field(description="Whether the run came from the service's cache")
    technology_year: dict[str, list[str | float | int | bool | None]]
    macro_year: dict[str, list[str | float | int | bool | None]]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    cache: dict[str, int]


def request_models(settings: Settings, shipped: tuple[str, ...]) -> tuple[type[BaseModel], type[BaseModel]]:
    base_type = Literal[shipped]  # type: ignore[valid-type]
    limit = f"(service limit {settings.min_start_year}–{settings.max_end_year})"

    def years_in_order(model: Any) -> Any:
        if model.start_year is not None and model.end_year is not None and model.end_year <= model.start_year:
            raise ValueError(f"end_year ({model.end_year}) must be after start_year ({model.start_year})")
        return model

    common: dict[str, Any] = {
        "base": (base_type, Field("baseline" if "baseline" in shipped else shipped[0], description="Shipped scenario")),
        "overrides": (
            dict[ParameterPath, Any],
            Field(
                default_factory=dict,
                description="Dotted parameter paths under levers. or assumptions. → new values "
                "(see GET /api/catalog); everything else keeps the base scenario's value",
            ),
        ),
        "seed": (int, Field(0, ge=0, le=2**32 - 1, description="Run seed")),
        "firms": (
            int | None,
            Field(
                settings.firms,
                ge=100,
                le=settings.max_firms,
                description=f"Agents representing the real firm population (service limit 100–{settings.max_firms}; "
                "null: the whole real population, the converged default)",
            ),
        ),
        "start_year": (
            int | None,
            Field(
                None,
                ge=settings.min_start_year,
                le=settings.max_end_year - 1,
                description=f"First year; default: the base scenario's {limit}",
            ),
        ),
        "end_year": (
            int | None,
            Field(
                None,
                ge=settings.min_start_year + 1,
                le=settings.max_end_year,
                description=f"Last year; default: the base scenario's, at most {settings.max_end_year} {limit}",
            ),
        ),
    }
    # strict: a JSON true is not a seed, "3000" is not a firm count
    config = ConfigDict(extra="forbid", strict=True)
    validators = {"years_in_order": model_validator(mode="after")(years_in_order)}
    simulate = create_model(  # type: ignore[call-overload]
        "SimulateRequest",
        __config__=config,
        __validators__=validators,
        __doc__="A shipped base scenario, changed parameters and the run size.",
        **common,
        technology_columns=(
            list[ColumnName] | None,
            Field(
                None,
                max_length=200,
                description="Columns of technology_year to return (a trailing * matches a prefix)",
            ),
        ),
        macro_columns=(
            list[ColumnName] | None,
            Field(
                None,
                max_length=200,
                description="Columns of macro_year to return (a trailing * matches a prefix)",
            ),
        ),
    )
    scenario_file = create_model(  # type: ignore[call-overload]
        "ScenarioFileRequest",
        __config__=config,
        __validators__=validators,
        __doc__="The same scenario as a simulate request, to be saved as a YAML file.",
        **common,
        name=(str, Field("custom", min_length=1, max_length=80, pattern=r"^[\w .,()+-]+$")),
    )
    ensemble_fields = {k: v for k, v in common.items() if k not in ("seed", "firms")}
    ensemble = create_model(  # type: ignore[call-overload]
        "EnsembleRequest",
        __config__=config,
        __validators__=validators,
        __doc__="A shipped base scenario and changed parameters, run with its comparison on the same seeds.",
        **ensemble_fields,
        firms=(
            int | None,
            Field(
                settings.page_firms,
                ge=100,
                le=settings.max_firms,
                description=f"Agents representing the real firm population (service limit 100–{settings.max_firms}; "
                "default: the page's stated resolution; null: the whole real population)",
            ),
        ),
        seeds=(
            int,
            Field(
                settings.page_seeds,
                ge=2,
                le=settings.max_seeds,
                description=f"Paired seeds (service limit 2–{settings.max_seeds}); each runs scenario and comparison",
            ),
        ),
        first_seed=(
            int,
            Field(0, ge=0, le=2**32 - 1 - settings.max_seeds, description="Seeds first_seed, first_seed+1, …"),
        ),
        comparison=(
            Literal["modified", "default"],
            Field(
                "modified",
                description="modified: the base scenario under the request's assumptions (its lever changes "
                "undone); default: the base scenario as shipped",
            ),
        ),
    )
    return simulate, scenario_file, ensemble
