"""Convergence study: do the model's answers depend on how many agents represent the firms?

The firm population is the catalog's real one (``firms_real.csv``); the agent budget
(``firms``) only sets the resolution, i.e. how many of those firms are simulated one agent
per firm and how many are grouped into super-individuals (docs/model.md §5). This script
runs the baseline and two contrasting scenarios at several resolutions spanning 16× (up to
the full real population) over the same seeds, and reports per resolution the median and
90 % interval over seeds of the headline outputs and of the paired scenario differences.

An output *passes* at a resolution when its median differs from the finest resolution's
median by at most the finest resolution's 90 % interval half-width. The smallest
resolution at which every output passes is the converged default.

    python benchmarks/convergence.py --quick          # 10 seeds, 4 resolutions
    python benchmarks/convergence.py --seeds 20 --markdown docs/convergence-table.md
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

SCENARIOS = ("baseline", "shortlist5", "no_controls")
OUTPUTS = {
    "stranglehold_parity_2035": "stranglehold at parity 2035 (count)",
    "stranglehold_parity_2050": "stranglehold at parity 2050 (count)",
    "stranglehold_relcap_2035": "median stranglehold relative capability 2035",
    "tfp_2050": "TFP index 2050",
    "manufacturing_share_2050": "manufacturing share 2050",
    "debt_to_gdp_2050": "debt/GDP 2050",
    "ca_world_share_2035": "China's world share 2035, competitive-advantage group",
    "max_lead_2050": "largest relative capability 2050 (bounded leads)",
}


def metrics(technology: pd.DataFrame, macro: pd.DataFrame) -> dict[str, float]:
    """The study's outputs from one run's tables."""
    tech = technology.set_index(["year", "technology_id"])
    strangle = technology[technology["group"] == "stranglehold"]
    at = strangle.set_index("year")

    def parity(year: int) -> float:
        return float(at.loc[year, "parity_reached"].sum())

    ca = technology[(technology["group"] == "competitive_advantage") & (technology["year"] == 2035)]
    world = (ca["china_exports"] + ca["foreign_exports"]).sum()
    m = macro.set_index("year")
    return {
        "stranglehold_parity_2035": parity(2035),
        "stranglehold_parity_2050": parity(2050),
        "stranglehold_relcap_2035": float(at.loc[2035, "relative_capability"].median()),
        "tfp_2050": float(m.loc[2050, "tfp_index"]),
        "manufacturing_share_2050": float(m.loc[2050, "manufacturing_share"]),
        "debt_to_gdp_2050": float(m.loc[2050, "debt_to_gdp"]),
        "ca_world_share_2035": float(ca["china_exports"].sum() / world) if world > 0 else float("nan"),
        "max_lead_2050": float(tech.xs(2050, level="year")["relative_capability"].max()),
    }


def one(job: tuple[str, int, int]) -> dict[str, float | str | int]:
    """Run one scenario, seed and agent budget; return its outputs."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from nswn import api

    scenario, seed, agents = job
    result = api.simulate(scenario, seed=seed, firms=agents)
    row: dict[str, float | str | int] = {"scenario": scenario, "seed": seed, "agents_budget": agents}
    row.update(metrics(result.technology_year, result.macro_year))
    row["resolution"] = float(result.manifest["resolution"])
    row["seconds"] = float(result.manifest["wall_seconds"])
    return row


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Median and 90 % interval over seeds per resolution, for levels and paired differences."""
    long = runs.melt(
        id_vars=["scenario", "seed", "resolution"], value_vars=list(OUTPUTS), var_name="output", value_name="value"
    )
    frames = []
    base = long[long["scenario"] == "baseline"].set_index(["seed", "resolution", "output"])["value"]
    for scenario in runs["scenario"].unique():
        part = long[long["scenario"] == scenario].set_index(["seed", "resolution", "output"])["value"]
        frames.append(part.rename("value").reset_index().assign(quantity=scenario))
        if scenario != "baseline":
            diff = (part - base).dropna()
            frames.append(diff.rename("value").reset_index().assign(quantity=f"{scenario} − baseline"))
    data = pd.concat(frames)
    grouped = data.groupby(["quantity", "output", "resolution"])["value"]
    table = pd.DataFrame(
        {
            "median": grouped.median(),
            "p05": grouped.quantile(0.05),
            "p95": grouped.quantile(0.95),
        }
    ).reset_index()
    table["half_width"] = (table["p95"] - table["p05"]) / 2
    return table


def verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """Per quantity, output and resolution: does the median lie within the finest
    resolution's 90 % half-width of the finest median?"""
    rows = []
    for (quantity, output), part in table.groupby(["quantity", "output"]):
        part = part.sort_values("resolution")
        finest = part.iloc[-1]
        tolerance = max(float(finest["half_width"]), 1e-12)
        for _, row in part.iterrows():
            diff = abs(float(row["median"]) - float(finest["median"]))
            rows.append(
                {
                    "quantity": quantity,
                    "output": output,
                    "resolution": row["resolution"],
                    "median": row["median"],
                    "p05": row["p05"],
                    "p95": row["p95"],
                    "diff_to_finest": diff,
                    "finest_half_width": tolerance,
                    "passes": diff <= tolerance,
                }
            )
    return pd.DataFrame(rows)


