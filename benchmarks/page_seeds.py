"""The page's paired seeds: pilot the spread of paired differences and apply the seed-count rule.

Runs central S&T budget 0.51 % and 1.00 % of GDP against the baseline (0.50 %) on paired
seeds at the page's resolution, through the service's own code path (the request model and
``build_scenario`` of ``nswn serve``, then ``nswn.serve.ensemble.compute_series`` in worker
processes and ``paired`` for the cards), and prints, per arm and headline card, the paired
difference with its 90 % t-interval as the page shows it (shares in percentage points), and
the standard deviation of the paired differences.

With ``--rule`` it applies docs/page.md's rule ("How many seeds: the rule"): N is the smallest
of 4, 8, 12, 16 whose expected 90 % half-width on the stranglehold-at-parity-2050 card,
computed with the larger of the two arms' standard deviations, is at most 1 technology.
It also prints, for information only, every card's expected half-width at N and the power at
N to detect the pilot's mean effect of each arm (non-central t, two-sided 90 %).

    python benchmarks/page_seeds.py --first-seed 1000 --seeds 32 --rule   # the pilot
    python benchmarks/page_seeds.py --sets 0 16 32 --seeds 16              # three disjoint sets
"""

from __future__ import annotations

import argparse
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

ARMS = {"0.51 %": 0.0051, "1.00 %": 0.0100}
CARD = "parity_end"
TARGET = 1.0  # technologies: the rule's precision on the parity-count card
SCALE = {"manufacturing_share_end": 100.0, "debt_to_gdp_end": 100.0}  # shares in percentage points, as the page


def _scenarios() -> dict[str, dict[str, Any]]:
    from nswn.serve.scenarios import build_scenario
    from nswn.serve.schemas import Settings, request_models

    settings = Settings()
    _, _, ensemble_request = request_models(settings, ("baseline",))
    out = {"base": build_scenario(ensemble_request(base="baseline"), settings).model_dump(mode="json")}
    for name, share in ARMS.items():
        request = ensemble_request(base="baseline", overrides={"levers.central_budget.share_of_gdp": share})
        out[name] = build_scenario(request, settings).model_dump(mode="json")
    return out


def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:+.{digits}f}"


def _power(mean: float, sigma: float, n: int, level: float) -> float:
    """Chance that the two-sided ``level`` paired t-interval excludes 0 when the true mean is ``mean``."""
    from scipy import stats

    if sigma == 0:
        return 1.0 if mean != 0 else 0.0
    crit = stats.t.ppf(0.5 + level / 2, n - 1)
    shift = mean / (sigma / math.sqrt(n))
    return float(stats.nct.sf(crit, n - 1, shift) + stats.nct.cdf(-crit, n - 1, shift))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--sets", type=int, nargs="+", default=None, help="first seeds of several disjoint sets")
    parser.add_argument("--seeds", type=int, default=32, help="paired seeds per set")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rule", action="store_true", help="apply docs/page.md's seed-count rule")
    args = parser.parse_args()

    from nswn.serve.ensemble import KPIS, LEVEL, compute_series, expected_half_width, paired, seeds_for_precision

    scenarios = _scenarios()
    firsts = args.sets or [args.first_seed]
    seeds = [f + i for f in firsts for i in range(args.seeds)]
    jobs = [(name, seed) for name in scenarios for seed in seeds]
    started = time.monotonic()
    with ProcessPoolExecutor(args.processes) as pool:
        futures = [pool.submit(compute_series, scenarios[name], seed, 600.0) for name, seed in jobs]
        kpis = {job: f.result()["kpis"] for job, f in zip(jobs, futures, strict=True)}
    wall = time.monotonic() - started
    print(f"{len(jobs)} runs in {wall:.1f} s on {args.processes} processes; load {os.getloadavg()}")

    digits = {"gdp_end": 2, "tfp_end": 4, "manufacturing_share_end": 2, "debt_to_gdp_end": 2}
    print("| budget | seeds | " + " | ".join(KPIS) + " |")
    print("|---|---|" + "---|" * len(KPIS))
    sigmas: dict[str, dict[str, float]] = {name: {} for name in ARMS}
    means: dict[str, dict[str, float]] = {name: {} for name in ARMS}
    for name in ARMS:
        for first in firsts:
            block = range(first, first + args.seeds)
            cells = []
            for k in KPIS:
                scale = SCALE.get(k, 1.0)
                a = [kpis[(name, s)][k] * scale for s in block]
                b = [kpis[("base", s)][k] * scale for s in block]
                card = paired(a, b)
                d = digits.get(k, 2)
                mark = {"up": "▲", "down": "▼", "none": "— no clear effect"}[card["effect"]]
                diff = np.asarray(a) - np.asarray(b)
                sd = float(np.std(diff, ddof=1))
                interval = f"[{_fmt(card['low'], d)}, {_fmt(card['high'], d)}]"
                cells.append(f"{_fmt(card['difference'], d)} {interval} {mark} (sd {sd:.{d}f})")
                if len(firsts) == 1:
                    sigmas[name][k], means[name][k] = sd, float(diff.mean())
            print(f"| {name} | {block.start}–{block.stop - 1} | " + " | ".join(cells) + " |")

    if args.rule:
        if len(firsts) != 1:
            raise SystemExit("--rule reads one pilot set")
        sigma = max(sigmas[name][CARD] for name in ARMS)
        n = seeds_for_precision(sigma, TARGET)
        print(f"\nrule: σ({CARD}) = max({', '.join(f'{sigmas[a][CARD]:.3f}' for a in ARMS)}) = {sigma:.3f}")
        for m in (4, 8, 12, 16):
            print(f"  N = {m:2d}: expected 90 % half-width {expected_half_width(sigma, m):.3f} technologies")
        print(f"  → N = {n} (target ≤ {TARGET:g} technology; 16 when none reaches it)")
        print(f"\nat N = {n} (information only): expected 90 % half-width and power to detect the pilot's mean")
        for name in ARMS:
            for k in KPIS:
                s, mu = sigmas[name][k], means[name][k]
                print(
                    f"  {name} {k:24s} sd {s:9.4f}  mean {mu:+9.4f}  half-width {expected_half_width(s, n):8.4f}"
                    f"  power {_power(mu, s, n, LEVEL):.2f}"
                )


if __name__ == "__main__":
    main()
