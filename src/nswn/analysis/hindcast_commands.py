"""``nswn hindcast``: the ``history`` scenario against what happened (registered by ``nswn.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the hindcast command to ``app``."""

    @app.command()
    def hindcast(
        seeds: Annotated[int, typer.Option(min=1, max=1000, help="Seeds (runs of the history scenario).")] = 10,
        firms: Annotated[
            int | None,
            typer.Option(min=100, max=10_000_000, help="Agents (default: the whole real firm population)."),
        ] = None,
        workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 2,
        window: Annotated[
            str, typer.Option(help="Targets to show: all, train (2006-2018) or test (2019-2024).")
        ] = "all",
        csv: Annotated[Path | None, typer.Option(help="Also write the table to this CSV file.")] = None,
        out: Annotated[
            Path | None,
            typer.Option(help="Also store the runs here; `nswn report DIR` then draws the history section."),
        ] = None,
        markdown: Annotated[
            Path | None,
            typer.Option(
                help="Also write the table as Markdown into this file, between the lines "
                "'<!-- hindcast:begin -->' and '<!-- hindcast:end -->' (the rest of the file is kept; "
                "a file without them gets the table appended)."
            ),
        ] = None,
    ) -> None:
        """Run `history` (2006 → 2024) and print observed vs simulated for every historical target.

        A target is 'within' when the simulated median lies within observed ± tolerance; the
        tolerance comes from the data's own uncertainty (catalog/history/targets.csv).
        """
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        from rich.table import Table

        from nswn.analysis import hindcast as hc
        from nswn.cli import console, fail

        if window not in ("all", "train", "test"):
            fail(f"--window = {window!r}: allowed: all, train, test")
            return
        store = None
        if out is not None:
            from nswn.storage.store import ResultsStore, StoreError

            try:
                store = ResultsStore(out)
                store.check_writable()
            except (StoreError, OSError) as exc:
                fail(str(exc))
                return
        with Progress(
            TextColumn("history 2006-2024"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task("runs", total=seeds)
            runs = hc.run_history(
                seeds, firms, workers, progress=lambda done: bar.update(task, completed=done), store=store
            )
        table = hc.compare(runs)
        if window != "all":
            table = table[table["window"] == window]
        if csv is not None:
            try:
                table.to_csv(csv, index=False)
            except OSError as exc:
                fail(f"cannot write {csv}: {exc}")
                return
        if markdown is not None:
            try:
                write_markdown(markdown, hc.markdown_table(table, seeds, firms))
            except OSError as exc:
                fail(f"cannot write {markdown}: {exc}")
                return
        shown = Table(title=f"Hindcast: history 2006-2024, {seeds} seeds; simulated median [90 % interval]")
        status = "status (off, in tol.)"
        for column in ("target", "window", "year", "observed ± tolerance", "simulated", status):
            shown.add_column(column, justify="left" if column in ("target", status) else "right")
        for row in table.itertuples():
            name = row.target_id + (f" ({row.technology})" if row.technology else "")
            shown.add_row(
                name,
                row.window,
                str(row.year),
                f"{row.observed:.4g} ± {row.tolerance:.3g}",
                hc.band_text(row, lambda v: f"{v:.4g}"),
                hc.status_text(row.status, row.deviation),
            )
        console.print(shown)
        counts = table["status"].value_counts()
        modelled = int(counts.get("within", 0) + counts.get("missed", 0))
        console.print(
            f"{int(counts.get('within', 0))} of {modelled} modelled targets within tolerance; "
            f"{int(counts.get('not modelled', 0))} not modelled. In brackets: (median − observed) / tolerance."
        )


BEGIN, END = "<!-- hindcast:begin -->", "<!-- hindcast:end -->"


def write_markdown(path: Path, table: str, begin: str = BEGIN, end: str = END) -> None:
    """Put ``table`` between the markers ``begin`` and ``end`` of ``path`` (by default the
    hindcast's; atomically; other text kept).

    Raises
    ------
    OSError
        When the file cannot be read or written.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{begin}\n{table}{end}"
    if begin in text and end in text and text.index(begin) < text.index(end):
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        text = head + block + tail
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + block + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
