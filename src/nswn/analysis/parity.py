"""Broken bottlenecks and parity at the start, counted the same way in every shell.

The definition lives in :func:`nswn.mechanisms.indicators.lasting_parity`: a technology's
bottleneck is *broken* when it is below parity in the start year, crosses parity later and
stays at parity through the end of the run; technologies already at parity in the start
year are counted apart (*at parity at start*) and never as broken. The run summary, the
report, ``nswn compare``, ``nswn summarize`` and the page all count with it.

The functions here work on ``technology_year`` rows (one run or many) and recompute the
status from ``parity_reached``, so they also read stores written before the
``parity_at_start`` and ``broken_year`` columns existed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nswn.mechanisms.indicators import lasting_parity


def parity_status(technology_year: pd.DataFrame, by: tuple[str, ...] = ("run_id",)) -> pd.DataFrame:
    """One row per series (``by`` columns and technology): parity at start, broken year, at end.

    Parameters
    ----------
    technology_year
        Rows with ``technology_id``, ``year``, ``parity_reached`` and the ``by`` columns
        (those present; a single run needs none). ``group`` is carried when present.
    by
        Columns that tell runs apart (``run_id``; ``arm`` and ``world`` for ensembles).

    Returns
    -------
    pandas.DataFrame
        ``by…, technology_id, [group], parity_at_start, broken_year, at_parity_end``;
        ``broken_year`` is NaN when the technology is not broken in that run.
    """
    missing = [c for c in ("technology_id", "year", "parity_reached") if c not in technology_year.columns]
    if missing:
        raise KeyError(f"technology_year lacks {', '.join(missing)}")
    keys = [c for c in by if c in technology_year.columns] + ["technology_id"]
    frame = technology_year
    codes = frame.groupby(keys, sort=False, observed=True).ngroup().to_numpy()
    hit = frame["parity_reached"].fillna(False).to_numpy(dtype=bool)
    years = frame["year"].to_numpy(dtype=np.int64)
    at_start, broken_year = lasting_parity(codes, years, hit)
    out = frame[keys + (["group"] if "group" in frame.columns else [])].assign(
        parity_at_start=at_start, broken_year=broken_year, _year=years, _hit=hit
    )
    last = out.sort_values("_year", kind="stable").drop_duplicates(keys, keep="last")
    return last.rename(columns={"_hit": "at_parity_end"}).drop(columns="_year").sort_index().reset_index(drop=True)


def broken_by(status: pd.DataFrame, year: int) -> pd.Series:
    """Whether each series of :func:`parity_status` is broken by ``year`` (bool)."""
    return status["broken_year"].fillna(np.inf) <= year


def counts_by_group(
    technology_year: pd.DataFrame, years: tuple[int, ...], by: tuple[str, ...] = ("run_id",)
) -> pd.DataFrame:
    """Per run (``by``) and group: technologies, at parity at start, broken by each year, at parity at the end.

    Returns
    -------
    pandas.DataFrame
        ``by…, group, technologies, parity_at_start, broken_by_<year>…, broken, at_parity_end``
        (``broken``: by the end of the run).
    """
    status = parity_status(technology_year, by)
    keys = [c for c in by if c in status.columns]
    status = status.assign(broken=status["broken_year"].notna())
    for year in years:
        status[f"broken_by_{year}"] = broken_by(status, year)
    columns = ["parity_at_start", *[f"broken_by_{y}" for y in years], "broken", "at_parity_end"]
    grouped = status.groupby([*keys, "group"], sort=False, observed=True)
    out = grouped[columns].sum().astype(int)
    out.insert(0, "technologies", grouped["technology_id"].nunique())
    return out.reset_index()
