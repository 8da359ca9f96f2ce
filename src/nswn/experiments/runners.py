"""Runners: where the runs of a design execute — in this process, in local processes, on Dask.

Every runner has the same small interface (:class:`Runner`): ``submit`` a batch of run
specs, ``wait`` for at least one submitted batch to finish, ``close``. A batch runs
:func:`run_batch`, which returns only the recorded indicator tables of each run (an
:class:`nswn.api.Result`), never agent state. Results do not depend on the runner: a run's
random numbers come from its own seed only.

* ``serial`` — in this process, one run at a time.
* ``processes`` — a :class:`concurrent.futures.ProcessPoolExecutor` on a *spawn* context
  (never the global start method); workers ignore Ctrl-C, which the parent handles by
  stopping them, and exit by themselves if the parent is killed, so an interrupted sweep
  neither hangs nor leaves orphans.
* ``dask`` — ``dask.distributed``: an existing cluster (``scheduler="tcp://host:8786"``) or a
  :class:`distributed.LocalCluster` of ``local_workers`` processes. Dask is imported only here,
  only when this runner is made (``pip install 'nswn[dask]'``). Workers need the same nswn
  version as the parent; a mismatch is reported as a failed run.
"""

from __future__ import annotations

import os
import signal
import socket
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from nswn.experiments.design import RunSpec

RUNNERS = ("serial", "processes", "dask")


@dataclass(frozen=True)
class RunFailure:
    """A run that raised; the sweep goes on and reports it at the end."""

    run_id: str
    arm: str
    seed: int
    message: str


@dataclass
class BatchOutcome:
    """What a task sends back: finished runs' tables, failures, and how long it took."""

    results: list[Any] = field(default_factory=list)
    failures: list[RunFailure] = field(default_factory=list)
    seconds: float = 0.0
    worker: str = ""


def run_spec(spec: RunSpec) -> Any:
    """Run one spec and return its :class:`nswn.api.Result` (indicator tables and manifest)."""
    import json

    from nswn import __version__, api
    from nswn.scenario import io

    if spec.version != __version__:
        raise RuntimeError(
            f"this worker has nswn {__version__} but the design was expanded with nswn {spec.version}; "
            "install the same version on every worker"
        )
    scenario = io.validate(json.loads(spec.scenario_json), f"run {spec.run_id} ({spec.arm})")
    result = api.simulate(scenario, seed=spec.seed)
    if result.run_id != spec.run_id:
        raise RuntimeError(f"run id {result.run_id} differs from the planned {spec.run_id}: scenario hash mismatch")
    return result


def run_batch(specs: Sequence[RunSpec]) -> BatchOutcome:
    """Run specs one after another; a failing run is reported, the others still return."""
    started = time.perf_counter()
    outcome = BatchOutcome(worker=f"{socket.gethostname()}:{os.getpid()}")
    for spec in specs:
        try:
            outcome.results.append(run_spec(spec))
        except Exception as exc:  # noqa: BLE001 - any model error becomes a reported failure
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            outcome.failures.append(RunFailure(spec.run_id, spec.arm, spec.seed, detail))
    outcome.seconds = time.perf_counter() - started
    return outcome


class Handle(Protocol):
    """A submitted batch (a :class:`concurrent.futures.Future` or a Dask future)."""

    def result(self) -> BatchOutcome: ...


