"""The policy-simulator service: a JSON API over :func:`nswn.api.simulate` and the page.

Endpoints
    ``GET /`` the interactive page; ``GET /api/health``; ``GET /api/scenarios`` (shipped
    scenarios with every parameter value); ``GET /api/catalog`` (technologies, parameters,
    curated controls, limits); ``POST /api/simulate`` (a shipped base scenario plus
    overrides → the indicator tables as JSON); ``POST /api/ensemble`` (the same request run
    with its comparison on paired seeds → medians with 90 % bands, paired differences with 90 %
    intervals, the capability attribution and the priority selection; the page's endpoint,
    docs/page.md); ``POST /api/scenario.yaml`` (the same
    request → a scenario file ``nswn run`` accepts); ``GET /openapi.json``.

Safety
    Requests name a *shipped* base scenario and dotted parameter paths under ``levers`` and
    ``assumptions``, never files. Body size, firm count, year range, run time and the number
    of waiting runs are capped; each cap answers with a 4xx naming the limit. Validation
    errors are 422 with field paths. Runs share only an LRU cache whose values are
    immutable. ``nswn serve`` binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from nswn import __version__
from nswn.serve import scenarios as documents
from nswn.serve.ensemble import fold
from nswn.serve.runner import Busy, Runner, RunTimeExceeded, Tables
from nswn.serve.scenarios import build_scenario, scenario_yaml
from nswn.serve.schemas import (
    LOOPBACK_HOSTS,
    FieldErrors,
    Health,
    Message,
    ServiceProblem,
    Settings,
    SimulateResponse,
    problem,
    request_models,
)

__all__ = ["LOOPBACK_HOSTS", "Settings", "create_app", "plotly_js_path"]


@cache
def _static_root() -> Path:
    return Path(str(resources.files("nswn.serve").joinpath("static")))


def plotly_js_path() -> Path | None:
    """plotly.min.js from the installed ``plotly`` package (None when it is not installed)."""
    try:
        root = resources.files("plotly").joinpath("package_data", "plotly.min.js")
    except ModuleNotFoundError:
        return None
    path = Path(str(root))
    return path if path.is_file() else None


def _select(table: dict[str, str] | Any, wanted: list[str] | None, loc: str) -> list[str]:
    if wanted is None:
        return list(table)
    chosen: list[str] = []
    problems = []
    for i, name in enumerate(wanted):
        if name.endswith("*"):
            chosen += [c for c in table if c.startswith(name[:-1]) and c not in chosen]
        elif name in table:
            if name not in chosen:
                chosen.append(name)
        else:
            problems.append(problem(["body", loc, i], f"no such column; columns: {', '.join(table)}", "column"))
    if problems:
        raise ServiceProblem(422, problems)
    return chosen


def _priority_mode(scenario: Any) -> str:
    """The scenario's priority mode (``levers.priorities.mode``; '' when it has none)."""
    levers = scenario.model_dump(mode="json").get("levers") or {}
    return str((levers.get("priorities") or {}).get("mode", ""))


class SafeJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped, so echoed user text (lone surrogates included)
    can always be encoded: an error response never becomes a 500."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def tables_json(tables: Tables, request: Any, cached: bool) -> str:
    """Assemble the response from the cached per-column JSON text (no re-encoding)."""
    tech = _select(tables.technology_year, request.technology_columns, "technology_columns")
    macro = _select(tables.macro_year, request.macro_columns, "macro_columns")
    manifest = dict(tables.manifest)
    parts = [
        '{"manifest":',
        json.dumps(manifest, allow_nan=False),
        ',"cached":',
        "true" if cached else "false",
        ',"technology_year":{',
        ",".join(f"{json.dumps(c)}:{tables.technology_year[c]}" for c in tech),
        '},"macro_year":{',
        ",".join(f"{json.dumps(c)}:{tables.macro_year[c]}" for c in macro),
        "}}",
    ]
    return "".join(parts)


LIMITED_FIELDS = ("firms", "start_year", "end_year", "seed")


