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


def allowed_hosts(host: str, loopback: bool, extra: list[str]) -> tuple[str, ...] | None:
    """Host headers the service answers: loopback names, plus for an exposed service its address,
    this machine's names and ``extra`` (``None``, any host, only when ``extra`` holds ``*``).

    Restricting the Host header protects an exposed service from DNS-rebinding pages.
    """
    import socket

    from nswn.serve.schemas import LOOPBACK_HOSTS

    if "*" in extra:
        return None
    names = [*LOOPBACK_HOSTS, host]
    if not loopback:
        if host not in ("0.0.0.0", "::", "[::]"):
            names.append(host)
        for name in (socket.gethostname(), socket.getfqdn()):
            if name:
                names.append(name)
    names.extend(extra)
    return tuple(dict.fromkeys(n for n in names if n and n not in ("0.0.0.0", "::", "[::]")))


def port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (``None`` when it can); checked before announcing the URL."""
    import socket

    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve {host}: {exc.strerror or exc}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


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
        allowed_host: Annotated[
            list[str] | None,
            typer.Option(
                help="Host name clients may use when --host is not loopback (repeatable; '*' allows any). "
                "Default: the --host address, this machine's name and loopback."
            ),
        ] = None,
    ) -> None:
        """Start the interactive policy simulator (page at /, JSON API under /api, OpenAPI at /docs)."""
        from nswn.cli import fail, warn

        try:
            import uvicorn

            from nswn.serve.app import Settings, create_app, plotly_js_path
        except ModuleNotFoundError as exc:
            fail(f"nswn serve needs the 'serve' extra ({exc.name} is missing): pip install 'nswn[serve]'")
            return
        loopback = _is_loopback(host)
        if not loopback:
            warn(f"listening on {host}: anyone who can reach this machine can run simulations")
        if plotly_js_path() is None:
            warn("plotly is not installed, so the page cannot draw charts: pip install 'nswn[report]'")
        workers = processes if processes is not None else min(4, os.cpu_count() or 1)
        hosts = allowed_hosts(host, loopback, allowed_host or [])
        busy = port_in_use(host, port)
        if busy:
            fail(f"cannot listen on {host} port {port}: {busy} (another server there? choose --port)")
        settings = Settings(
            firms=firms,
            processes=workers,
            cache_size=cache,
            run_seconds=run_seconds,
            allowed_hosts=hosts,
        )
        if not loopback:
            shown_hosts = "any (--allowed-host '*')" if hosts is None else ", ".join(hosts)
            warn(f"requests must name one of these hosts: {shown_hosts}")
        shown = f"[{host}]" if ":" in host else host
        print(f"nswn policy simulator: http://{shown}:{port}/  (API docs: /docs; Ctrl-C stops)", flush=True)
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
