"""Regenerate the frozen reference baseline (``make reference``).

The reference is one small run — the shipped ``baseline`` scenario, seed 0, 300 firms,
2024–2028 — with its two recorded tables written as CSV, every number rounded to
10 significant digits. ``tests/test_reference.py`` reruns it and fails on any numeric
change, so a change of model behaviour is never silent.

When a change of the model is deliberate, run::

    make reference        # or: .venv/bin/python tests/reference/regenerate.py

and commit the changed CSV files together with the code change: the CSV diff in the
commit is the review of what the change did to the numbers (see docs/design.md, "Testing").
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SCENARIO = "baseline"
SEED = 0
FIRMS = 300
END_YEAR = 2028
SIGNIFICANT = 10
TABLES = ("technology_year", "macro_year")
DROPPED = ("run_id",)  # depends on the code hash, not on the numbers


def round_significant(values: np.ndarray, digits: int = SIGNIFICANT) -> np.ndarray:
    """Round floats to ``digits`` significant digits (NaN and infinities kept)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values) & (values != 0)
    out = values.copy()
    magnitude = np.floor(np.log10(np.abs(values[finite])))
    scale = 10.0 ** (digits - 1 - magnitude)
    out[finite] = np.round(values[finite] * scale) / scale
    return out


def tables() -> dict[str, pd.DataFrame]:
    """The reference run's tables, as they are stored (run id dropped, floats rounded)."""
    import nswn

    result = nswn.simulate(SCENARIO, seed=SEED, firms=FIRMS, end_year=END_YEAR)
    out = {}
    for name in TABLES:
        frame = getattr(result, name).drop(columns=list(DROPPED))
        for column in frame.columns:
            if pd.api.types.is_float_dtype(frame[column]):
                frame[column] = round_significant(frame[column].to_numpy())
        out[name] = frame.reset_index(drop=True)
    return out


def path(name: str) -> Path:
    return HERE / f"{name}.csv"


def main() -> int:
    for name, frame in tables().items():
        frame.to_csv(path(name), index=False, float_format=f"%.{SIGNIFICANT}g", lineterminator="\n")
        print(f"wrote {path(name)} ({len(frame)} rows, {len(frame.columns)} columns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