def _plain_error(error: dict[str, Any]) -> dict[str, Any]:
    """A pydantic error as loc/msg/type, saying when a bound is one of the service's limits."""
    loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
    message = str(error.get("msg", ""))
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    kind = str(error.get("type", ""))
    if kind in ("less_than_equal", "greater_than_equal") and loc[-1:] and loc[-1] in LIMITED_FIELDS:
        message += " (the service's limit)"
    return problem(loc, message, kind)


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes with 413, streamed or not."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        chunks: list[dict[str, Any]] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Any:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        response = SafeJSONResponse(
            {"detail": f"request body exceeds the service's limit of {self.limit} bytes"}, status_code=413
        )
        await response(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service as a FastAPI application (``nswn serve`` runs it with uvicorn)."""
    from nswn.scenario import io

    settings = settings or Settings()
    shipped = tuple(io.shipped_scenarios())
    simulate_request, scenario_file_request, ensemble_request = request_models(settings, shipped)
    runner = Runner(
        processes=settings.processes,
        threads=settings.threads,
        cache_size=settings.cache_size,
        limit_seconds=settings.run_seconds,
        max_pending=settings.max_pending,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runner.start()
        if settings.warm and "baseline" in shipped:
            try:
                request = simulate_request(base="baseline")
                runner.submit(build_scenario(request, settings).model_dump(mode="json"), 0)
            except Exception:  # noqa: BLE001 - warming is best effort; requests report real errors
                pass
        yield
        runner.close()

    app = FastAPI(
        title="nswn policy simulator",
        version=__version__,
        description="Simulate China's new-style whole-of-nation system for science and technology: "
        "change levers and assumptions of a shipped scenario and get the indicator tables.",
        lifespan=lifespan,
        default_response_class=SafeJSONResponse,
    )
    app.state.runner = runner
    app.state.settings = settings

    @app.exception_handler(ServiceProblem)
    async def _service_problem(_request: Request, exc: ServiceProblem) -> JSONResponse:
        return SafeJSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return SafeJSONResponse({"detail": [_plain_error(e) for e in exc.errors()]}, status_code=422)

    errors = {
        400: {"model": Message, "description": "The body is not valid JSON"},
        413: {"model": Message, "description": "Request body over the size limit"},
        422: {"model": FieldErrors, "description": "Invalid request, scenario, or a run over the time limit"},
        429: {"model": Message, "description": "Too many runs waiting; retry shortly"},
    }

    @app.get("/api/health", response_model=Health, tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness, version and cache counters."""
        return {"status": "ok", "version": __version__, "cache": runner.stats()}

    json_list = {200: {"content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}
    json_object = {200: {"content": {"application/json": {"schema": {"type": "object"}}}}}

    @app.get("/api/scenarios", tags=["scenarios"], response_class=Response, responses=json_list)  # type: ignore[arg-type]
    def scenarios() -> Response:
        """Shipped scenarios with their description, hash and every parameter's value."""
        return Response(documents.scenarios_json(), media_type="application/json")

    @app.get("/api/catalog", tags=["scenarios"], response_class=Response, responses=json_object)  # type: ignore[arg-type]
    def catalog() -> Response:
        """Technologies, every parameter (unit, range, help), the page's curated controls and the limits."""
        return Response(documents.catalog_json(settings), media_type="application/json")

    async def _run(request: Any) -> tuple[Any, Tables, bool]:
        # validation reads the base scenario's file and takes milliseconds: keep it off the event loop
        scenario = await run_in_threadpool(build_scenario, request, settings)
        try:
            future, cached = runner.submit(scenario.model_dump(mode="json"), request.seed)
        except Busy as exc:
            raise ServiceProblem(429, str(exc), {"Retry-After": "2"}) from None
        try:
            tables = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), settings.wait_seconds)
        except RunTimeExceeded as exc:
            raise ServiceProblem(422, [problem(["body"], str(exc), "run_time_limit")]) from None
        except TimeoutError:
            raise ServiceProblem(
                429,
                f"no worker became free within {settings.wait_seconds:g} s "
                "(the service's waiting limit); retry shortly",
                {"Retry-After": "5"},
            ) from None
        return scenario, tables, cached

    async def simulate(request: Any) -> Response:
        """Run a shipped scenario with overrides; return its technology_year and macro_year tables."""
        scenario, tables, cached = await _run(request)
        body = tables_json(tables, request, cached)
        return Response(body, media_type="application/json")

    # the request models are built at run time, so the annotations are set here, not in the signature
    simulate.__annotations__["request"] = simulate_request
    app.post(
        "/api/simulate",
        tags=["simulate"],
        responses={200: {"model": SimulateResponse}, **errors},  # type: ignore[dict-item]
    )(simulate)

    async def ensemble(request: Any) -> Response:
        """The scenario and its comparison on the same seeds: medians with 90 % bands, paired
        differences of the headline numbers with 90 % intervals, the capability attribution and
        the priority selection (see ``nswn.serve.ensemble``)."""
        started = time.monotonic()
        scenario = await run_in_threadpool(build_scenario, request, settings)
        kept = {k: v for k, v in request.overrides.items() if k.startswith("assumptions.")}
        base_request = request.model_copy(update={"overrides": kept if request.comparison == "modified" else {}})
        comparison = await run_in_threadpool(build_scenario, base_request, settings)
        seeds = [request.first_seed + i for i in range(request.seeds)]
        futures = []
        cached = 0
        try:
            for model in (scenario, comparison):
                data = model.model_dump(mode="json")
                for seed in seeds:
                    future, hit = runner.submit(data, seed, kind="series")
                    futures.append(future)
                    cached += hit
        except Busy as exc:
            raise ServiceProblem(429, str(exc), {"Retry-After": "2"}) from None
        try:
            runs = await asyncio.wait_for(
                asyncio.gather(*(asyncio.shield(asyncio.wrap_future(f)) for f in futures)), settings.wait_seconds
            )
        except RunTimeExceeded as exc:
            raise ServiceProblem(422, [problem(["body"], str(exc), "run_time_limit")]) from None
        except TimeoutError:
            raise ServiceProblem(
                429,
                f"the runs did not finish within {settings.wait_seconds:g} s "
                "(the service's waiting limit); retry shortly",
                {"Retry-After": "5"},
            ) from None
        n = len(seeds)
        body = await run_in_threadpool(
            fold,
            runs[:n],
            runs[n:],
            priority_mode=_priority_mode(scenario),
            comparison_priority_mode=_priority_mode(comparison),
        )
        body["seeds"] = seeds
        body["comparison_kind"] = request.comparison
        body["comparison_overrides"] = base_request.overrides
        body["scenario_hash"] = io.scenario_hash(scenario)
        body["timing"] = {"seconds": round(time.monotonic() - started, 3), "runs": 2 * n, "cached_runs": cached}
        return SafeJSONResponse(body)

    ensemble.__annotations__["request"] = ensemble_request
    app.post(
        "/api/ensemble",
        tags=["simulate"],
        responses={
            200: {"content": {"application/json": {}}, "description": "Bands, paired effects, attribution"},
            **errors,
        },  # type: ignore[dict-item]
    )(ensemble)

    def scenario_file(request: Any) -> PlainTextResponse:
        """The request as a scenario YAML file that ``nswn run`` accepts (base + changes only)."""
        scenario = build_scenario(request, settings)
        text = scenario_yaml(request, scenario, settings)
        # a header carries Latin-1 only: the file name keeps ASCII letters, digits, '.', '_' and '-'
        filename = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.name).strip("-")[:80] or "scenario"
        return PlainTextResponse(
            text,
            media_type="application/yaml",
            headers={"Content-Disposition": f'attachment; filename="{filename}.yaml"'},
        )

    scenario_file.__annotations__["request"] = scenario_file_request
    app.post(
        "/api/scenario.yaml",
        tags=["simulate"],
        responses={
            200: {"content": {"application/yaml": {}}, "description": "A scenario file (YAML text)"},
            **errors,
        },  # type: ignore[dict-item]
    )(scenario_file)

    static = settings.static_dir or _static_root()

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(static / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(static / "favicon.svg", media_type="image/svg+xml")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        path = plotly_js_path()
        if path is None:
            return PlainTextResponse("plotly is not installed: pip install 'nswn[report]'", status_code=404)
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    app.mount("/static", StaticFiles(directory=static), name="static")

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'",
            )
        return response

    if settings.allowed_hosts is not None:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
