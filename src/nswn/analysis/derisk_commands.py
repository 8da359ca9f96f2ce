"""``nswn derisk DESIGN.yaml``: the de-risking frontier on the command line.

Keep imports of heavy libraries (pymoo, the engine) inside the command function: the CLI
imports this module at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

RUNNER_ALIASES = {"process": "processes"}


def register(app: typer.Typer) -> None:
    """Add ``nswn derisk`` to app."""
    app.command(name="derisk")(derisk)


def derisk(
    design: Annotated[Path, typer.Argument(help="De-risking design file (YAML); see docs/derisking.md.")],
    quick: Annotated[
        bool, typer.Option("--quick", help="The design's quick settings: fewer firms, seeds and generations.")
    ] = False,
    out: Annotated[Path, typer.Option(help="Results directory (runs, Pareto table).")] = Path("derisk-results"),
    seed: Annotated[int, typer.Option(min=0, max=2**31 - 1, help="Optimiser seed (same seed ⇒ same table).")] = 1,
    runner: Annotated[str, typer.Option(help="Where runs execute: serial, processes (process) or dask.")] = "processes",
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: the CPUs available).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Search the export-control design space for the de-risking frontier (NSGA-II); resumable.

    Objectives, robust over paired seeds against no controls: delay to parity on the yard
    (maximised), foreign sales lost in China and Chinese domestic share gained on the yard
    (minimised), optionally China's GDP cost. Runs are stored as they finish; a rerun with the
    same seed reuses them and prints the same table.
    """
    from nswn.cli import console, errors, fail

    try:
        from nswn.analysis import derisk as engine
        from nswn.analysis.derisk_space import DeriskError, load
    except ModuleNotFoundError as exc:
        fail(f"nswn derisk needs pymoo ({exc.name} is missing): pip install 'pymoo>=0.6.1'")
        return
    from nswn.experiments.runners import RunnerError, make_runner
    from nswn.scenario.io import ScenarioError
    from nswn.storage.store import StoreError

    try:
        spec = load(design)
    except ScenarioError as exc:
        count = len(exc.problems)
        kind = "design" if isinstance(exc, DeriskError) else "scenario"
        errors.print(f"[bold red]error:[/] invalid {kind} ({count} problem{'s' * (count != 1)}):", highlight=False)
        for problem in exc.problems:
            errors.print(f"  {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if quick:
        spec = spec.quick_version()
    name = RUNNER_ALIASES.get(runner, runner)
    try:
        active = make_runner(name, workers=workers)
    except RunnerError as exc:
        fail(str(exc))
        return
    total = (spec.population * spec.generations + 1 + 1 + len(spec.shipped)) * len(spec.seeds)
    try:
        with _progress(quiet, total) as advance:
            result = engine.search(spec, out, active, seed=seed, progress=advance)
    except ScenarioError as exc:
        active.close(cancel=True)
        errors.print("[bold red]error:[/] a scenario of the design is invalid:", highlight=False)
        for problem in exc.problems:
            errors.print(f"  {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except StoreError as exc:
        active.close(cancel=True)
        fail(str(exc))
        return
    except BaseException:
        active.close(cancel=True)
        raise
    active.close()
    _print(console, spec, result, out)


class _progress:
    """A rich progress bar over runs (or nothing when quiet)."""

    def __init__(self, quiet: bool, total: int) -> None:
        self.quiet, self.total = quiet, total
        self._bar: Any = None

    def __enter__(self) -> Any:
        if self.quiet:
            return lambda n: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from nswn.cli import errors

        self._bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
            transient=False,
        )
        self._bar.start()
        task = self._bar.add_task("derisk runs (at most)", total=self.total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()


def pareto_table(result: Any, objectives: tuple[str, ...]) -> Any:
    """The printed Pareto table: design parameters and objectives with 90 % intervals."""
    import pandas as pd

    frame = result.pareto

    def fence(lo: float, hi: float) -> str:
        return "—" if lo != lo else (f"{lo:.2f}" if lo == hi else f"{lo:.2f}–{hi:.2f}")

    out = pd.DataFrame(
        {
            "design": frame["design"].str[:8],
            "yard": frame["yard"],
            "n": frame["technologies"],
            "fence": [fence(lo, hi) for lo, hi in zip(frame["fence_min"], frame["fence_max"], strict=True)],
            "announced→binding": [f"{a}→{e}" for a, e in zip(frame["announced"], frame["effective"], strict=True)],
            "coverage": frame["coverage"].map(lambda v: f"{v:.2f}"),
            "years": frame["duration"].map(lambda v: "no expiry" if v is None or v != v else str(int(v))),
        }
    )
    for o in objectives:
        out[o] = [
            f"{m:,.1f} [{lo:,.1f}, {hi:,.1f}]"
            for m, lo, hi in zip(frame[o], frame[f"{o}_low"], frame[f"{o}_high"], strict=True)
        ]
    return out


def _print(console: Any, spec: Any, result: Any, out: Path) -> None:
    from rich.table import Table

    from nswn.analysis.derisk import OBJECTIVE_INFO

    objectives = spec.objectives
    table = Table(title=f"De-risking frontier: {len(result.pareto)} non-dominated designs of {len(result.evaluations)}")
    frame = pareto_table(result, objectives)
    # two tables that each fit a terminal: what every design achieves (objective cells such as
    # "36.0 [25.2, 43.2]" never broken), then what each design is (its yard wraps between names)
    table.add_column("design", no_wrap=True)
    for o in objectives:
        table.add_column(f"{o} ({OBJECTIVE_INFO[o][2]})" if o in OBJECTIVE_INFO else o, no_wrap=True, justify="right")
    for row in frame.to_dict("records"):
        table.add_row(row["design"], *[str(row[o]) for o in objectives])
    console.print(table)
    designs = Table(title="The non-dominated designs: one extra control batch each")
    parameters = frame.drop(columns=list(objectives))
    for column in parameters.columns:
        designs.add_column(column, no_wrap=column != "yard", ratio=1 if column == "yard" else None)
    for row in parameters.itertuples(index=False):
        designs.add_row(*[str(v) for v in row])
    console.print(designs)
    console.print(
        f"robust value: {'median' if spec.quantile == 0.5 else f'{spec.quantile:g}-quantile on the bad side'} over "
        f"{len(spec.seeds)} paired seeds; [low, high]: 5–95 % of seeds; {spec.firms or 'scenario'} firms, horizon "
        f"{spec.horizon}; runs: {result.runs_done} new, {result.runs_reused} reused"
    )
    for row in result.shipped.to_dict("records"):
        parts = ", ".join(f"{o} {row[o]:,.1f}" for o in objectives)
        console.print(f"shipped {row['scenario']}: {parts}")
    for k in result.knees:
        console.print(f"knee {k['design']}: {k['words']}")
    for d in result.dominance:
        if d["dominated_by"]:
            margins = ", ".join(f"{o} {v:+,.1f}" for o, v in d["margins"].items())
            best = d["best"][:8]
            console.print(f"{d['scenario']} is dominated by {d['dominated_by']} design(s); e.g. {best} ({margins})")
        else:
            console.print(f"{d['scenario']} is dominated by no design found")
    result.pareto.to_csv(out / "derisk_pareto.csv", index=False)
    result.evaluations.to_csv(out / "derisk_evaluations.csv", index=False)
    console.print(f"stored: {out / 'results.duckdb'} (tables derisk_pareto, derisk_evaluations, derisk_shipped)")
