"""Command-line commands of nswn.serve, registered on the main Typer app by `nswn.cli`.

Keep imports of heavy libraries inside the command functions: the CLI imports this module
at start-up.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to app."""
