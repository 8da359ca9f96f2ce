"""One-at-a-time check of the sales block κ_sales on the shipped control scenarios
(docs/derisking.md, "Caveats").

Evaluates the base and shipped scenarios of a de-risking design file at each κ_sales
(``assumptions.environment.controls_block_sales``) with the design's quick settings
(seeds, firms, horizon, robust quantile) against the same reference arm, through the same
:class:`nswn.analysis.derisk.Evaluator` as ``nswn derisk``. Pointed at the results folder of a
``nswn derisk DESIGN --quick`` run, it reads the reference runs and the κ_sales = default runs
back from that store and runs only the others.

    python benchmarks/derisk_kappa.py derisk-results --kappa 0.5 1.0
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

KAPPA = "controls_block_sales"


def scenarios_at(evaluator: Any, names: list[str], kappas: list[float], default: float) -> list[tuple[str, Any]]:
    """``(key, scenario)`` pairs: each named scenario at the run size, once per κ_sales.

    A scenario at the default κ_sales keeps its name (so its runs are those of the search);
    the others are renamed ``NAME_kK``, so their run ids differ.
    """
    from nswn.scenario import io

    items = []
    for kappa in kappas:
        for name in names:
            data = evaluator._sized(io.load(name)).model_dump(mode="json")
            data["assumptions"]["environment"][KAPPA] = kappa
            if kappa != default:
                data["name"] = f"{name}_k{kappa:g}"
            items.append((f"k{kappa:g}:{name}", io.validate(data, f"{name} with {KAPPA} = {kappa:g}")))
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="results folder (that of a quick derisk run, to reuse its runs)")
    parser.add_argument("--design", default="designs/derisk_example.yaml")
    parser.add_argument("--kappa", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    from nswn.analysis import derisk_space
    from nswn.analysis.derisk import Evaluator
    from nswn.experiments.runners import make_runner
    from nswn.scenario import io

    design = derisk_space.load(args.design).quick_version()
    default = float(io.load(design.base).assumptions.environment.controls_block_sales)
    runner = make_runner("processes", workers=args.workers)
    try:
        evaluator = Evaluator(design, args.out, runner)
        items = scenarios_at(evaluator, [design.base, *design.shipped], args.kappa, default)
        rows = evaluator.evaluate_scenarios(items, "kappa check")
    finally:
        runner.close()
    print("| scenario | κ_sales | delay | lost sales (bn CNY) | share gain (pt × techs) |")
    print("|---|---|---|---|---|")
    for (key, _), row in zip(items, rows, strict=True):
        kappa, name = key.split(":", 1)
        print(f"| `{name}` | {kappa[1:]} | {row['delay']:.0f} | {row['lost_sales']:+,.0f} | {row['share_gain']:+.1f} |")
    print(f"runs done {evaluator.runs_done}, read back {evaluator.runs_reused}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
