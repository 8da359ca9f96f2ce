"""Scale: wall time, peak memory and throughput of the full baseline from 10 000 to 5 000 000 firms.

Each size runs ``nswn.simulate("baseline", firms=N)`` (2024-2050 unless ``--end-year``) in
its own Python process, so that its peak resident memory (``ru_maxrss``) is that run's
alone. Inside the run every mechanism's ``step`` — and, within the central budget, every
instrument's ``allocate``, plus the recorder — is wrapped with a timer (as
``benchmarks/engine.py`` does), giving each one's share of the yearly loop.

Reported per size: start and final firm count; wall and CPU time of ``simulate``, and the
CPU time of the build (initial state) and of the yearly loop; peak memory and the memory of
the interpreter with its imports before the run; bytes per firm of the firm table (and of
peak memory above the imports, per final firm); firm-steps per second (firms alive at the start of a year, summed
over the years, per CPU second of the loop); and a memory-bandwidth yardstick measured in the
same process after the run: one read-and-write pass over a float64 array as large as the
mean firm table, once per simulated year. Its ratio to the loop time says how many passes
over the whole firm table one simulated year costs. Times inside the run are CPU seconds of
the process (``time.process_time``; nswn is single-threaded), so that other load on the
machine does not count; the wall time of the whole ``simulate`` call is shown beside its CPU
time. Speed is reported, never asserted.

Run::

    .venv/bin/python benchmarks/scale.py                           # 10k, 100k, 1M firms
    .venv/bin/python benchmarks/scale.py --sizes 10k,100k,1M,5M    # 5M takes many minutes
    .venv/bin/python benchmarks/scale.py --sizes 5M --end-year 2030 --timeout 580
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any


def parse_size(text: str) -> int:
    """``"10k"`` → 10 000, ``"1M"`` → 1 000 000, ``"250000"`` → 250 000."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def _timed(owner: Any, method: str, label: str, spent: dict[str, float]) -> None:
    """Replace ``owner.method`` by a wrapper adding its CPU time to ``spent[label]``."""
    original = getattr(owner, method)

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - t0

    setattr(owner, method, timed)


def one(firms: int, seed: int, end_year: int | None) -> dict[str, Any]:
    """Run the baseline once at ``firms`` firms in this process and measure it.

    Returns
    -------
    dict
        Timings (s), memory (MB), sizes and the per-mechanism seconds (``mech_*``; the
        instruments inside the central budget as ``mech_central_budget/<name>``).
    """
    import numpy as np

    import nswn
    from nswn import api
    from nswn.mechanisms.central_budget import CentralBudget

    import_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    spent: dict[str, float] = {}
    holder: dict[str, Any] = {}
    original_build = api.build_model

    def build_and_instrument(config: Any, run_seed: int) -> Any:
        t0 = time.process_time()
        model = original_build(config, run_seed)
        holder["build_s"] = time.process_time() - t0
        for mechanism in model.mechanisms:
            _timed(mechanism, "step", mechanism.name, spent)
            if isinstance(mechanism, CentralBudget):
                for instrument, _ in mechanism.instruments:
                    _timed(instrument, "allocate", f"{mechanism.name}/{instrument.name}", spent)
        _timed(model.recorder, "record", "recorder", spent)
        _timed(model, "run", "loop", holder)
        holder["model"] = model
        return model

    api.build_model = build_and_instrument  # type: ignore[assignment]
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        result = nswn.simulate("baseline", seed=seed, firms=firms, end_year=end_year)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        api.build_model = original_build  # type: ignore[assignment]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    model = holder.pop("model")
    counts = result.macro_year["firms"].to_numpy()
    years = len(counts) - 1
    firm_steps = float(counts[:-1].sum())
    bytes_per_firm = sum(a.itemsize for a in model.state.firms.arrays().values())
    del model, result

    # yardstick: one read+write pass per simulated year over a float64 array as large as the
    # mean firm table
    block = np.ones(max(int(firm_steps / years * bytes_per_firm / 8), 1))
    block *= 1.0000001  # touch the pages first
    t0 = time.process_time()
    for _ in range(years):
        block *= 1.0000001
    reference = time.process_time() - t0
    return {
        "firms": firms,
        "firms_final": int(counts[-1]),
        "years": years,
        "wall_s": wall,
        "cpu_s": cpu,
        "build_s": holder["build_s"],
        "loop_s": holder["loop"],
        "reference_s": reference,
        "firm_steps": firm_steps,
        "peak_mb": peak_mb,
        "import_mb": import_mb,
        "bytes_per_firm": bytes_per_firm,
        **{f"mech_{name}": seconds for name, seconds in spent.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1M", help="comma-separated firm counts; default 10k,100k,1M")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--end-year", type=int, help="last simulated year (default: the scenario's, 2050)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per size; default 600")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.seed, args.end_year)))
        return

    header = (
        f"{'firms':>10} {'final':>10} {'yrs':>3} {'wall s':>7} {'CPU s':>7} {'build s':>7} {'loop s':>7} "
        f"{'peak MB':>8} {'imp. MB':>7} {'B/firm':>6} {'peak B/firm':>11} {'firm-steps/s':>13} "
        f"{'ref pass s':>10} {'× ref':>6}"
    )
    print(header)
    rows = []
    for size in (parse_size(s) for s in args.sizes.split(",")):
        command = [sys.executable, __file__, "--one", str(size), "--seed", str(args.seed)]
        if args.end_year:
            command += ["--end-year", str(args.end_year)]
        try:
            out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"{size:>10,} did not finish within {args.timeout:.0f} s")
            continue
        except subprocess.CalledProcessError as error:
            print(f"{size:>10,} failed:\n{error.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        above_imports = (r["peak_mb"] - r["import_mb"]) * 2**20 / r["firms_final"]
        print(
            f"{r['firms']:>10,} {r['firms_final']:>10,} {r['years']:>3} {r['wall_s']:>7.1f} {r['cpu_s']:>7.1f} "
            f"{r['build_s']:>7.2f} "
            f"{r['loop_s']:>7.1f} {r['peak_mb']:>8,.0f} {r['import_mb']:>7.0f} {r['bytes_per_firm']:>6} "
            f"{above_imports:>11,.0f} {r['firm_steps'] / r['loop_s']:>13,.0f} {r['reference_s']:>10.3f} "
            f"{r['loop_s'] / r['reference_s']:>6.0f}",
            flush=True,
        )

    print("\nshare of the yearly loop's CPU time by mechanism (instruments inside central_budget indented):")
    for r in rows:
        loop = r["loop_s"]
        spent = {k[5:]: v for k, v in r.items() if k.startswith("mech_")}
        top = {k: v for k, v in spent.items() if "/" not in k}
        parts = []
        for name, seconds in sorted(top.items(), key=lambda kv: -kv[1]):
            parts.append(f"{name} {seconds / loop:.1%}")
            inner = {k.split("/", 1)[1]: v for k, v in spent.items() if k.startswith(f"{name}/")}
            for sub, sub_seconds in sorted(inner.items(), key=lambda kv: -kv[1]):
                parts.append(f"    {sub} {sub_seconds / loop:.1%}")
        print(f"  {r['firms']:,} firms ({loop:.1f} s):")
        for part in parts:
            print(f"      {part}")


if __name__ == "__main__":
    main()
