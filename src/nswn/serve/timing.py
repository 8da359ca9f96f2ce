"""Measure the page's update time: ``python -m nswn.serve.timing [--processes N] [--firms N]``.

Drives ``POST /api/ensemble`` of an in-process service (the page's defaults: paired seeds,
resolution, process pool) through four updates a user makes, and prints the wall time of
each as the page sees it (request to response):

1. cold — the first load, nothing cached (scenario and comparison both run);
2. lever — a lever moved (the scenario runs; the comparison, same assumptions, is cached);
3. cached — the same request again (every run from the cache; only folding and JSON);
4. assumption — an assumption moved (scenario and comparison both run again).

The numbers are wall times on whatever machine runs this; docs/page.md records them with the
machine's load. Nothing here is asserted in a test (the project does not assert wall times).
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=min(8, os.cpu_count() or 1), help="worker processes")
    parser.add_argument("--firms", type=int, default=None, help="agents per run (default: the page's)")
    parser.add_argument("--seeds", type=int, default=None, help="paired seeds (default: the page's)")
    parser.add_argument(
        "--settle", type=float, default=2.0, help="seconds to wait after start-up, as a server waits for its first user"
    )
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from nswn.serve.app import create_app
    from nswn.serve.schemas import Settings

    base = Settings()
    settings = Settings(
        processes=args.processes,
        warm=False,
        page_firms=args.firms or base.page_firms,
        page_seeds=args.seeds or base.page_seeds,
    )
    steps = [
        ("cold", {}),
        ("lever", {"levers.central_budget.share_of_gdp": 0.0051}),
        ("cached", {"levers.central_budget.share_of_gdp": 0.0051}),
        ("assumption", {"levers.central_budget.share_of_gdp": 0.0051, "assumptions.innovation.emulation_rate": 0.12}),
    ]
    rows = []
    with TestClient(create_app(settings)) as client:
        time.sleep(args.settle if args.processes else 0.0)  # the workers start (import, warm run) meanwhile
        for name, overrides in steps:
            started = time.monotonic()
            response = client.post("/api/ensemble", json={"base": "baseline", "overrides": overrides})
            seconds = time.monotonic() - started
            body = response.json()
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}: {body}")
            rows.append(
                {
                    "update": name,
                    "seconds": round(seconds, 2),
                    "runs": body["timing"]["runs"],
                    "cached_runs": body["timing"]["cached_runs"],
                    "seeds": len(body["seeds"]),
                    "agents": body["resolution"]["agents"],
                    "resolution": round(body["resolution"]["resolution"], 4),
                    "processes": args.processes,
                    "cpus": os.cpu_count(),
                }
            )
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
