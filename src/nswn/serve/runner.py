"""Interactive runs for the service: a worker pool, a deadline, and an LRU cache.

Each run goes through :func:`nswn.api.simulate` in a worker (a process pool by default, or
threads). A run that passes the run-time limit stops at the next simulated year
(:class:`RunTimeExceeded`). Finished tables are turned once into per-column JSON text and
kept in a least-recently-used cache keyed by the canonical scenario JSON and the seed;
cached values are immutable (strings in read-only mappings), so concurrent requests share
nothing they could change. Identical requests that arrive while a run is in flight wait
for that run instead of starting another.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


class RunTimeExceeded(RuntimeError):
    """A run went past the service's run-time limit."""

    def __init__(self, limit_seconds: float) -> None:
        super().__init__(limit_seconds)
        self.limit_seconds = limit_seconds

    def __str__(self) -> str:
        return (
            f"the run exceeded the service's run-time limit of {self.limit_seconds:g} s; use fewer firms or fewer years"
        )


class Busy(RuntimeError):
    """Too many runs are waiting."""


@dataclass(frozen=True)
class Tables:
    """One run's indicator tables as per-column JSON arrays, plus its manifest."""

    manifest: Mapping[str, Any]
    technology_year: Mapping[str, str]
    macro_year: Mapping[str, str]


def _column_json(values: Any) -> str:
    """A pandas column → JSON array text; NaN and ±inf become null."""
    items = values.tolist()
    if values.dtype.kind == "f":
        items = [v if math.isfinite(v) else None for v in items]
    return json.dumps(items, allow_nan=False, separators=(",", ":"))


def compute(scenario: dict[str, Any], seed: int, limit_seconds: float) -> dict[str, Any]:
    """Run one validated scenario (as JSON data) in a worker; return plain, picklable data."""
    from nswn import api

    deadline = time.monotonic() + limit_seconds

    def check(_year: int) -> None:
        if time.monotonic() > deadline:
            raise RunTimeExceeded(limit_seconds)

    result = api.simulate(scenario, seed=seed, progress=check)
    manifest = {k: v for k, v in result.manifest.items() if k != "scenario_json"}
    return {
        "manifest": manifest,
        "technology_year": {c: _column_json(result.technology_year[c]) for c in result.technology_year.columns},
        "macro_year": {c: _column_json(result.macro_year[c]) for c in result.macro_year.columns},
    }


def _freeze(data: dict[str, Any]) -> Tables:
    return Tables(
        manifest=MappingProxyType(dict(data["manifest"])),
        technology_year=MappingProxyType(dict(data["technology_year"])),
        macro_year=MappingProxyType(dict(data["macro_year"])),
    )


def _series_work() -> Callable[[dict[str, Any], int, float], dict[str, Any]]:
    from nswn.serve.ensemble import compute_series

    return compute_series


def _freeze_series(data: dict[str, Any]) -> Mapping[str, Any]:
    """A run's page series, read-only (shared by every request that hits the cache)."""

    def lock(value: Any) -> Any:
        if isinstance(value, dict):
            return MappingProxyType({k: lock(v) for k, v in value.items()})
        if hasattr(value, "flags"):
            value = value.copy()
            value.flags.writeable = False
        return value

    return lock(data)  # type: ignore[no-any-return]


def _watch_parent(parent: int) -> None:
    """Worker initialiser: end this worker when the server that started it is gone."""
    import os
    import threading

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="nswn-parent-watch", daemon=True).start()


def _start_worker(parent: int) -> None:
    """Worker initialiser: watch the parent (:func:`_watch_parent`), then warm the engine.

    A worker's first run pays about a second more than the next ones (imports, the compiled
    kernels' cache, catalog tables); a run of the baseline at 200 firms over two years pays it
    here, in every worker, before the first request. Best effort: a failure here is ignored
    (requests report real errors), and the warm run's results are discarded, so it changes no
    request's results (each run seeds its own streams).
    """
    _watch_parent(parent)
    try:
        from nswn import api
        from nswn.scenario import io

        base = io.load("baseline")
        api.simulate(base, seed=0, firms=200, end_year=base.years.start + 2)
    except Exception:  # noqa: BLE001, S110 - warming is best effort
        pass


