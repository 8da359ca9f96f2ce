"""Load benchmark of the policy-simulator service: concurrent clients against /api/simulate.

Starts ``nswn serve`` on a free loopback port (or uses ``--url``, which must be loopback),
then runs ``--clients`` threads for ``--duration`` seconds. Each request asks what the page
asks — the interactive run size and the page's columns — for a scenario drawn from a grid
of ``--distinct`` lever combinations, so the mix holds cache hits (repeats) and misses (new
combinations, which run the model). ``--distinct 0`` makes every request a new scenario.

Prints p50/p95/max latency, throughput, the error count and the share served from cache::

    python benchmarks/serve_load.py                   # 8 clients, 30 s
    python benchmarks/serve_load.py --duration 10 --clients 4 --distinct 0
"""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import numpy as np

PAGE_TECH_COLUMNS = [
    "technology_id",
    "group",
    "year",
    "relative_capability",
    "parity_reached",
    "first_parity_year",
    "china_domestic_share",
    "china_exports",
    "demand",
    "funding_*",
]
PAGE_MACRO_COLUMNS = ["year", "gdp", "manufacturing_share", "debt_to_gdp", "tfp_index", "publications", "patents"]
BUDGETS = [0.003, 0.005, 0.008, 0.012, 0.02, 0.03, 0.04, 0.05]
MODES = ["none", "broad", "shortlist"]
CENTRALISATION = [0.0, 0.3, 0.6, 1.0]


def scenario_grid() -> list[dict[str, object]]:
    """Lever combinations a user might try on the page."""
    return [
        {
            "levers.central_budget.share_of_gdp": budget,
            "levers.priorities.mode": mode,
            "levers.local_allocation.centralisation": share,
        }
        for budget, mode, share in itertools.product(BUDGETS, MODES, CENTRALISATION)
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(processes: int | None, firms: int) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    command = [str(Path(sys.executable).with_name("nswn")), "serve", "--port", str(port), "--firms", str(firms)]
    if processes is not None:
        command += ["--processes", str(processes)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return url, process
        except httpx.TransportError:
            if process.poll() is not None:
                detail = process.stderr.read().decode() if process.stderr else ""
                raise SystemExit(f"nswn serve exited: {detail}") from None
            time.sleep(0.2)
    process.kill()
    raise SystemExit("nswn serve did not start within 60 s")


def check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if host != "localhost":
        try:
            if ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            pass
        raise SystemExit(f"--url must be a loopback address (127.0.0.1, ::1, localhost), not {host!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument(
        "--distinct", type=int, default=32, help="distinct scenarios to draw from; 0: every request new (default 32)"
    )
    parser.add_argument("--processes", type=int, default=None, help="server worker processes (default: nswn serve's)")
    parser.add_argument("--firms", type=int, default=3000, help="interactive firms (default 3000)")
    parser.add_argument("--url", default=None, help="use a running loopback server instead of starting one")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the request mix")
    args = parser.parse_args()

    process = None
    if args.url:
        check_loopback(args.url)
        url = args.url.rstrip("/")
    else:
        url, process = start_server(args.processes, args.firms)
    grid = scenario_grid()
    random.Random(args.seed).shuffle(grid)
    pool = grid[: args.distinct] if args.distinct > 0 else []
    fresh = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []
    cached = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + args.duration

    def client(number: int) -> None:
        nonlocal cached
        rng = random.Random(args.seed * 1000 + number)
        with httpx.Client(base_url=url, timeout=max(60.0, args.duration)) as session:
            while time.monotonic() < stop_at:
                if pool:
                    overrides, seed = rng.choice(pool), 0
                else:
                    overrides, seed = rng.choice(grid), 1 + next(fresh)  # a new seed: never cached
                body = {
                    "overrides": overrides,
                    "seed": seed,
                    "technology_columns": PAGE_TECH_COLUMNS,
                    "macro_columns": PAGE_MACRO_COLUMNS,
                }
                started = time.perf_counter()
                try:
                    response = session.post("/api/simulate", json=body)
                    elapsed = time.perf_counter() - started
                    ok = response.status_code == 200
                    hit = ok and response.json()["cached"]
                    problem = None if ok else f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    elapsed, hit, problem = time.perf_counter() - started, False, f"{type(exc).__name__}: {exc}"
                with lock:
                    latencies.append(elapsed)
                    cached += bool(hit)
                    if problem:
                        errors.append(problem)

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.duration + 120)
    wall = time.monotonic() - began
    health = httpx.get(url + "/api/health", timeout=10).json()
    if process is not None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()

    times = np.array(latencies) * 1000
    mix = f"{args.distinct} distinct scenarios" if args.distinct > 0 else "every request a new scenario"
    print(f"nswn serve load: {args.clients} clients for {args.duration:g} s against {url}/api/simulate")
    print(f"  interactive settings: {args.firms} firms, page columns; request mix: {mix}; CPUs: {os.cpu_count()}")
    if len(times):
        print(
            f"  requests: {len(times)}   throughput: {len(times) / wall:.1f} req/s   "
            f"served from cache: {cached / len(times):.0%}"
        )
        print(
            f"  latency ms: p50 {np.percentile(times, 50):.0f}   p95 {np.percentile(times, 95):.0f}   "
            f"max {times.max():.0f}"
        )
    print(f"  errors: {len(errors)}")
    for problem in sorted(set(errors))[:5]:
        print(f"    {problem}")
    print(f"  server cache: {health['cache']}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
