"""The ``nswn`` command line: each command is a few lines over :mod:`nswn.api`.

User mistakes (a bad scenario, a missing file, an out-of-range option) print a clear
message and exit with status 2; nothing is written.
"""

from __future__ import annotations

import codecs
import inspect
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from nswn.formatting import number as _num

app = typer.Typer(
    name="nswn",
    help="Simulate China's new-style whole-of-nation system for science, technology and industry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_WIDTH = 120
LOG_EVERY = 10.0


def output_width(stream: Any) -> int | None:
    """Width of a console on ``stream``: the terminal's; else ``COLUMNS`` if set; else 120.

    A fixed, readable width when the output is not a terminal (pipes, CI logs, docs), which
    the ``COLUMNS`` environment variable overrides.
    """
    try:
        if stream.isatty():
            return None
    except (AttributeError, ValueError):
        pass
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and 20 <= int(columns) <= 10_000:
        return int(columns)
    return DEFAULT_WIDTH


# Markup is off by default: text that contains user input (names, paths, values, brackets)
# prints as it is. The few styled prints pass markup=True and escape what they interpolate.
console = Console(width=output_width(sys.stdout), markup=False)
errors = Console(stderr=True, width=output_width(sys.stderr), markup=False)

USAGE_ERROR = 2

# ASCII stand-ins for the symbols nswn prints, for consoles that cannot encode them
ASCII_FALLBACKS = {
    "≥": ">=",
    "≤": "<=",
    "≈": "~",
    "ρ": "rho",
    "μ": "mu",
    "σ": "sigma",
    "—": "-",
    "–": "-",
    "−": "-",
    "×": "x",
    "÷": "/",
    "⇒": "=>",
    "→": "->",
    "…": "...",
    "·": ".",
    "±": "+/-",
    "²": "2",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "•": "*",
    "✓": "v",
    "✗": "x",
    "€": "EUR",
}


def _fallback_errors(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: ASCII stand-ins for known symbols, ``\\uXXXX`` escapes for the rest."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    chunk = exc.object[exc.start : exc.end]
    out = []
    for char in chunk:
        known = ASCII_FALLBACKS.get(char)
        if known is not None:
            out.append(known)
        else:
            code = ord(char)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "".join(out), exc.end


codecs.register_error("nswn-fallback", _fallback_errors)


def safe_streams() -> None:
    """Make stdout and stderr degrade gracefully on consoles that cannot encode every character.

    On a UTF-8 stream nothing changes; on others (cp1252, latin-1, ASCII …) symbols print as
    ASCII stand-ins and other characters (Chinese names) as ``\\uXXXX`` escapes: never a
    ``UnicodeEncodeError``.
    """
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding.startswith("utf"):
            continue
        try:
            stream.reconfigure(errors="nswn-fallback")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass


def fail(message: str) -> None:
    """Print a user error and exit with status 2 (``message`` is printed as it is, brackets included)."""
    errors.print(f"[bold red]error:[/] {escape(str(message))}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(USAGE_ERROR)


def warn(message: str) -> None:
    """Print a warning on stderr (``message`` printed as it is)."""
    errors.print(f"[bold yellow]warning:[/] {escape(str(message))}", markup=True, highlight=False, soft_wrap=True)


class LogProgress:
    """What :class:`rich.progress.Progress` offers nswn's commands, as log lines for pipes and files.

    A live bar is invisible when stderr is not a terminal; this prints a line at the first
    and last step and every ``LOG_EVERY`` seconds in between.
    """

    def __init__(self, label: str, unit: str, stream: Console | None = None) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream or errors
        self.tasks: dict[int, dict[str, Any]] = {}
        self.logged = -LOG_EVERY

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        task = len(self.tasks)
        self.tasks[task] = {"description": description, "total": total, "done": 0.0, "started": time.perf_counter()}
        return task

    def update(
        self,
        task: int,
        completed: float | None = None,
        total: float | None = None,
        advance: float | None = None,
        **_: Any,
    ) -> None:
        state = self.tasks[task]
        if total is not None:
            state["total"] = total
        if completed is not None:
            state["done"] = completed
        if advance is not None:
            state["done"] += advance
        now = time.perf_counter()
        elapsed = now - state["started"]
        done, whole = state["done"], state["total"]
        if done not in (1, whole) and elapsed - self.logged < LOG_EVERY:
            return
        self.logged = elapsed
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = f"{(whole - done) / rate:.0f} s" if rate > 0 and whole else "?"
        name = " ".join(p for p in (self.label, state["description"]) if p)
        of = f"/{whole:.0f}" if whole else ""
        self.stream.print(f"  {name}: {done:.0f}{of} {self.unit} · {elapsed:.0f} s · ETA {eta}", highlight=False)


def progress_display(label: str, unit: str) -> Any:
    """A Rich progress bar on a terminal, else :class:`LogProgress` (log lines on stderr)."""
    if not errors.is_terminal:
        return LogProgress(label, unit)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn(f"[bold]{escape(label)}[/] " + "{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit, markup=False),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )


@contextmanager
def progress_reporter(description: str, total: int, unit: str, stream: Console | None = None) -> Iterator[Any]:
    """A progress display: a live bar on a terminal, else a log line every ``LOG_EVERY`` seconds.

    Yields a function to call with the number of newly finished items (default 1).
    """
    target = stream or errors
    started = time.perf_counter()
    done = 0
    if target.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(unit, markup=False),
            TimeRemainingColumn(),
            console=target,
            transient=True,
        ) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n=1: bar.update(task, advance=n)
        return
    logged = -LOG_EVERY

    def advance(n: int = 1) -> None:
        nonlocal done, logged
        done += n
        now = time.perf_counter() - started
        if done not in (1, total) and now - logged < LOG_EVERY:
            return
        logged = now
        rate = done / now if now > 0 else 0.0
        left = (total - done) / rate if rate > 0 else float("nan")
        eta = "?" if left != left else f"{left:.0f} s"
        target.print(f"  {description}: {done}/{total} {unit} · {now:.0f} s · ETA {eta}", highlight=False)

    yield advance


def _scenario_or_fail(name_or_path: str) -> Any:
    from nswn import api
    from nswn.scenario.io import ScenarioError

    try:
        return api.load_scenario(name_or_path)
    except ScenarioError as exc:
        print_problems("scenario", exc)
        raise typer.Exit(USAGE_ERROR) from None


def print_problems(kind: str, exc: Any) -> None:
    """Print every problem of a :class:`~nswn.scenario.io.ScenarioError` (text as it is)."""
    count = len(exc.problems)
    errors.print(
        f"[bold red]error:[/] invalid {escape(kind)} ({count} problem{'s' * (count != 1)}):",
        markup=True,
        highlight=False,
    )
    for problem in exc.problems:
        errors.print(f"  {problem}", highlight=False, soft_wrap=True)


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
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bar or summary: print only the run id (for scripts)."),
    ] = False,
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
    created = _absent_paths(out)
    try:
        store = ResultsStore(out)
        store.check_writable()  # a corrupt, foreign or read-only store is found before the run, not after
    except StoreError as exc:
        _remove_created(created)
        fail(str(exc))
    from nswn.core.model import SimulationError

    try:
        result = _simulate_with_progress(loaded, seed, quiet)
    except SimulationError as exc:
        _remove_created(created)
        fail(str(exc))
    except KeyboardInterrupt:
        _remove_created(created)
        errors.print(f"interrupted: the run of {loaded.name} was stopped; nothing was stored.", highlight=False)
        raise typer.Exit(130) from None
    written = _write_or_elsewhere(store, result, out)
    if quiet:  # one line a script can capture: RUN=$(nswn run -q ...)
        console.print(result.run_id, highlight=False)
    else:
        from nswn import summary

        summary.print_summary(result, console)
        console.print(
            f"\nResults: [bold]{escape(str(written))}[/] (run id {result.run_id}); "
            f"{result.manifest['wall_seconds']:.2f} s for {escape(summary.describe_resolution(result.manifest))}.",
            markup=True,
            highlight=False,
        )


def _absent_paths(out: Path) -> list[Path]:
    """The results directory and database if they do not exist yet (removed again if the run fails)."""
    from nswn.storage.store import DATABASE

    return [p for p in (out, out / DATABASE, out / f"{DATABASE}.wal") if not p.exists()]


def _remove_created(paths: list[Path]) -> None:
    """Remove what this command created (database files, then the directory if it is ours and empty)."""
    for path in sorted(paths, key=lambda p: len(p.parts), reverse=True):
        try:
            if path.is_dir():
                path.rmdir()  # only if empty: never anything a user put there
            elif path.exists():
                path.unlink()
        except OSError:
            pass


def _write_or_elsewhere(store: Any, result: Any, out: Path) -> Path:
    """Store a finished run; if ``out`` stays locked by another process, store it next to it and say so."""
    from nswn.storage.store import ResultsStore, StoreError, StoreLocked

    try:
        store.write(result)
        return Path(store.path)
    except StoreLocked as exc:
        elsewhere = out.with_name(f"{out.name}-{result.run_id}")
        try:
            fallback = ResultsStore(elsewhere)
            fallback.write(result)
        except (StoreError, OSError) as second:
            fail(f"could not write results to {store.path} ({exc}) nor to {elsewhere} ({second})")
        warn(
            f"{store.path} stayed locked by another process ({exc}); the finished run was stored in "
            f"{fallback.path} instead"
        )
        return Path(fallback.path)
    except Exception as exc:  # noqa: BLE001 - report any storage failure plainly
        fail(f"could not write results to {store.path}: {exc}")
    raise AssertionError("unreachable")


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
        task = bar.add_task(escape(f"{scenario.name} seed {seed}"), total=years)
        return api.simulate(scenario, seed=seed, progress=lambda year: bar.update(task, advance=1))


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Scenario files or shipped names.")],
) -> None:
    """Check scenario files; print every problem of every file (file, field, value, allowed range).

    Every file is checked; the exit status is 2 if any of them is invalid.
    """
    from nswn import api
    from nswn.scenario.io import ScenarioError, scenario_hash, short_text

    failed = 0
    for name in files:
        try:
            loaded = api.load_scenario(name)
        except ScenarioError as exc:
            failed += 1
            print_problems("scenario", exc)
            continue
        console.print(
            f"[green]ok[/] {escape(short_text(name, 200))}: scenario {escape(repr(loaded.name))}, "
            f"hash {scenario_hash(loaded)}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
    if failed:
        if len(files) > 1:
            errors.print(f"{failed} of {len(files)} files invalid", highlight=False)
        raise typer.Exit(USAGE_ERROR)


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
        table.add_column("group", overflow="fold")
    for header in ("R0", "e", "ρ", "b", "g_F", "D0 bn", "for. 0"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("owner", overflow="fold")
    if rationale:
        table.add_column("rationale (judged values)", min_width=30, overflow="fold")
    else:
        # the basis column wraps rather than being squeezed out of a narrow table
        table.add_column("basis", min_width=12, ratio=1, overflow="fold")
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
            table.add_row(name, Text(f"invalid: {exc.problems[0]}", style="red"), "")
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
        with progress_reporter(f"{a.name} vs {b.name}", 2 * seeds, "runs") as advance:
            table, info = api.compare(
                a,
                b,
                seeds=seeds,
                firms=firms,
                end_year=end_year,
                progress=lambda name, seed: advance(),
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
    missing = [row.label for row in table.itertuples() if not (np.isfinite(row.a) and np.isfinite(row.b))]
    if missing:
        last = info.get("end_year")
        reach = f" (the runs end in {last})" if last else ""
        console.print(
            f"— marks a value the runs do not reach{reach}: {', '.join(missing)} "
            "refer to a later year, or to an event (parity) that no run reached; a later --end-year shows them.",
            highlight=False,
            soft_wrap=True,
        )
    elif any(not np.isfinite(row.low) for row in table.itertuples()):
        console.print("— in the interval column: too few seeds, or no spread between seeds.", highlight=False)
    controlled = ", ".join(info["controlled"]) or "none"
    console.print(f"Controlled technologies (either arm): {controlled}", highlight=False, soft_wrap=True)
    if store is not None:
        console.print(f"Runs stored in [bold]{store.path}[/] (nswn report / nswn export read them).", highlight=False)


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
    rows = reference.rows()
    table = Table(title="Scenario parameters (levers, then assumptions)")
    # parameter paths are never broken inside (they are copied into scenario files); the rest wraps at words
    widest = max(len(row["path"]) for row in rows)
    table.add_column("parameter", no_wrap=True, min_width=min(widest, 60))
    for header in ("default", "unit", "allowed", "basis"):
        table.add_column(header)
    for row in rows:
        cells = [row[key].replace("\\|", "|") for key in ("path", "default", "unit", "range", "basis")]
        table.add_row(*cells)
    console.print(table)


def _version(value: bool) -> None:
    if value:
        from nswn import __version__

        print(f"nswn {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Simulate China's new-style whole-of-nation system for science, technology and industry."""


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
    from nswn.analysis import derisk_commands

    derisk_commands.register(app)
    from nswn.analysis import priorities_commands

    priorities_commands.register(app)
    for info in app.registered_commands:
        info.help = reflow_help(info.help if info.help is not None else inspect.getdoc(info.callback))


def reflow_help(text: str | None) -> str | None:
    """A command's help with each paragraph on one line, for the console to wrap.

    Typer keeps the docstring's own line breaks after the first paragraph, so a help text
    wrapped at 95 columns in the source printed as ragged half-lines in an 80-column
    terminal. Paragraphs stay apart (blank lines); nothing else changes.
    """
    if text is None:
        return None
    return "\n\n".join(" ".join(line.strip() for line in part.splitlines()) for part in text.split("\n\n"))


_register_commands()


def main() -> None:
    """Entry point that turns stray user errors into clean messages."""
    from nswn.instruments import PluginError

    safe_streams()
    try:
        app()
    except PluginError as exc:
        errors.print(
            f"[bold red]error:[/] a third-party instrument is broken: {escape(str(exc))}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(USAGE_ERROR)
    except KeyboardInterrupt:
        errors.print("interrupted", highlight=False)
        sys.exit(130)
