"""Compiled kernels against the NumPy reference, measured side by side in one run.

For each size (the baseline scenario unless ``--scenario`` names another, 2024-2050; above the
real population of 29 234 firms, a proportionally larger synthetic economy,
``benchmarks/scaled.py``) the NumPy reference (``NSWN_KERNELS=numpy``) and the compiled kernels
(``NSWN_KERNELS=numba``; one thread, and two with ``NSWN_THREADS=2``) each run in a fresh
process with the kernels already compiled. Printed:

* loop seconds (wall and CPU), the ratio NumPy / compiled (of CPU seconds, which the load of
  a shared machine inflates less than wall time), and whether the recorded tables are
  bit-identical (a SHA-256 of every recorded column);
* CPU milliseconds per simulated year per mechanism, and per central-budget instrument
  (with two threads CPU time counts both);
* with ``--floors``, the time per simulated year against two floors measured in the same run:
  the compute floor (the random variates and the exp/log/power elements one year of the NumPy
  path needs, counted, then drawn and evaluated at NumPy speed on one thread) and the
  bandwidth floor (one read-and-write pass over a float64 array as large as the firm table),
  both at the run's mean population, and each run's peak memory;
* the first-call JIT compile time (an empty numba cache) and the start-up with the cache
  warm (import + loading every kernel), and the start-up of a tiny run on either path.

Ratios are against the reference measured in the same invocation; nothing is asserted.
The numbers vary with the load of the machine (the development box is shared).

    python benchmarks/kernels.py                       # 20 000 and 100 000 firms
    python benchmarks/kernels.py --million --floors    # and 1 000 000, and the floors
    python benchmarks/kernels.py --sizes 20000 --repeats 3
    python benchmarks/kernels.py --default --sizes 100000 --scenario export_discipline
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

PATHS = {"numpy": {"NSWN_KERNELS": "numpy"}, "numba": {"NSWN_KERNELS": "numba", "NSWN_THREADS": "1"}}
PATHS_2T = {"numba×2": {"NSWN_KERNELS": "numba", "NSWN_THREADS": "2", "NUMBA_NUM_THREADS": "2"}}


def one(firms: int, seed: int, name: str = "baseline") -> dict[str, Any]:
    """Run scenario ``name`` at ``firms`` in this process; time the loop, each mechanism and instrument."""
    import hashlib

    import numpy as np

    from nswn import kernels
    from nswn.scenario.build import build_model, to_config

    if kernels.compiled():
        kernels.compile_all()
    import scaled  # benchmarks/scaled.py: above the real population, a proportionally larger economy

    # 0: the default resolution (the whole real firm population)
    config = to_config(scaled.scenario(firms, name))
    model = build_model(config, seed)
    agents = len(model.state.firms)
    spent: dict[str, float] = {}

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            t0 = time.process_time()
            out = function(*args)
            spent[name] = spent.get(name, 0.0) + time.process_time() - t0
            return out

        return wrapper

    for mechanism in model.mechanisms:
        for instrument, _ in getattr(mechanism, "instruments", ()):
            instrument.allocate = timed(f"  {instrument.name}", instrument.allocate)
        mechanism.step = timed(mechanism.name, mechanism.step)  # type: ignore[method-assign]
    model.recorder.record = timed("recorder", model.recorder.record)  # type: ignore[method-assign]
    t0, c0 = time.perf_counter(), time.process_time()
    model.run()
    loop, cpu = time.perf_counter() - t0, time.process_time() - c0
    digest = hashlib.sha256()
    for table in (model.recorder.technology_table(), model.recorder.macro_table()):
        for name, values in table.items():
            digest.update(name.encode())
            digest.update(np.asarray(values).astype(str if values.dtype == object else values.dtype).tobytes())
    return {
        "firms": firms,
        "agents": agents,
        "final_agents": len(model.state.firms),
        "years": config.end_year - config.start_year,
        "loop_s": loop,
        "cpu_s": cpu,
        "digest": digest.hexdigest(),
        "spent": spent,
        "kernels": kernels.backend(),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# the NumPy functions whose per-element work the compute floor counts (``**`` is not counted)
COUNTED = ("exp", "log", "log1p", "expm1", "power")
# draws timed as themselves; any other generator method is timed as uniforms (a lower bound)
DRAWN = ("standard_normal", "random", "exponential")


def floor(firms: int, seed: int, mean_agents: int, years: int = 2, name: str = "baseline") -> dict[str, Any]:
    """The floors a simulated year cannot go below, at ``firms`` agents (the scaled baseline).

    Counts, over the first ``years`` simulated years on the NumPy path, the random variates every
    mechanism draws (each generator call's output size) and the elements passed through
    ``np.exp``, ``np.log``, ``np.log1p``, ``np.expm1`` and ``np.power``; then times, in this
    process, drawing that many variates per year and evaluating that many transcendental
    functions (the compute floor: what the model's draws and exp/log cost at NumPy speed,
    single-threaded), and one read-and-write pass over a float64 block as large as the firm
    table (the bandwidth floor, as ``benchmarks/engine.py``). Fastest of three timings each.
    Counts and the table are scaled to ``mean_agents``, the mean population of the whole run
    (the population grows, and the counts grow with it in proportion).
    """
    import numpy as np
    import scaled

    from nswn import kernels
    from nswn.core import model as core_model
    from nswn.scenario.build import build_model, to_config

    kernels.set_backend("numpy")  # the counting wraps NumPy functions, which compiled kernels bypass
    model = build_model(to_config(scaled.scenario(firms, name)), seed)
    draws: dict[str, int] = {}
    calls: dict[str, int] = {}

    class Counting:
        """A generator that tallies the size of everything it draws."""

        def __init__(self, rng: Any) -> None:
            self._rng = rng

        def __getattr__(self, name: str) -> Any:
            method = getattr(self._rng, name)
            if not callable(method):
                return method

            def drawn(*args: Any, **kwargs: Any) -> Any:
                out = method(*args, **kwargs)
                draws[name] = draws.get(name, 0) + int(np.size(out))
                return out

            return drawn

    def counted(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            out = function(*args, **kwargs)
            calls[name] = calls.get(name, 0) + int(np.size(out))
            return out

        return wrapper

    stream = core_model.stream
    originals = {name: getattr(np, name) for name in COUNTED}
    core_model.stream = lambda *args: Counting(stream(*args))  # type: ignore[assignment]
    for name, function in originals.items():
        setattr(np, name, counted(name, function))
    try:
        first = len(model.state.firms)
        for _ in range(years):
            model.step()
    finally:
        core_model.stream = stream  # type: ignore[assignment]
        for name, function in originals.items():
            setattr(np, name, function)
    factor = mean_agents / ((first + len(model.state.firms)) / 2)
    per_year_draws = {k: round(v / years * factor) for k, v in draws.items()}
    per_year_calls = {k: round(v / years * factor) for k, v in calls.items()}

    def fastest(work: Any) -> float:
        best = float("inf")
        for _ in range(3):
            t0 = time.process_time()
            work()
            best = min(best, time.process_time() - t0)
        return best

    rng = np.random.default_rng(0)
    draw_s = sum(
        fastest(lambda m=method, c=count: getattr(rng, m if m in DRAWN else "random")(c))
        for method, count in per_year_draws.items()
    )
    math_s = 0.0
    for name, count in per_year_calls.items():
        x = rng.random(count) + 0.5
        function = originals[name]
        math_s += fastest(lambda f=function, x=x: f(x, 1.5) if f is np.power else f(x))
    block = np.ones((len(model.state.firms.arrays()), mean_agents))

    def one_pass() -> None:
        block.__imul__(1.0000001)

    return {
        "firms": firms,
        "agents": mean_agents,
        "draws_per_year": per_year_draws,
        "math_per_year": per_year_calls,
        "draw_ms": draw_s * 1000,
        "math_ms": math_s * 1000,
        "bandwidth_ms": fastest(one_pass) * 1000,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *args], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} with {env} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


STARTUP = """
import time, json, sys
t0 = time.perf_counter()
from nswn import kernels
from nswn.kernels import _compiled
imported = time.perf_counter() - t0
t1 = time.perf_counter()
kernels.compile_all()
print(json.dumps({"import_s": imported, "load_s": time.perf_counter() - t1}))
"""

TINY = """
import time, json
t0 = time.perf_counter()
import nswn
nswn.simulate("baseline", seed=0, firms=300, end_year=2025)
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""


def startup() -> dict[str, float]:
    """First-call compile time (empty cache), cached start-up, and a tiny run on either path."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "NSWN_KERNELS": "numba"}
        out = {}
        for label in ("first", "cached"):
            done = subprocess.run([sys.executable, "-c", STARTUP], env=env, capture_output=True, text=True, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            out[f"{label}_import_s"], out[f"{label}_load_s"] = r["import_s"], r["load_s"]
        for path in ("numpy", "numba"):
            done = subprocess.run(
                [sys.executable, "-c", TINY],
                env={**env, "NSWN_KERNELS": path},
                capture_output=True,
                text=True,
                check=True,
            )
            out[f"tiny_{path}_s"] = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--million", action="store_true", help="also 1 000 000 firms (minutes)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per path and size; the fastest counts")
    parser.add_argument("--two-threads", action="store_true", help="also the compiled path with 2 threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--scenario", default="baseline", help="shipped scenario to run (e.g. export_discipline: national teams funded)"
    )
    parser.add_argument(
        "--before",
        metavar="SRC",
        help="also run another checkout's code (its src folder, e.g. /work/main/src) side by side",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--floor", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mean-agents", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--floors", action="store_true", help="also time per year against the bandwidth and compute floors"
    )
    parser.add_argument("--default", action="store_true", help="also the default resolution (all real firms)")
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.seed, args.scenario)))
        return
    if args.floor is not None:
        print(json.dumps(floor(args.floor, args.seed, args.mean_agents, name=args.scenario)))
        return
    # compile once (into numba's cache) so that no measured run pays for it
    subprocess.run([sys.executable, "-c", "from nswn import kernels; kernels.compile_all()"], check=True)
    sizes = ([0] if args.default else []) + args.sizes + ([1_000_000] if args.million else [])
    paths = {**PATHS, **(PATHS_2T if args.two_threads else {})}
    if args.before:
        # the other checkout's kernels compile into a cache of their own (never into that tree)
        cache = tempfile.mkdtemp(prefix="nswn-before-numba-")
        before = {"PYTHONPATH": args.before, "NUMBA_CACHE_DIR": cache}
        subprocess.run(
            [sys.executable, "-c", "from nswn import kernels; kernels.compile_all()"],
            env={**os.environ, **before, "NSWN_KERNELS": "numba"},
            check=True,
        )
        paths = {"numpy@before": {**PATHS["numpy"], **before}, "numba@before": {**PATHS["numba"], **before}, **paths}
    print(
        f"NumPy reference vs compiled kernels ({args.scenario}; loop wall s / CPU s; fastest of",
        args.repeats,
        "run(s))",
    )
    print(
        f"{'firms':>10} "
        + " ".join(f"{p:>13}" for p in paths)
        + f" {'ratio':>7}"
        + (f" {'vs before':>9}" if args.before else "")
        + f" {'identical':>10}"
    )
    profiles: dict[int, dict[str, dict[str, Any]]] = {}
    for firms in sizes:
        best: dict[str, dict[str, Any]] = {}
        for _ in range(args.repeats):
            for path, env in paths.items():  # interleaved, so that load changes hit both paths alike
                r = child(["--one", str(firms), "--seed", str(args.seed), "--scenario", args.scenario], env)
                if path not in best or r["cpu_s"] < best[path]["cpu_s"]:
                    best[path] = r
        profiles[firms] = best
        digests = {r["digest"] for p, r in best.items() if "@" not in p}
        same_before = args.before and best["numba@before"]["digest"] in digests
        ratio = best["numpy"]["cpu_s"] / best["numba"]["cpu_s"]
        against = best["numba@before"]["cpu_s"] / best["numba"]["cpu_s"] if args.before else 0.0
        print(
            f"{(f'{firms:,}' if firms else 'default (' + format(best['numba']['agents'], ',') + ')'):>10} "
            + " ".join(f"{best[p]['loop_s']:>6.2f}/{best[p]['cpu_s']:<6.2f}" for p in paths)
            + f" {ratio:>6.2f}×"
            + (f" {against:>8.2f}×" if args.before else "")
            + f" {'yes' if len(digests) == 1 else 'NO':>10}"
            + (f" {'same as before' if same_before else 'differs from before'}" if args.before else "")
        )
    print()
    for best in profiles.values():
        years = best["numpy"]["years"]
        names = sorted(best["numpy"]["spent"], key=lambda n: -best["numpy"]["spent"][n] if n[0] != " " else 0)
        order = [n for n in names if not n.startswith(" ")]
        rows: list[str] = []
        for name in order:
            rows.append(name)
            if name == "central_budget":
                rows += sorted((n for n in names if n.startswith(" ")), key=lambda n: -best["numpy"]["spent"][n])
        print(f"CPU ms per simulated year at {best['numba']['agents']:,} agents ({years} years)")
        print(f"{'':<28}" + " ".join(f"{p:>9}" for p in best) + f" {'ratio':>7}")
        for name in rows:
            ms = {p: best[p]["spent"].get(name, 0.0) * 1000 / years for p in best}
            ratio = ms["numpy"] / ms["numba"] if ms["numba"] > 0 else float("nan")
            print(f"{name:<28}" + " ".join(f"{ms[p]:>9.1f}" for p in best) + f" {ratio:>6.2f}×")
        total = {p: best[p]["cpu_s"] * 1000 / years for p in best}
        print(
            f"{'whole year':<28}"
            + " ".join(f"{total[p]:>9.1f}" for p in best)
            + f" {total['numpy'] / total['numba']:>6.2f}×"
        )
        print()
    if args.floors:
        print("Time per simulated year against its floors (CPU ms; compute floor = the year's draws + exp/log")
        print("at NumPy speed, single-threaded; bandwidth floor = one read-and-write pass over the firm table;")
        print("both at the run's mean population, (start + end) / 2)")
        print(
            f"{'mean pop.':>10} {'NumPy':>8} {'compiled':>9} {'draws':>7} {'exp/log':>8} {'compute':>8} "
            f"{'× compute':>9} {'bandwidth':>9} {'× bandw.':>9} {'peak MB':>8}"
        )
        for best in profiles.values():
            mean = (best["numba"]["agents"] + best["numba"]["final_agents"]) // 2
            f = child(
                [
                    *("--floor", str(best["numba"]["firms"]), "--seed", str(args.seed)),
                    *("--mean-agents", str(mean), "--scenario", args.scenario),
                ],
                PATHS["numpy"],
            )
            years = best["numba"]["years"]
            numpy_ms, compiled_ms = (best[p]["cpu_s"] * 1000 / years for p in ("numpy", "numba"))
            compute = f["draw_ms"] + f["math_ms"]
            print(
                f"{mean:>10,} {numpy_ms:>8.1f} {compiled_ms:>9.1f} {f['draw_ms']:>7.1f} "
                f"{f['math_ms']:>8.1f} {compute:>8.1f} {compiled_ms / compute:>8.1f}× {f['bandwidth_ms']:>9.2f} "
                f"{compiled_ms / f['bandwidth_ms']:>8.0f}× {best['numba']['peak_mb']:>8.0f}"
            )
        print()
    s = startup()
    print(
        f"JIT: first call (empty cache) import {s['first_import_s']:.2f} s + compile {s['first_load_s']:.2f} s; "
        f"cached: import {s['cached_import_s']:.2f} s + load {s['cached_load_s']:.2f} s"
    )
    print(
        f"a tiny run (300 firms, 1 year) in a fresh process: NumPy {s['tiny_numpy_s']:.2f} s, "
        f"compiled {s['tiny_numba_s']:.2f} s (start-up included)"
    )


if __name__ == "__main__":
    main()