class Runner(Protocol):
    """Executes batches of run specs.

    Attributes
    ----------
    name
        ``serial``, ``processes`` or ``dask``.
    slots
        How many batches run at once (workers × threads).
    batching
        Whether batches of several runs pay (``False`` for the serial runner).
    """

    name: str
    slots: int
    batching: bool

    def submit(self, batch: Sequence[RunSpec]) -> Handle:
        """Start a batch; return a handle whose ``result()`` is the batch's outcome."""
        ...

    def wait(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        """Block until at least one pending handle is done; return ``(done, not_done)``."""
        ...

    def close(self, cancel: bool = False) -> None:
        """Release workers; ``cancel`` stops work in flight."""
        ...

    def describe(self) -> str:
        """A short description for progress and reports (e.g. ``processes × 4``)."""
        ...


class _Done:
    """An already computed handle."""

    def __init__(self, value: BatchOutcome) -> None:
        self._value = value

    def result(self) -> BatchOutcome:
        return self._value


class SerialRunner:
    """Runs each batch in this process as it is submitted."""

    name = "serial"
    slots = 1
    batching = False

    def submit(self, batch: Sequence[RunSpec]) -> Handle:
        return _Done(run_batch(list(batch)))

    def wait(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        return set(pending), set()

    def close(self, cancel: bool = False) -> None:
        return None

    def describe(self) -> str:
        return "serial"


def _warm_kernels() -> None:
    """Load the compiled kernels (from numba's cache) and read the catalog once per worker
    process, before its first run.

    Workers are reused for every task of a sweep and the catalog readers cache what they read,
    so this start-up is paid once per worker, not once per run. A failure here is left for the
    runs themselves to report.
    """
    try:
        from nswn import kernels
        from nswn.scenario.build import catalog_provinces, catalog_technologies

        if kernels.compiled():
            kernels.compile_all()
        catalog_technologies()
        catalog_provinces()
    except Exception:  # noqa: BLE001 - the first run reports any real problem
        pass


def _init_worker() -> None:
    """Set up a worker process: ignore Ctrl-C, and exit when the parent is gone.

    The parent turns Ctrl-C into an orderly stop of its workers, so a worker must not die
    half-way on its own. A parent killed outright (SIGKILL, out of memory) cannot stop them:
    each worker watches its parent's sentinel and exits when the parent does, so no orphan
    keeps computing or waiting.
    """
    import multiprocessing
    import threading
    from multiprocessing.connection import wait

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _warm_kernels()
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def exit_with_parent() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=exit_with_parent, name="nswn-exit-with-parent", daemon=True).start()


MAX_TASK_RETRIES = 2  # a task whose worker process died is run again this many times before the sweep stops


class _Task:
    """A submitted batch: its current future, and how often a lost worker made it start again."""

    def __init__(self, batch: list[RunSpec], future: Any) -> None:
        self.batch = batch
        self.future = future
        self.retries = 0

    def result(self) -> BatchOutcome:
        return self.future.result()  # type: ignore[no-any-return]


class ProcessRunner:
    """Runs batches in local worker processes started with the *spawn* method.

    A worker that dies (killed, out of memory) breaks the pool: the pool is started again and
    every task it lost is resubmitted, each at most :data:`MAX_TASK_RETRIES` times; a task that
    keeps losing its worker then fails the sweep (stored runs are kept; a rerun resumes).
    """

    name = "processes"
    batching = True

    def __init__(self, workers: int | None = None, max_retries: int = MAX_TASK_RETRIES) -> None:
        self.slots = workers or default_workers()
        self.max_retries = max_retries
        self.restarts = 0
        self._executor = self._start()

    def _start(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(
            max_workers=self.slots,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
        )

    def submit(self, batch: Sequence[RunSpec]) -> Handle:
        items = list(batch)
        return _Task(items, self._executor.submit(run_batch, items))

    def wait(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        while True:
            by_future = {task.future: task for task in pending}
            done_futures, _ = wait(list(by_future), return_when=FIRST_COMPLETED)
            lost = [
                by_future[f]
                for f in done_futures
                if isinstance(f.exception(), BrokenProcessPool) and by_future[f].retries < self.max_retries
            ]
            if not lost:
                done = {by_future[f] for f in done_futures}
                return done, set(pending) - done
            # a worker died: every task of the broken pool is lost; start a new pool and resubmit them
            self._restart()
            for task in pending:
                if task.future.done() and isinstance(task.future.exception(), BrokenProcessPool):
                    task.retries += 1
                    task.future = self._executor.submit(run_batch, task.batch)
                elif not task.future.done():
                    task.future.cancel()
                    task.future = self._executor.submit(run_batch, task.batch)

    def _restart(self) -> None:
        self.restarts += 1
        old = self._executor
        processes = list((getattr(old, "_processes", None) or {}).values())
        old.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if hasattr(process, "is_alive") and process.is_alive():
                process.terminate()
        self._executor = self._start()

    def close(self, cancel: bool = False) -> None:
        if cancel:
            # stop the workers we started (by their process objects), then reap them
            processes = list(getattr(self._executor, "_processes", {}).values())
            self._executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                if process.is_alive():
                    process.terminate()
            for process in processes:
                process.join(timeout=5)
        else:
            self._executor.shutdown(wait=True)

    def describe(self) -> str:
        return f"processes × {self.slots}"


class DaskRunner:
    """Runs batches on a Dask cluster: an existing one, or a local one started here."""

    name = "dask"
    batching = True
    poll_seconds = 5.0
    no_worker_seconds = 60.0

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise RunnerError("the dask runner needs dask.distributed: pip install 'nswn[dask]'") from None
        self._cluster = None
        if scheduler is not None:
            try:
                self._client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise RunnerError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None
            self._where = scheduler
        else:
            import logging

            import dask

            workers = local_workers or default_workers()
            # Dask sets MALLOC_TRIM_THRESHOLD_ in its workers, which fixes glibc's mmap threshold: every
            # large array of a step is then mapped and unmapped anew, making big runs ~1.5-2× slower
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                self._cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    silence_logs=logging.ERROR,
                )
            self._client = Client(self._cluster)
            self._where = f"LocalCluster × {workers}"
        self.slots = max(1, sum(self._client.nthreads().values()))

    def submit(self, batch: Sequence[RunSpec]) -> Handle:
        # a task whose worker dies is rerun by the scheduler, at most MAX_TASK_RETRIES times
        return self._client.submit(  # type: ignore[no-any-return]
            run_batch, list(batch), pure=False, retries=MAX_TASK_RETRIES
        )

    def wait(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        from distributed import wait

        without_workers = 0.0
        while True:
            try:
                done, not_done = wait(list(pending), timeout=self.poll_seconds, return_when="FIRST_COMPLETED")
                return set(done), set(not_done)
            except TimeoutError:
                pass
            # a cluster whose workers are all gone would otherwise keep the tasks waiting forever
            if self._client.nthreads():
                without_workers = 0.0
                continue
            without_workers += self.poll_seconds
            if without_workers >= self.no_worker_seconds:
                raise RunnerError(
                    f"the Dask cluster at {self._where} has had no workers for {self.no_worker_seconds:.0f} s"
                )

    def close(self, cancel: bool = False) -> None:
        try:
            if cancel:
                futures = list(getattr(self._client, "futures", {}).values())
                if futures:
                    self._client.cancel(futures)
            self._client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()

    def describe(self) -> str:
        return f"dask ({self._where}, {self.slots} threads)"


class RunnerError(RuntimeError):
    """A runner cannot be started (missing extra, unreachable scheduler, bad options)."""


def default_workers() -> int:
    """Worker count when none is given: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check_runner_options(
    name: str, workers: int | None = None, scheduler: str | None = None, dask_local: int | None = None
) -> None:
    """Raise :class:`RunnerError` for options that do not fit together (before anything starts)."""
    if name not in RUNNERS:
        raise RunnerError(f"unknown runner {name!r}; choose one of {', '.join(RUNNERS)}")
    if name != "dask" and (scheduler is not None or dask_local is not None):
        raise RunnerError("--scheduler and --dask-local need --runner dask")
    if scheduler is not None and dask_local is not None:
        raise RunnerError("give either --scheduler (an existing cluster) or --dask-local (a new one), not both")
    if workers is not None and workers < 1:
        raise RunnerError(f"--workers must be at least 1, not {workers}")
    if name == "serial" and workers not in (None, 1):
        raise RunnerError("the serial runner uses one process; drop --workers or choose --runner processes")
    if scheduler is not None and workers is not None:
        raise RunnerError("--workers does not apply to an existing Dask cluster (--scheduler); its workers are fixed")
    if scheduler is not None and not scheduler.strip():
        raise RunnerError("--scheduler needs an address such as tcp://10.0.0.5:8786")


def make_runner(
    name: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
) -> Runner:
    """Build a runner by name.

    Parameters
    ----------
    name
        ``serial``, ``processes`` or ``dask``.
    workers
        Worker processes (``processes``; and ``dask`` without ``scheduler`` or ``dask_local``).
    scheduler
        Address of a running Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    dask_local
        Start a Dask ``LocalCluster`` of this many worker processes.
    """
    check_runner_options(name, workers, scheduler, dask_local)
    if name == "serial":
        return SerialRunner()
    if name == "processes":
        return ProcessRunner(workers)
    return DaskRunner(scheduler=scheduler, local_workers=dask_local or workers)
