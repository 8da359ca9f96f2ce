"""Command-line commands of nswn.experiments, registered on the main Typer app by `nswn.cli`.

``nswn sweep DESIGN.yaml`` runs an experiment design (seeds × scenarios × sampled levers and
uncertainties) and stores every run; ``nswn summarize RESULTS`` (in :mod:`nswn.analysis.commands`)
prints ensemble bands, paired differences and parity probabilities.

Keep imports of heavy libraries inside the command functions: the CLI imports this module
at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

LOG_EVERY = 10.0
DRY_RUN_DETAIL = 5_000  # --dry-run expands designs up to this many runs to show arms and stored runs


def register(app: typer.Typer) -> None:
    """Add this package's commands to app."""
    from nswn.analysis.commands import summarize

    app.command(name="sweep")(sweep)
    app.command(name="summarize")(summarize)


def _consoles() -> tuple[Any, Any]:
    from nswn.cli import console, errors

    return console, errors


def _fail(message: str) -> None:
    from nswn.cli import fail

    fail(message)


def _problems_or_fail(kind: str, exc: Any) -> None:
    from nswn.cli import print_problems

    print_problems(kind, exc)
    raise typer.Exit(2)


def sweep(
    design: Annotated[Path, typer.Argument(help="Experiment design file (YAML); see docs/ensembles.md.")],
    runner: Annotated[
        str | None,
        typer.Option(help="Where runs execute: serial, processes (default) or dask."),
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: the CPUs available).")] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies dask).")
    ] = None,
    dask_local: Annotated[
        int | None, typer.Option(min=1, help="Start a Dask LocalCluster of N worker processes (implies dask).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Results directory (DuckDB database inside).")] = Path("nswn-results"),
    batch: Annotated[
        int | None, typer.Option(min=1, help="Runs per task (default: about 1 s of work per task).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and show the plan; run nothing.")] = False,
    max_runs: Annotated[
        int | None,
        typer.Option(
            min=1, help="Refuse designs with more runs (default 20 000, or NSWN_MAX_RUNS; at most 1 000 000)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
) -> None:
    """Run an experiment design (seeds × scenarios × levers × uncertainties); resumable.

    Each finished run is stored at once, in one transaction; the design's manifest is
    completed last. Running the same design again skips the runs already stored, so a sweep
    that was interrupted or killed resumes where it stopped.
    """
    from nswn.experiments.design import count_design, load_design, max_runs_allowed
    from nswn.experiments.runners import RunnerError, check_runner_options
    from nswn.experiments.sweep import SweepError, SweepStopped
    from nswn.experiments.sweep import sweep as run_sweep
    from nswn.scenario.io import ScenarioError
    from nswn.storage.store import ResultsStore, StoreError

    console, errors = _consoles()
    name = runner or ("dask" if scheduler is not None or dask_local is not None else "processes")
    try:
        check_runner_options(name, workers, scheduler, dask_local)
    except RunnerError as exc:
        _fail(str(exc))
    if dry_run:
        # counted arithmetically first: a huge design is described at once, never expanded
        try:
            planned, counted_shape = count_design(design)
        except ScenarioError as exc:
            _problems_or_fail("design", exc)
        if planned > DRY_RUN_DETAIL:
            cap = max_runs_allowed(max_runs)
            verdict = "within" if planned <= cap else "over"
            console.print(
                f"design {design}: {planned:,} runs = {counted_shape}; {verdict} the cap of {cap:,} runs "
                f"(--max-runs). Nothing was sampled (a design over {DRY_RUN_DETAIL:,} runs is only counted here).",
                highlight=False,
                soft_wrap=True,
            )
            if planned > cap:
                raise typer.Exit(2)
            return
    try:
        loaded = load_design(design, max_runs=max_runs)
    except ScenarioError as exc:
        _problems_or_fail("design", exc)
    shape = _shape(loaded)
    unique = loaded.unique_runs()
    if dry_run:
        stored = _stored_ids(out) & {spec.run_id for spec in unique}
        _print_plan(console, loaded, shape, len(unique), len(stored), out)
        return
    try:
        store = ResultsStore(out)
    except StoreError as exc:
        _fail(str(exc))
    display = _SweepDisplay(loaded, shape, quiet, errors)
    stop = _StopRequests(errors)
    try:
        with stop:
            report = run_sweep(
                loaded,
                store,
                name,
                workers=workers,
                scheduler=scheduler,
                dask_local=dask_local,
                batch_size=batch,
                progress=display.progress,
                on_start=display.start,
                should_stop=stop,
            )
    except (StoreError, RunnerError) as exc:
        display.close()
        _fail(str(exc))
    except SweepStopped as stopped:
        display.close()
        done = stopped.report
        errors.print(
            f"stopped: {done.completed} run(s) stored now, {done.skipped + done.completed} of {done.planned} in "
            f"{done.store.path}; `nswn sweep {design} --out {out}` resumes.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(stop.exit_code) from None
    except SweepError as exc:
        display.close()
        errors.print(f"[bold red]error:[/] {_esc(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        display.close()
    _report(console, errors, report, design, out, quiet)


def _shape(design: Any) -> str:
    parts = [
        f"{len(design.scenarios)} scenario{'s' * (len(design.scenarios) != 1)}",
        f"{len(design.levers.points)} lever point{'s' * (len(design.levers.points) != 1)}",
        f"{len(design.uncertainties.points)} uncertainty point{'s' * (len(design.uncertainties.points) != 1)}",
        f"{len(design.seeds)} seed{'s' * (len(design.seeds) != 1)}",
    ]
    return " × ".join(parts)


def _stored_ids(out: Path) -> set[str]:
    from nswn.storage.store import ResultsStore, StoreError

    try:
        return ResultsStore(out, create=False).finished_run_ids()
    except StoreError as exc:
        if (out / "results.duckdb").exists():
            _fail(f"cannot read the runs stored in {out} (is a sweep writing there now?): {exc}")
        return set()


def _print_plan(console: Any, design: Any, shape: str, unique: int, stored: int, out: Path) -> None:
    from rich.table import Table

    console.print(
        f"design [bold]{_esc(design.name)}[/] ({design.design_hash}): {len(design.runs)} runs = {shape}; "
        f"{unique} distinct, {stored} already stored in {_esc(out)}, {unique - stored} to run.",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )
    table = Table(title="Arms (scenario × lever point) — each run in every world with the same seeds")
    table.add_column("arm")
    table.add_column("scenario hash")
    table.add_column("runs", justify="right")
    counts: dict[str, tuple[set[str], int]] = {}
    for spec in design.runs:
        hashes, n = counts.get(spec.arm, (set(), 0))
        counts[spec.arm] = (hashes | {spec.scenario_hash}, n + 1)
    for arm, (hashes, n) in counts.items():
        table.add_row(arm, ", ".join(sorted(hashes))[:60], str(n))
    console.print(table)
    if design.uncertainties.factors:
        names = ", ".join(f.path for f in design.uncertainties.factors)
        settings = dict(design.settings)
        worlds = (
            f"; calibrated worlds from posterior {settings['posterior_id']}"
            + (" (STALE: made with another model)" if settings.get("posterior_stale") else "")
            if settings.get("worlds") == "calibrated"
            else ""
        )
        console.print(
            f"uncertainties ({design.uncertainties.sampler}, {len(design.uncertainties.points)} points{worlds}): "
            f"{names}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"seeds: {', '.join(str(s) for s in design.seeds[:6])}{' …' * (len(design.seeds) > 6)}", highlight=False
    )


class _SweepDisplay:
    """Progress of a sweep: a live bar on a terminal, else a log line every ``LOG_EVERY`` seconds."""

    def __init__(self, design: Any, shape: str, quiet: bool, errors: Any) -> None:
        self.design = design
        self.shape = shape
        self.quiet = quiet
        self.errors = errors
        self.bar: Any = None
        self.task: Any = None
        self.logged = -LOG_EVERY

    def start(self, todo: int, skipped: int, runner: Any) -> None:
        if self.quiet:
            return
        design = self.design
        self.errors.print(
            f"design [bold]{_esc(design.name)}[/] ({design.design_hash}): {len(design.runs)} runs = {self.shape}; "
            f"{skipped} already stored, running {todo} on {_esc(runner.describe())}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
        if self.errors.is_terminal:
            self.bar = _progress_bar(self.errors)
            self.bar.start()
            self.task = self.bar.add_task(_esc(design.name), total=todo)

    def progress(self, progress: Any) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=progress.done)
            return
        now = progress.elapsed
        if progress.done not in (1, progress.total) and now - self.logged < LOG_EVERY:
            return
        self.logged = now
        rate = progress.done / progress.elapsed if progress.elapsed > 0 else 0.0
        left = (progress.total - progress.done) / rate if rate > 0 else float("nan")
        failed = f", {progress.failed} failed" if progress.failed else ""
        self.errors.print(
            f"  {progress.done}/{progress.total} runs{failed} · {rate:.2f} runs/s · ETA {_duration(left)}",
            highlight=False,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


class _StopRequests:
    """Ctrl-C or SIGTERM during a sweep: stop after the runs in progress; a second one stops at once.

    A stop requested this way never interrupts the writing of a run, and the sweep ends its
    workers before it returns.
    """

    def __init__(self, errors: Any) -> None:
        self.errors = errors
        self.signal: str | None = None
        self.exit_code = 130
        self.previous: dict[int, Any] = {}

    def __call__(self) -> bool:
        return self.signal is not None

    def handle(self, signum: int, frame: Any) -> None:
        import signal

        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signal.Signals(signum).name
        self.exit_code = 128 + signum
        self.errors.print(
            f"{self.signal}: stopping after the runs in progress (again to stop at once) …", highlight=False
        )

    def __enter__(self) -> _StopRequests:
        import signal

        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self.previous[signum] = signal.signal(signum, self.handle)
            except ValueError:  # not the main thread: leave signals alone
                break
        return self

    def __exit__(self, *exc: Any) -> None:
        import signal

        for signum, previous in self.previous.items():
            signal.signal(signum, previous)


def _progress_bar(errors: Any) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )


def _duration(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _report(console: Any, errors: Any, report: Any, design: Path, out: Path, quiet: bool) -> None:
    failures = report.failures
    if not quiet:
        done = report.completed
        rate = f" ({done / report.seconds:.2f} runs/s)" if done and report.seconds > 0 else ""
        skipped = f"; {report.skipped} were already stored" if report.skipped else ""
        console.print(
            f"{done} run{'s' * (done != 1)} stored in {report.seconds:.1f} s{rate}{skipped}; "
            f"{report.skipped + done} of {report.planned} planned runs are in {report.store.path}.",
            highlight=False,
            soft_wrap=True,
        )
        if report.complete:
            console.print(f"Next: nswn summarize {out}", highlight=False)
    if failures:
        errors.print(f"[bold red]error:[/] {len(failures)} run(s) failed:", markup=True, highlight=False)
        for failure in failures[:10]:
            errors.print(f"  {failure.arm} seed {failure.seed}: {failure.message}", highlight=False, soft_wrap=True)
        if len(failures) > 10:
            errors.print(f"  … and {len(failures) - 10} more", highlight=False)
        errors.print(
            f"Finished runs are kept; `nswn sweep {design} --out {out}` runs the missing ones again.", highlight=False
        )
        raise typer.Exit(1)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))