def markdown(result: pd.DataFrame, timing: pd.DataFrame, default: float | None) -> str:
    lines = [
        "| quantity | output | " + " | ".join(f"r = {r:.4g}" for r in sorted(result["resolution"].unique())) + " |",
        "|---|---|" + "---|" * result["resolution"].nunique(),
    ]
    for (quantity, output), part in result.groupby(["quantity", "output"], sort=False):
        cells = []
        for _, row in part.sort_values("resolution").iterrows():
            mark = "" if row["passes"] else " ✗"
            cells.append(f"{row['median']:.4g} [{row['p05']:.4g}, {row['p95']:.4g}]{mark}")
        lines.append(f"| {quantity} | {OUTPUTS[output]} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("| resolution | agents at start | seconds per run (median) |")
    lines.append("|---|---|---|")
    for _, row in timing.iterrows():
        lines.append(f"| {row['resolution']:.4g} | {int(row['agents'])} | {row['seconds']:.2f} |")
    lines.append("")
    lines.append(
        f"Smallest resolution at which every output passes: {default:.4g}"
        if default is not None
        else "No resolution below the finest passes for every output."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 seeds, resolutions 1/16, 1/8, 1/4, 1")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per scenario and resolution (default 10)")
    parser.add_argument(
        "--resolutions",
        default=None,
        help="comma-separated shares of the real population (default 1/16,1/8,1/4,1/2,1; --quick 1/16,1/8,1/4,1)",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--markdown", default=None, help="also write the table as Markdown to this file")
    parser.add_argument("--csv", default=None, help="also write every run's outputs to this CSV file")
    args = parser.parse_args(argv)

    from nswn import api

    seeds = args.seeds or 10
    if args.resolutions:
        shares = [float(eval(x, {"__builtins__": {}})) for x in args.resolutions.split(",")]  # noqa: S307
    else:
        shares = [1 / 16, 1 / 8, 1 / 4, 1.0] if args.quick else [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0]
    real = api.resolution_of(1)["real_firms"]
    budgets = sorted({max(100, int(np.ceil(s * real))) for s in shares})
    jobs = [(sc, seed, b) for b in budgets for sc in SCENARIOS for seed in range(seeds)]
    print(
        f"convergence study: {len(SCENARIOS)} scenarios × {seeds} seeds × {len(budgets)} resolutions "
        f"= {len(jobs)} runs on {args.workers} workers; real population {real:,} firms",
        file=sys.stderr,
    )
    started = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for i, row in enumerate(pool.map(one, jobs, chunksize=1), start=1):
            rows.append(row)
            if i % max(1, len(jobs) // 20) == 0 or i == len(jobs):
                print(f"  {i}/{len(jobs)} runs, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    runs = pd.DataFrame(rows)
    if args.csv:
        runs.to_csv(args.csv, index=False)
    result = verdicts(summarise(runs))
    timing = (
        runs.groupby("resolution")
        .agg(seconds=("seconds", "median"), agents=("agents_budget", "first"))
        .reset_index()
        .sort_values("resolution")
    )
    timing["agents"] = [api.resolution_of(int(b))["agents"] for b in timing["agents"]]
    passing = result.groupby("resolution")["passes"].all()
    finest = max(passing.index)
    # the smallest resolution from which every coarser-to-finer step passes
    default = None
    for r in sorted(passing.index):
        if all(passing[x] for x in passing.index if x >= r):
            default = r
            break
    if default == finest:
        default = None
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    for (quantity, output), part in result.groupby(["quantity", "output"], sort=False):
        print(f"\n{quantity}: {OUTPUTS[output]}")
        for _, row in part.sort_values("resolution").iterrows():
            flag = "pass" if row["passes"] else "FAIL (differs from the finest by more than its half-width)"
            print(
                f"  r = {row['resolution']:.4f}: median {row['median']:.4g} "
                f"[{row['p05']:.4g}, {row['p95']:.4g}]  |Δ| {row['diff_to_finest']:.3g} "
                f"vs {row['finest_half_width']:.3g}  {flag}"
            )
    print()
    print(timing.to_string(index=False))
    print()
    for r, ok in passing.items():
        print(f"resolution {r:.4f}: {'every output passes' if ok else 'some outputs FAIL'}")
    if default is None:
        print("No coarser resolution passes for every output; the converged default is the full population.")
    else:
        print(f"Smallest resolution at which every output passes (and every finer one): {default:.4f}")
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as handle:
            handle.write(markdown(result, timing, default) + "\n")
    print(f"{len(jobs)} runs in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
