"""One page run's time: the baseline at the page's resolution, 2024–2050, reduced to its series.

What a worker of ``nswn serve`` does per seed (``serve.ensemble.compute_series``: ``api.simulate``
at ``Settings().page_firms`` agents, then ``run_series``), timed in a fresh process per round, one
seed after another, after one warm run (as the workers warm up). With ``--before OTHER/src`` the
same runs of another checkout alternate with this one's in the same session, and the ratio is
printed; wall and CPU seconds (``time.process_time``, which other jobs' load does not inflate).

    python benchmarks/page_run.py                          # this checkout, 12 runs x 3 rounds
    python benchmarks/page_run.py --before ../main/src     # beside another checkout
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ROUND = """
import json, sys, time
from nswn import api
from nswn.scenario import io
from nswn.serve.ensemble import run_series
from nswn.serve.schemas import Settings
base = io.load("baseline")
firms = Settings().page_firms
api.simulate(base, seed=0, firms=200, end_year=base.years.start + 2)  # the worker's warm run
wall, cpu = [], []
for seed in range(100, 100 + int(sys.argv[1])):
    t0, c0 = time.perf_counter(), time.process_time()
    run_series(api.simulate(base, seed=seed, firms=firms))
    wall.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
print(json.dumps({"wall": wall, "cpu": cpu}))
"""


def one_round(src: str, runs: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": src}
    done = subprocess.run([sys.executable, "-c", ROUND, str(runs)], env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12, help="page runs per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (fresh processes), alternating")
    parser.add_argument("--before", default=None, help="src/ of another checkout to time beside this one")
    args = parser.parse_args()
    sides = {"this": str(ROOT / "src")}
    if args.before:
        sides["before"] = str(Path(args.before).resolve())
    times: dict[str, dict[str, list[float]]] = {side: {"wall": [], "cpu": []} for side in sides}
    for _ in range(args.rounds):
        for side, src in sides.items():
            measured = one_round(src, args.runs)
            for kind in ("wall", "cpu"):
                times[side][kind] += measured[kind]
    load = os.getloadavg()[0]
    for side in sides:
        wall, cpu = (statistics.median(times[side][k]) for k in ("wall", "cpu"))
        print(f"{side:>6}: median per page run {wall:.3f} s wall, {cpu:.3f} s CPU ({len(times[side]['wall'])} runs)")
    if "before" in sides:
        ratio = {
            k: statistics.median(times["this"][k]) / statistics.median(times["before"][k]) for k in ("wall", "cpu")
        }
        print(f" ratio this/before: {ratio['wall']:.2f} wall, {ratio['cpu']:.2f} CPU")
    print(f"load average (1 min) at the end: {load:.2f}")


if __name__ == "__main__":
    main()
