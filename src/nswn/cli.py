"""The ``nswn`` command line: each command is a few lines over :mod:`nswn.api`.

User mistakes (a bad scenario, a missing file, an out-of-range option) print a clear
message and exit with status 2; nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="nswn",
    help="Simulate China's new-style whole-of-nation system for science, technology and industry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# a fixed, readable width when the output is not a terminal (pipes, CI logs, docs)
console = Console(width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 120)

USAGE_ERROR = 2


def fail(message: str) -> None:
    """Print a user error and exit with status 2."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(USAGE_ERROR)


def _scenario_or_fail(name_or_path: str) -> Any:
    from nswn import api
    from nswn.scenario.io import ScenarioError

    try:
        return api.load_scenario(name_or_path)
    except ScenarioError as exc:
        count = len(exc.problems)
        errors.print(
            f"[bold red]error:[/] invalid scenario ({count} problem{'s' * (count != 1)}):",
            highlight=False,
        )
        for problem in exc.problems:
            errors.print(f"  {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(USAGE_ERROR) from None


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Shipped scenario name or path to a YAML file.")] = "baseline",
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="Run seed (same seed ⇒ identical results).")] = 0,
    firms: Annotated[
        int | None,
        typer.Option(
            help="Agents representing the real firm population (100–10 000 000; default: one per real firm, the "
            "converged resolution; fewer is faster and coarser)."
        ),
    ] = None,
    start_year: Annotated[int | None, typer.Option(help="Override the first year.")] = None,
    end_year: Annotated[int | None, typer.Option(help="Override the last year.")] = None,
    out: Annotated[Path, typer.Option(help="Results directory (DuckDB database inside).")] = Path("nswn-results"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
) -> None:
    """Run one scenario, print a summary and store the results."""
    from nswn import api
    from nswn.scenario.io import ScenarioError
    from nswn.storage.store import ResultsStore, StoreError

    loaded = _scenario_or_fail(scenario)
    try:
        if firms is not None or start_year is not None or end_year is not None:
            loaded = api.with_overrides(loaded, firms=firms, start_year=start_year, end_year=end_year)
    except ScenarioError as exc:
        fail("; ".join(str(p) for p in exc.problems))
    try:
        store = ResultsStore(out)
    except StoreError as exc:
        fail(str(exc))
    from nswn.core.model import SimulationError

    try:
        result = _simulate_with_progress(loaded, seed, quiet)
    except SimulationError as exc:
        fail(str(exc))
    try:
        store.write(result)
    except Exception as exc:  # noqa: BLE001 - report any storage failure plainly
        fail(f"could not write results to {store.path}: {exc}")
    if not quiet:
        from nswn import summary

        summary.print_summary(result, console)
        console.print(
            f"\nResults: [bold]{store.path}[/] (run id {result.run_id}); "
            f"{result.manifest['wall_seconds']:.2f} s for {summary.describe_resolution(result.manifest)}."
        )