class Runner:
    """Runs scenarios on a pool with a shared, immutable-valued LRU cache.

    Parameters
    ----------
    processes
        Worker processes; 0 runs in threads of this process (tests, small machines).
    threads
        Worker threads when ``processes`` is 0.
    cache_size
        Runs kept in the cache.
    limit_seconds
        Run-time limit of one run.
    max_pending
        Distinct runs allowed to wait or run at once; more raise :class:`Busy`.
    """

    def __init__(
        self,
        *,
        processes: int = 0,
        threads: int = 2,
        cache_size: int = 128,
        limit_seconds: float = 10.0,
        max_pending: int = 64,
    ) -> None:
        self.processes = processes
        self.threads = threads
        self.cache_size = cache_size
        self.limit_seconds = limit_seconds
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._pending: dict[str, Future[Any]] = {}
        self._executor: Executor | None = None
        self.hits = 0
        self.misses = 0

    def start(self) -> None:
        """Create the pool (for processes, each worker imports and warms the engine as it starts)."""
        with self._lock:
            if self._executor is not None:
                return
            if self.processes > 0:
                import multiprocessing

                # spawn: the server has threads, and forked children of threaded parents can deadlock
                self._executor = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(os.getpid(),),
                )
            else:
                self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="nswn-run")

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            # waiting ends the worker processes too; a running run stops within the run-time limit
            executor.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def key(scenario: dict[str, Any], seed: int, kind: str = "tables") -> str:
        """The cache key: canonical JSON of everything that changes results or the run id (the
        assumptions and the agent count — the resolution — included), the seed, and what is kept
        (``tables`` for /api/simulate, ``series`` for the page's paired ensembles)."""
        content = {k: v for k, v in scenario.items() if k not in ("description", "claim", "base")}
        body = (
            {"scenario": content, "seed": seed}
            if kind == "tables"
            else {"scenario": content, "seed": seed, "kind": kind}
        )
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    def submit(self, scenario: dict[str, Any], seed: int, kind: str = "tables") -> tuple[Future[Any], bool]:
        """A future for the run's tables (or page series), and whether it came from the cache."""
        key = self.key(scenario, seed, kind)
        if self._executor is None:
            self.start()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                done: Future[Any] = Future()
                done.set_result(cached)
                return done, True
            pending = self._pending.get(key)
            if pending is not None:
                self.hits += 1
                return pending, True
            if len(self._pending) >= self.max_pending:
                raise Busy(f"{self.max_pending} runs are already waiting (the service's limit); retry shortly")
            if self._executor is None:
                raise RuntimeError("the runner is closed")
            self.misses += 1
            work = compute if kind == "tables" else _series_work()
            raw = self._executor.submit(work, scenario, seed, self.limit_seconds)
            frozen: Future[Any] = Future()
            self._pending[key] = frozen
        freeze = _freeze if kind == "tables" else _freeze_series
        raw.add_done_callback(lambda f: self._finish(key, f, frozen, freeze))
        return frozen, False

    def _finish(
        self, key: str, raw: Future[dict[str, Any]], frozen: Future[Any], freeze: Callable[[dict[str, Any]], Any]
    ) -> None:
        try:
            tables = freeze(raw.result())
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter
            with self._lock:
                self._pending.pop(key, None)
            frozen.set_exception(exc)
            return
        with self._lock:
            self._pending.pop(key, None)
            self._cache[key] = tables
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        frozen.set_result(tables)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "cached_runs": len(self._cache),
                "cache_size": self.cache_size,
                "pending": len(self._pending),
                "hits": self.hits,
                "misses": self.misses,
            }
