"""Command-line commands of nswn.report, registered on the main Typer app by `nswn.cli`.

Keep imports of heavy libraries inside the command functions: the CLI imports this module
at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to app."""

    @app.command()
    def report(
        results: Annotated[Path, typer.Argument(help="Results directory (written by `nswn run --out DIR`).")],
        out: Annotated[Path | None, typer.Option(help="HTML file to write (default: RESULTS/report.html).")] = None,
        arms: Annotated[
            list[str] | None,
            typer.Option("--arms", help="Draw only this arm (label, key or key prefix; repeatable)."),
        ] = None,
        scenarios: Annotated[
            list[str] | None,
            typer.Option("--scenarios", help="Draw only the arms of this scenario name (repeatable)."),
        ] = None,
    ) -> None:
        """Write a self-contained HTML report (works offline) and print its path."""
        from nswn.cli import fail

        try:
            from nswn.report.data import ReportError
            from nswn.report.render import build_report
        except ModuleNotFoundError as exc:
            fail(f"nswn report needs the 'report' extra ({exc.name} is missing): pip install 'nswn[report]'")
            return
        from nswn.storage.store import StoreError

        try:
            path = build_report(results, out, arms=arms, scenarios=scenarios)
        except (StoreError, ReportError) as exc:
            fail(str(exc))
            return
        except OSError as exc:
            fail(f"cannot write the report: {exc}")
            return
        print(path.resolve())