def _simulate_with_progress(scenario: Any, seed: int, quiet: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from nswn import api

    years = scenario.years.end - scenario.years.start
    if quiet:
        return api.simulate(scenario, seed=seed)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("years"),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{scenario.name} seed {seed}", total=years)
        return api.simulate(scenario, seed=seed, progress=lambda year: bar.update(task, advance=1))


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Scenario files or shipped names.")],
) -> None:
    """Check scenario files; print every problem (file, field, value, allowed range)."""
    for name in files:
        loaded = _scenario_or_fail(name)
        from nswn.scenario.io import scenario_hash

        console.print(
            f"[green]ok[/] {name}: scenario {loaded.name!r}, hash {scenario_hash(loaded)}",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def catalog(
    group: Annotated[
        str | None,
        typer.Option(help="Only this group (stranglehold, bottleneck, competitive_advantage, future, traditional)."),
    ] = None,
    lang: Annotated[str, typer.Option(help="Names in en or zh.")] = "en",
    rationale: Annotated[bool, typer.Option("--rationale", help="Show the rationale of judged values.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json (to stdout).")] = "table",
) -> None:
    """Print the technology catalog."""
    from nswn import catalog as cat
    from nswn.analysis import export

    if lang not in ("en", "zh"):
        fail(f"--lang must be 'en' or 'zh', not {lang!r}")
    if group is not None and group not in cat.GROUPS:
        fail(f"--group must be one of {', '.join(cat.GROUPS)}, not {group!r}")
    rows = [t for t in cat.technologies() if group is None or t.group == group]
    export.check_format(fmt)
    if fmt != "table":
        export.emit(export.catalog_frame(rows), fmt)
        return
    table = Table(title=f"nswn catalog: {len(rows)} technologies" + (f" ({group})" if group else ""))
    table.add_column("id", min_width=12, overflow="fold")
    table.add_column("name", min_width=12, max_width=26)
    if group is None:
        table.add_column("group", no_wrap=True)
    for header in ("R0", "e", "ρ", "b", "g_F", "D0 bn", "for. 0"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("owner", overflow="fold")
    if rationale:
        table.add_column("rationale (judged values)", min_width=30, overflow="fold")
    else:
        table.add_column("basis", no_wrap=True)
    for t in rows:
        name = t.name_zh if lang == "zh" else t.name_en
        cells = [t.id, name] + ([t.group] if group is None else [])
        cells += [
            f"{t.rel_capability0:.2f}",
            f"{t.emulability:.2f}",
            f"{t.entrepreneurship:.2f}",
            f"{t.science_intensity:.2f}",
            f"{t.frontier_growth:.3f}",
            f"{t.demand0:,.0f}",
            f"{t.foreign_share0:.2f}",
            t.issue_owner_type,
            t.rationale if rationale else t.basis,
        ]
        table.add_row(*cells)
    console.print(table)
    console.print(
        "R0 relative capability 2024; e emulability; ρ entrepreneurship; b science intensity; g_F frontier "
        "growth/yr; D0 Chinese market 2024 (bn CNY); for. 0 foreign share of it. Sources: docs/model.md §5.",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def scenarios(
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json (to stdout).")] = "table",
) -> None:
    """List the shipped scenarios with what each represents and the claim it serves."""
    from nswn.analysis import export
    from nswn.scenario.io import ScenarioError, load, shipped_scenarios

    export.check_format(fmt)
    if fmt != "table":
        export.emit(export.scenarios_frame(), fmt)
        return

    table = Table(title="Shipped scenarios (nswn run NAME)", show_lines=True)
    table.add_column("name", style="bold")
    table.add_column("what it represents", ratio=3)
    table.add_column("claim it serves", ratio=2)
    for name in shipped_scenarios():
        try:
            scenario = load(name)
        except ScenarioError as exc:
            table.add_row(name, f"[red]invalid: {exc.problems[0]}[/]", "")
            continue
        table.add_row(name, " ".join(scenario.description.split()), scenario.claim)
    console.print(table)


@app.command()
def compare(
    scenario_a: Annotated[str, typer.Argument(help="First scenario (reference arm).")],
    scenario_b: Annotated[str, typer.Argument(help="Second scenario.")],
    seeds: Annotated[int, typer.Option(min=1, max=1000, help="Seeds per arm (the same seeds in both).")] = 5,
    firms: Annotated[int | None, typer.Option(help="Override the number of firms.")] = None,
    end_year: Annotated[int | None, typer.Option(help="Override the last year.")] = None,
    out: Annotated[Path | None, typer.Option(help="Also store every run here (a results directory).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json (to stdout).")] = "table",
) -> None:
    """Run two scenarios with common random numbers; print key indicators side by side."""
    from rich.progress import Progress

    from nswn import api
    from nswn.analysis import export
    from nswn.scenario.io import ScenarioError
    from nswn.storage.store import ResultsStore, StoreError

    export.check_format(fmt)
    try:
        store = ResultsStore(out) if out is not None else None
    except StoreError as exc:
        fail(str(exc))
    a, b = _scenario_or_fail(scenario_a), _scenario_or_fail(scenario_b)
    try:
        with Progress(console=errors, transient=True) as bar:
            task = bar.add_task(f"{a.name} vs {b.name}", total=2 * seeds)
            table, info = api.compare(
                a,
                b,
                seeds=seeds,
                firms=firms,
                end_year=end_year,
                progress=lambda name, seed: bar.update(task, advance=1),
                store=store,
            )
    except ScenarioError as exc:
        fail("; ".join(str(p) for p in exc.problems))
    if fmt != "table":
        export.emit(export.compare_payload(table, info), fmt)
        return
    out = Table(
        title=f"{info['a']} (A) vs {info['b']} (B): {seeds} paired seeds, {info['firms']:,} firms; "
        f"B − A with a {info['level']:.0%} interval"
    )
    out.add_column("indicator")
    out.add_column(f"A: {info['a']}", justify="right")
    out.add_column(f"B: {info['b']}", justify="right")
    out.add_column("B − A", justify="right")
    out.add_column("interval", justify="right")
    for row in table.itertuples():
        interval = "—" if not np.isfinite(row.low) else f"[{_num(row.low)}, {_num(row.high)}]"
        out.add_row(row.label, _num(row.a), _num(row.b), _num(row.difference), interval)
    console.print(out)
    controlled = ", ".join(info["controlled"]) or "none"
    console.print(f"Controlled technologies (either arm): {controlled}", highlight=False, soft_wrap=True)
    if store is not None:
        console.print(f"Runs stored in [bold]{store.path}[/] (nswn report / nswn export read them).", highlight=False)


def _num(value: float) -> str:
    if not np.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


@app.command()
def params(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the markdown reference (docs/scenarios.md).")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json (to stdout).")] = "table",
) -> None:
    """List every lever and assumption with its default, unit, allowed range and basis."""
    from nswn.analysis import export
    from nswn.scenario import reference

    export.check_format(fmt)
    if fmt != "table" and not markdown:
        export.emit(export.params_frame(), fmt)
        return

    if markdown:
        print(reference.markdown(), end="")
        return
    table = Table(title="Scenario parameters (levers, then assumptions)")
    for header in ("parameter", "default", "unit", "allowed", "basis"):
        table.add_column(header, overflow="fold")
    for row in reference.rows():
        table.add_row(row["path"], row["default"], row["unit"], row["range"], row["basis"])
    console.print(table)


def _register_commands() -> None:
    from nswn.analysis import export as export_commands
    from nswn.analysis import hindcast_commands
    from nswn.experiments import claims_commands
    from nswn.experiments import commands as experiment_commands
    from nswn.report import commands as report_commands
    from nswn.serve import commands as serve_commands

    for module in (
        hindcast_commands,
        experiment_commands,
        claims_commands,
        report_commands,
        serve_commands,
        export_commands,
    ):
        module.register(app)


_register_commands()


def main() -> None:
    """Entry point that turns stray user errors into clean messages."""
    from nswn.instruments import PluginError

    try:
        app()
    except PluginError as exc:
        errors.print(f"[bold red]error:[/] a third-party instrument is broken: {exc}", highlight=False, soft_wrap=True)
        sys.exit(USAGE_ERROR)
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)
