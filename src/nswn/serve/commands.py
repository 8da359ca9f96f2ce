"""Command-line commands of nswn.serve, registered on the main Typer app by `nswn.cli`.

Keep imports of heavy libraries inside the command functions: the CLI imports this module
at start-up.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def register(app: typer.Typer) -> None:
    """Add this package's commands to app."""

    @app.command()
    def serve(
        host: Annotated[
            str, typer.Option(help="Address to listen on; anything but loopback lets other machines run simulations.")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
        firms: Annotated[
            int | None,
            typer.Option(
                min=100, max=40_000, help="Agents of an interactive run (default: the whole real firm population)."
            ),
        ] = None,
        processes: Annotated[
            int | None,
            typer.Option(min=0, max=64, help="Worker processes for runs (0: threads; default: up to 4, one per CPU)."),
        ] = None,
        cache: Annotated[int, typer.Option(min=1, max=10_000, help="Runs kept in the LRU cache.")] = 128,
        run_seconds: Annotated[float, typer.Option(min=0.1, max=600, help="Run-time limit of one simulation.")] = 10.0,
    ) -> None:
        """Start the interactive policy simulator (page at /, JSON API under /api, OpenAPI at /docs)."""
        from nswn.cli import errors, fail

        try:
            import uvicorn

            from nswn.serve.app import LOOPBACK_HOSTS, Settings, create_app, plotly_js_path
        except ModuleNotFoundError as exc:
            fail(f"nswn serve needs the 'serve' extra ({exc.name} is missing): pip install 'nswn[serve]'")
            return
        loopback = _is_loopback(host)
        if not loopback:
            errors.print(
                f"[bold yellow]warning:[/] listening on {host}: anyone who can reach this machine can run simulations",
                highlight=False,
            )
        if plotly_js_path() is None:
            errors.print(
                "[bold yellow]warning:[/] plotly is not installed, so the page cannot draw charts: "
                "pip install 'nswn[report]'",
                highlight=False,
            )
        workers = processes if processes is not None else min(4, os.cpu_count() or 1)
        settings = Settings(
            firms=firms,
            processes=workers,
            cache_size=cache,
            run_seconds=run_seconds,
            allowed_hosts=(*LOOPBACK_HOSTS, host) if loopback else None,
        )
        shown = f"[{host}]" if ":" in host else host
        print(f"nswn policy simulator: http://{shown}:{port}/  (API docs: /docs; Ctrl-C stops)", flush=True)
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
