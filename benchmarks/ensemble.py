"""Ensemble throughput: the same design swept serially, on local processes and on a Dask LocalCluster.

A design of ``--runs`` replicates of the baseline is swept once per runner into a fresh
results directory (runs written to DuckDB as they finish, as ``nswn sweep`` does). For each
runner it prints runs per second, the speed-up over serial measured in this same process,
and the per-run overhead: wall time × workers / runs minus the mean simulation time of a run
(what a worker spends per run on anything but simulating — start-up, transfers, building
result tables, waiting on the parent's writes). It then checks that the three runners wrote
identical tables. Speed is reported, never asserted.

    python benchmarks/ensemble.py                         # 200 runs, 20 000 firms, 2024–2050
    python benchmarks/ensemble.py --runs 50 --firms 5000 --end-year 2035
    python benchmarks/ensemble.py --runners serial processes --workers 4
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="replicates of the baseline (default 200)")
    parser.add_argument("--firms", type=int, default=None, help="firms per run (default: the baseline's)")
    parser.add_argument("--end-year", type=int, default=None, help="last year (default: the baseline's)")
    parser.add_argument("--workers", type=int, default=2, help="processes and Dask workers (default 2)")
    parser.add_argument(
        "--runners", nargs="+", default=["serial", "processes", "dask"], choices=["serial", "processes", "dask"]
    )
    parser.add_argument("--out", type=Path, default=None, help="keep the results here (default: a temp dir)")
    return parser.parse_args()


def measure(design: Any, runner: str, workers: int, out: Path) -> dict[str, Any]:
    """Sweep ``design`` into ``out`` with ``runner``; return timings."""
    from nswn.experiments.sweep import sweep

    first: list[float] = []
    started = time.perf_counter()

    def progress(_: Any) -> None:
        if not first:
            first.append(time.perf_counter() - started)

    options: dict[str, Any] = {"dask_local": workers} if runner == "dask" else {}
    report = sweep(
        design, out, runner, workers=None if runner != "processes" else workers, progress=progress, **options
    )
    wall = time.perf_counter() - started
    assert report.complete, report.failures[:3]
    slots = 1 if runner == "serial" else workers
    simulate = report.run_seconds / report.completed
    return {
        "runner": report.runner,
        "name": runner,
        "workers": slots,
        "runs": report.completed,
        "wall": wall,
        "runs_per_s": report.completed / wall,
        "simulate_per_run": simulate,
        "overhead_per_run": wall * slots / report.completed - simulate,
        "first_result": first[0] if first else float("nan"),
        "tasks": report.tasks,
    }


def main() -> None:
    args = parse()
    import numpy as np

    import nswn
    from nswn.experiments.design import design_from_dict
    from nswn.storage.store import ResultsStore

    data: dict[str, Any] = {"name": "benchmark", "scenarios": ["baseline"], "seeds": args.runs, "root_seed": 0}
    if args.firms is not None:
        data["firms"] = args.firms
    if args.end_year is not None:
        data["years"] = {"end": args.end_year}
    design = design_from_dict(data, source="benchmarks/ensemble.py")
    scenario = nswn.load_scenario("baseline")
    firms = args.firms or scenario.firms
    end_year = args.end_year or scenario.years.end
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"ensemble benchmark: {args.runs} runs of the baseline, "
        f"{f'{firms:,} agents' if firms else 'the default resolution (every real firm)'}, "
        f"{scenario.years.start}–{end_year}; "
        f"workers {args.workers}; {cpus} CPUs; nswn {nswn.__version__}, numpy {np.__version__}, "
        f"Python {platform.python_version()} on {platform.machine()}",
        flush=True,
    )
    root = args.out or Path(tempfile.mkdtemp(prefix="nswn-bench-"))
    rows = []
    for runner in args.runners:
        out = root / runner
        if (out / "results.duckdb").exists():
            sys.exit(f"{out} already holds results; give an empty --out")
        row = measure(design, runner, args.workers, out)
        rows.append(row)
        print(f"  {row['runner']}: {row['wall']:.1f} s", flush=True)

    serial = next((r for r in rows if r["name"] == "serial"), None)
    header = (
        f"{'runner':<34} {'runs/s':>8} {'speed-up':>9} {'sim/run s':>10} {'overhead/run s':>15} "
        f"{'first result s':>15} {'tasks':>6}"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in rows:
        speed = r["runs_per_s"] / serial["runs_per_s"] if serial else float("nan")
        print(
            f"{r['runner']:<34} {r['runs_per_s']:>8.2f} {speed:>8.2f}× {r['simulate_per_run']:>10.3f} "
            f"{r['overhead_per_run']:>15.3f} {r['first_result']:>15.2f} {r['tasks']:>6}"
        )
    print()
    print(
        "overhead/run = wall × workers / runs − mean simulation time of a run (start-up, transfers, "
        "result tables, waiting on writes)"
    )
    if len(rows) > 1:
        import pandas as pd

        snapshots = {r["name"]: ResultsStore(root / r["name"]).snapshot() for r in rows}
        first_name, reference = next(iter(snapshots.items()))
        identical = True
        for name, tables in snapshots.items():
            for table, frame in reference.items():
                other = tables[table]
                same = frame.shape == other.shape and pd.util.hash_pandas_object(frame, index=False).equals(
                    pd.util.hash_pandas_object(other, index=False)
                )
                if not same:
                    identical = False
                    print(f"DIFFERENT: {table} of {name} vs {first_name}")
        print(f"tables identical across {', '.join(snapshots)}: {'yes' if identical else 'NO'}")
    print(f"results: {root}")


if __name__ == "__main__":
    main()
