"""``nswn infer-priorities``: which priority mode do public indicators support (registered by ``nswn.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

PANEL_HELP = """A tidy CSV with columns area, year, indicator, value, source: one row per area, year and
indicator (funding | investment | publications | patents | firm_entries); value a number ≥ 0
(empty = missing, dropped); source required on every row. Areas are catalog technology ids
or sectors, or any names mapped in a mapping file (area, technology, basis sourced|judged,
note). Units need only be consistent within an indicator and year (shares are used).
See docs/priorities.md."""


def register(app: typer.Typer) -> None:
    """Add the infer-priorities command to ``app``."""

    @app.command("infer-priorities", help=f"Infer the state's priority mode from an indicator panel.\n\n{PANEL_HELP}")
    def infer_priorities(
        panel: Annotated[Path, typer.Argument(help="The indicator panel CSV.")],
        mapping: Annotated[
            Path | None,
            typer.Option(help="Area → technology mapping CSV (default: <panel stem>.mapping.csv beside the panel)."),
        ] = None,
        quick: Annotated[
            bool, typer.Option("--quick", help="Smaller ABC (120 particles, ≤ 4 generations, 2 runs).")
        ] = False,
        budget: Annotated[
            int | None,
            typer.Option(
                min=100,
                max=1_000_000,
                help="Simulations per ABC run (stops after the generation reaching N; default 3000, quick 1200).",
            ),
        ] = None,
        repeats: Annotated[
            int | None, typer.Option(min=1, max=50, help="Independent ABC runs (default 3; quick 2).")
        ] = None,
        seed: Annotated[int, typer.Option(min=0, max=2**31 - 1, help="Seed of the whole inference.")] = 0,
        workers: Annotated[
            int, typer.Option(min=1, max=64, help="Worker processes (results do not depend on it).")
        ] = 1,
        out: Annotated[
            Path | None, typer.Option(help="Write modes/membership/parameters/checks CSV and JSON here.")
        ] = None,
    ) -> None:
        import dataclasses

        from rich.table import Table

        from nswn.analysis import panel as panels
        from nswn.analysis import priorities_inference as pi
        from nswn.cli import console, errors, fail

        try:
            loaded = panels.load_panel(panel, mapping)
        except panels.PanelError as exc:
            for problem in exc.problems:
                errors.print(f"error: {problem}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        if out is not None and out.exists() and not out.is_dir():
            fail(f"--out {out}: exists and is not a directory")
            return
        settings = pi.Settings.quick() if quick else pi.Settings()
        if budget is not None:
            settings = dataclasses.replace(settings, budget=budget)
        if repeats is not None:
            settings = dataclasses.replace(settings, repeats=repeats)
        console.print(
            f"{loaded.path}: {len(loaded.areas)} areas, years {loaded.years[0]}-{loaded.years[-1]}, "
            f"indicators {', '.join(loaded.indicators)}; {loaded.missing} missing value(s) dropped; "
            f"{settings.repeats} ABC-SMC run(s) stopping at about {settings.budget} simulations, "
            f"{settings.firms} firms",
            highlight=False,
            soft_wrap=True,
        )
        try:
            result = pi.infer(
                loaded,
                settings,
                seed=seed,
                workers=workers,
                progress=lambda m: errors.print(f"nswn: {m}", highlight=False),
            )
        except ValueError as exc:
            fail(str(exc))
            return
        table = Table(title="Posterior probability of each priority mode (mean of the ABC runs; sd, min-max)")
        for column in ("mode", "probability", "sd", "range"):
            table.add_column(column, justify="left" if column == "mode" else "right")
        for row in result.modes.itertuples():
            sd = "—" if row.sd != row.sd else f"{row.sd:.2f}"
            table.add_row(row.mode, f"{row.probability:.2f}", sd, f"{row.low:.2f}-{row.high:.2f}")
        console.print(table)
        info = result.info
        console.print(
            f"Most probable: {info['most_probable']}; P(shortlist or adaptive) = {info['p_concentrated']:.2f}. "
            f"{info['simulations']} simulations, {info['wall_seconds']:.0f} s.",
            highlight=False,
            soft_wrap=True,
        )
        listed = result.membership.dropna(subset=["probability"]).sort_values("probability", ascending=False)
        if len(listed):
            shown = Table(title="P(area on the shortlist | shortlist or adaptive mode)")
            shown.add_column("area")
            shown.add_column("probability", justify="right")
            for row in listed.head(15).itertuples():
                shown.add_row(str(row.area), f"{row.probability:.2f}")
            console.print(shown)
        checks = Table(title="Posterior predictive checks (observed vs 90 % interval of fresh simulations)")
        for column in ("statistic", "observed", "q05", "q50", "q95", "tail p"):
            checks.add_column(column, justify="left" if column == "statistic" else "right")
        for row in result.checks.itertuples():
            checks.add_row(row.statistic, *(f"{v:.2f}" for v in (row.observed, row.q05, row.q50, row.q95, row.tail)))
        console.print(checks)
        if out is not None:
            try:
                files = result.write(out)
            except OSError as exc:
                fail(f"cannot write {out}: {exc}")
                return
            console.print(f"Wrote {', '.join(str(f) for f in files)}", highlight=False, soft_wrap=True)
