"""Sweeps: run a design's unfinished runs on a runner and store each one as it finishes.

The parent process alone writes the results store. Before any run it records the design
and its plan (``designs``, ``design_runs``); finished runs are then written in batches, each
batch in one transaction (up to ``STORE_RUNS`` runs, or what finished within
``STORE_SECONDS``; the first run at once); the design's manifest row is completed last. Runs already stored are skipped,
so a sweep that was killed — even with SIGKILL — and is started again finishes the missing
runs and ends with exactly the tables an uninterrupted sweep writes.

Runs go to workers in batches sized so that each task carries about ``task_seconds`` of
work (measured on the first tasks), with enough tasks in flight to keep every worker busy
while the parent writes.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from nswn.experiments.design import Design, RunSpec
from nswn.experiments.runners import RunFailure, Runner, make_runner
from nswn.storage.store import ResultsStore

TASK_SECONDS = 1.0
IN_FLIGHT_PER_SLOT = 2
# finished runs are stored together, in one transaction, once this many are waiting or this
# long after the last write (a DuckDB transaction costs about as much as writing one run);
# the first finished run is stored at once, so a sweep shows stored progress early
STORE_RUNS = 16
STORE_SECONDS = 2.0


class SweepError(RuntimeError):
    """A sweep stopped: a worker died or the cluster went away. Stored runs are kept."""


class SweepStopped(Exception):
    """A sweep stopped on request (``should_stop``); the runs stored so far are kept.

    Attributes
    ----------
    report
        What the sweep had done when it stopped.
    """

    def __init__(self, report: SweepReport) -> None:
        super().__init__(f"stopped after storing {report.completed} run(s)")
        self.report = report


@dataclass
class Progress:
    """Where a sweep stands, passed to the progress callback after every write of finished runs
    (and after a task with failed runs)."""

    done: int
    total: int
    skipped: int
    failed: int
    elapsed: float


@dataclass
class SweepReport:
    """What a sweep did.

    Attributes
    ----------
    planned
        Distinct runs in the design.
    skipped
        Runs already in the store, not run again.
    completed
        Runs run and stored by this sweep.
    failures
        Runs that raised (the sweep goes on without them; re-run to retry).
    seconds
        Wall time of the sweep.
    run_seconds
        Sum of the runs' own simulation times (``wall_seconds`` of their manifests).
    tasks
        Tasks sent to the runner.
    """

    design: Design
    store: ResultsStore
    runner: str
    planned: int
    skipped: int
    completed: int = 0
    failures: list[RunFailure] = field(default_factory=list)
    seconds: float = 0.0
    run_seconds: float = 0.0
    tasks: int = 0

    @property
    def complete(self) -> bool:
        return self.skipped + self.completed == self.planned and not self.failures


def plan_frame(design: Design) -> pd.DataFrame:
    """The ``design_runs`` rows of a design: one per design point and replicate."""
    return pd.DataFrame(
        [
            {
                "run_id": spec.run_id,
                "arm": spec.arm,
                "scenario_name": spec.scenario_name,
                "scenario_hash": spec.scenario_hash,
                "lever_point": spec.lever_point,
                "uncertainty_point": spec.uncertainty_point,
                "replicate": spec.replicate,
                "seed": spec.seed,
                "overrides_json": json.dumps(dict(spec.overrides), sort_keys=True),
            }
            for spec in design.runs
        ]
    )


def design_record(design: Design) -> dict[str, Any]:
    """The ``designs`` row of a design (its manifest)."""
    from nswn import __version__

    return {
        "design_hash": design.design_hash,
        "name": design.name,
        "description": design.description,
        "source": design.source,
        "runs_planned": len(design.unique_runs()),
        "package_version": __version__,
        "design_json": json.dumps(design.to_json(), sort_keys=True),
        "started_at": _now(),
        "completed_at": None,
    }


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def sweep(
    design: Design,
    out: str | Path | ResultsStore,
    runner: str | Runner = "processes",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    batch_size: int | None = None,
    task_seconds: float = TASK_SECONDS,
    progress: Callable[[Progress], None] | None = None,
    on_start: Callable[[int, int, Runner], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SweepReport:
    """Run every unfinished run of ``design`` and store it.

    Parameters
    ----------
    design
        From :func:`nswn.experiments.design.load_design`.
    out
        Results directory (or an open :class:`ResultsStore`).
    runner
        ``serial``, ``processes``, ``dask`` or a runner from :func:`make_runner`; a runner given
        by name is started and closed here; one given as an object is left open (but stopped
        with its work cancelled if the sweep fails or is stopped).
    workers, scheduler, dask_local
        Options of a runner given by name (see :func:`nswn.experiments.runners.make_runner`);
        it is started only when there is something to run.
    batch_size
        Runs per task; ``None`` sizes tasks to about ``task_seconds`` of work each.
    progress
        Called after each batch of finished runs is stored (and after failed runs).
    on_start
        Called once with (runs to do now, runs already stored, runner) before the first task.
    should_stop
        Polled between tasks; when it returns true the sweep cancels the tasks in flight and
        raises :class:`SweepStopped` (how ``nswn sweep`` handles Ctrl-C and SIGTERM: never in
        the middle of writing a run).

    Raises
    ------
    SweepError
        When a worker dies or a task cannot be completed; runs stored so far are kept.
    SweepStopped
        When ``should_stop`` asked for it; runs stored so far are kept.
    """
    store = out if isinstance(out, ResultsStore) else ResultsStore(out)
    finished = store.finished_run_ids()
    unique = design.unique_runs()
    todo = [spec for spec in unique if spec.run_id not in finished]
    report = SweepReport(
        design=design,
        store=store,
        runner=runner if isinstance(runner, str) else runner.name,
        planned=len(unique),
        skipped=len(unique) - len(todo),
    )
    started = time.perf_counter()
    store.begin_design(design_record(design), plan_frame(design))
    if todo:
        owned = isinstance(runner, str)
        active = (
            make_runner(runner, workers=workers, scheduler=scheduler, dask_local=dask_local)
            if isinstance(runner, str)
            else runner
        )
        report.runner = active.describe()
        if on_start is not None:
            on_start(len(todo), report.skipped, active)
        loop = _Loop(active, store, report, batch_size, task_seconds, progress, should_stop, started)
        try:
            loop.run(todo)
        except BaseException:
            active.close(cancel=True)
            raise
        if owned:
            active.close()
    report.seconds = time.perf_counter() - started
    if report.complete:
        store.complete_design(design.design_hash, _now())
    return report


@dataclass
class _Loop:
    """The sweep's main loop: keep the runner busy, store each finished run, report progress."""

    runner: Runner
    store: ResultsStore
    report: SweepReport
    batch_size: int | None
    task_seconds: float
    progress: Callable[[Progress], None] | None
    should_stop: Callable[[], bool] | None
    started: float

    def run(self, todo: list[RunSpec]) -> None:
        runner, report = self.runner, self.report
        queue = deque(todo)
        pending: set[Any] = set()
        batch_of: dict[Any, list[RunSpec]] = {}
        per_run: float | None = None
        limit = runner.slots * (IN_FLIGHT_PER_SLOT if runner.batching else 1)
        buffer: list[Any] = []
        last_write = time.perf_counter()
        with self.store.writer() as writer:
            try:
                while queue or pending:
                    if self.should_stop is not None and self.should_stop():
                        self._flush(buffer, writer)
                        report.seconds = time.perf_counter() - self.started
                        raise SweepStopped(report)
                    while queue and len(pending) < limit:
                        size = _batch_size(runner, self.batch_size, per_run, self.task_seconds, len(queue))
                        batch = [queue.popleft() for _ in range(min(size, len(queue)))]
                        handle = runner.submit(batch)
                        report.tasks += 1
                        pending.add(handle)
                        batch_of[handle] = batch
                    try:
                        done, pending = runner.wait(pending)
                    except Exception as exc:  # noqa: BLE001 - a lost scheduler, a cluster without workers …
                        raise SweepError(
                            f"the {runner.name} runner failed ({type(exc).__name__}: {_first_line(exc)}); the "
                            f"{report.completed + len(buffer)} run(s) finished so far are stored — run the "
                            "sweep again to resume"
                        ) from exc
                    failed_before = len(report.failures)
                    for handle in done:
                        batch = batch_of.pop(handle)
                        seconds = self._collect(handle, batch, buffer)
                        measured = seconds / len(batch)
                        per_run = measured if per_run is None else 0.7 * per_run + 0.3 * measured
                    now = time.perf_counter()
                    stored = 0
                    if (
                        not (queue or pending)
                        or report.completed == 0  # the first finished run is stored at once
                        or len(buffer) >= STORE_RUNS
                        or now - last_write >= STORE_SECONDS
                    ):
                        stored = self._flush(buffer, writer)
                        last_write = now
                    if self.progress is not None and (stored or len(report.failures) > failed_before):
                        self.progress(
                            Progress(
                                done=report.completed + len(report.failures),
                                total=len(todo),
                                skipped=report.skipped,
                                failed=len(report.failures),
                                elapsed=time.perf_counter() - self.started,
                            )
                        )
            except SweepError:
                self._flush(buffer, writer)  # runs that did finish are kept
                raise

    def _flush(self, buffer: list[Any], writer: Any) -> int:
        """Store the waiting runs in one transaction; return how many."""
        count = len(buffer)
        if count:
            writer.write_many(buffer)
            self.report.completed += count
            buffer.clear()
        return count

    def _collect(self, handle: Any, batch: list[RunSpec], buffer: list[Any]) -> float:
        """Take a finished task's runs into ``buffer`` (stored by :meth:`_flush`); return the task's seconds."""
        report = self.report
        try:
            outcome = handle.result()
        except Exception as exc:  # noqa: BLE001 - a dead worker, a lost cluster …
            arms = ", ".join(sorted({spec.arm for spec in batch}))
            raise SweepError(
                f"a task of {len(batch)} run(s) of {arms} could not be completed "
                f"({type(exc).__name__}: {_first_line(exc)}); the {report.completed + len(buffer)} run(s) "
                "finished so far are stored — run the sweep again to resume"
            ) from exc
        for result in outcome.results:
            buffer.append(result)
            report.run_seconds += float(result.manifest.get("wall_seconds") or 0.0)
        report.failures.extend(outcome.failures)
        return float(outcome.seconds)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no message"


def _batch_size(runner: Runner, fixed: int | None, per_run: float | None, task_seconds: float, queued: int) -> int:
    """Runs in the next task: about ``task_seconds`` of work, but never so many that workers idle."""
    if fixed is not None:
        return max(1, fixed)
    if not runner.batching or per_run is None:
        return 1
    wanted = math.ceil(task_seconds / max(per_run, 1e-6))
    fair_share = math.ceil(queued / runner.slots)
    return max(1, min(wanted, fair_share))


def run_ensemble(
    design: str | Path | Design,
    out: str | Path,
    runner: str = "processes",
    workers: int | None = None,
    **options: Any,
) -> SweepReport:
    """Load a design file (or take a loaded design) and sweep it into ``out``.

    Examples
    --------
    >>> report = run_ensemble("designs/example.yaml", "ensemble-results", runner="serial")  # doctest: +SKIP
    >>> report.complete  # doctest: +SKIP
    True
    """
    from nswn.experiments.design import load_design

    loaded = design if isinstance(design, Design) else load_design(design)
    return sweep(loaded, out, runner, workers=workers, **options)
