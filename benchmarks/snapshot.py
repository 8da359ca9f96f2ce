"""Record the tables of a few scenarios to compare code versions bit for bit.

    python benchmarks/snapshot.py save before.npz              # with today's code
    python benchmarks/snapshot.py compare before.npz           # after a change: identical?

Scenarios: baseline, state_led and export_discipline at 2 000 and 20 000 firms (``--firms``).
Every numeric column is compared exactly (NaN equal to NaN); nothing is tolerated.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

SCENARIOS = ("baseline", "state_led", "export_discipline")


def tables(firms: list[int], scenarios: tuple[str, ...], seed: int) -> dict[str, np.ndarray]:
    """Every numeric column of every run's two tables, keyed ``scenario/firms/table/column``."""
    import nswn

    out: dict[str, np.ndarray] = {}
    for name in scenarios:
        for n in firms:
            result = nswn.simulate(name, seed=seed, firms=n)
            for label, frame in (("tech", result.technology_year), ("macro", result.macro_year)):
                for column in frame.columns:
                    values = frame[column].to_numpy()
                    if values.dtype.kind in "fiub":
                        out[f"{name}/{n}/{label}/{column}"] = values
    return out


def compare(reference: dict[str, np.ndarray], now: dict[str, np.ndarray]) -> list[str]:
    """Names of the columns that differ (missing or added columns count)."""
    bad = sorted(set(reference) ^ set(now))
    for key in sorted(set(reference) & set(now)):
        a, b = reference[key], now[key]
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            bad.append(key)
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["save", "compare"])
    parser.add_argument("path")
    parser.add_argument("--firms", default="2000,20000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    firms = [int(x) for x in args.firms.split(",")]
    now = tables(firms, SCENARIOS, args.seed)
    if args.action == "save":
        np.savez(args.path, **{k.replace("/", "|"): v for k, v in now.items()})
        print(f"saved {len(now)} columns to {args.path}")
        return
    with np.load(args.path, allow_pickle=False) as data:
        reference = {k.replace("|", "/"): data[k] for k in data.files}
    bad = compare(reference, now)
    print(f"{len(now)} columns compared; {'identical' if not bad else f'{len(bad)} differ'}")
    for key in bad[:20]:
        print("  differs:", key)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
