"""Engine speed: wall time, peak memory and firm-steps per second at several scales.

Each size runs in its own process (so peak memory is that run's), prints the time spent in
each mechanism, and is compared with a reference measured in the same process: one full
read-and-write pass over arrays as large as the firm table, repeated once per simulated
year (a memory-bandwidth yardstick). Speed is reported, never asserted.

    python benchmarks/engine.py                     # 20 000 and 100 000 firms
    python benchmarks/engine.py --firms 20000 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def one(firms: int, seed: int) -> dict[str, float]:
    """Run the baseline once at ``firms`` firms in this process and measure it."""
    import numpy as np

    from nswn import api
    from nswn.scenario.build import build_model, to_config

    scenario = api.with_overrides(api.load_scenario("baseline"), firms=firms)
    config = to_config(scenario)
    started = time.perf_counter()
    model = build_model(config, seed)
    init_seconds = time.perf_counter() - started
    spent: dict[str, float] = {}
    for mechanism in model.mechanisms:
        original = mechanism.step

        def timed(state, ctx, _original=original, _name=mechanism.name):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            _original(state, ctx)
            spent[_name] = spent.get(_name, 0.0) + time.perf_counter() - t0

        mechanism.step = timed  # type: ignore[method-assign]
    t0 = time.perf_counter()
    model.run()
    run_seconds = time.perf_counter() - t0
    years = config.end_year - config.start_year
    final = len(model.state.firms)
    columns = len(model.state.firms.arrays())

    # reference: one read+write pass over a firm-table-sized block of float64 per year
    block = np.ones((columns, final))
    t0 = time.perf_counter()
    for _ in range(years):
        block *= 1.0000001
    reference = time.perf_counter() - t0

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bytes_per_firm = sum(a.itemsize for a in model.state.firms.arrays().values())
    return {
        "firms": firms,
        "firms_final": final,
        "years": years,
        "init_s": init_seconds,
        "run_s": run_seconds,
        "reference_s": reference,
        "peak_mb": peak_mb,
        "bytes_per_firm": bytes_per_firm,
        **{f"mech_{k}": v for k, v in spent.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.seed)))
        return
    print(
        f"{'firms':>10} {'final':>10} {'init s':>7} {'run s':>7} {'peak MB':>8} {'B/firm':>7} "
        f"{'firm-steps/s':>13} {'× ref pass':>10}"
    )
    for firms in args.firms:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(firms), "--seed", str(args.seed)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        firm_steps = (r["firms"] + r["firms_final"]) / 2 * r["years"]
        print(
            f"{r['firms']:>10,} {r['firms_final']:>10,} {r['init_s']:>7.2f} {r['run_s']:>7.2f} "
            f"{r['peak_mb']:>8.0f} {r['bytes_per_firm']:>7} {firm_steps / r['run_s']:>13,.0f} "
            f"{r['run_s'] / r['reference_s']:>10.1f}"
        )
        shares = {k[5:]: v for k, v in r.items() if k.startswith("mech_")}
        total = sum(shares.values())
        print(
            "           time by mechanism: "
            + ", ".join(f"{name} {value / total:.0%}" for name, value in sorted(shares.items(), key=lambda kv: -kv[1]))
        )


if __name__ == "__main__":
    main()
