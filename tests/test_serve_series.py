"""The page's per-run series (``serve.ensemble.run_series``): the attribution totals.

Each channel's total per technology is the sum over the run's years of its change of log
relative capability, NaN where any year is undefined or the technology has no row; checked
here against a plain per-channel, per-technology computation from the breakdown table.
"""

from __future__ import annotations

import numpy as np
import pytest

import nswn
from nswn.serve.ensemble import run_series


@pytest.fixture(scope="module")
def result() -> nswn.api.Result:
    return nswn.simulate("baseline", seed=4, firms=600, end_year=2030)


def test_attribution_totals_are_each_channels_sum_over_the_years(result: nswn.api.Result) -> None:
    series = run_series(result)
    table = result.breakdowns["technology_attribution_year"]
    channels = list(table["channel"].unique())
    assert list(series["attribution"]) == [str(c) for c in channels]
    ids = series["ids"]
    undefined = 0
    for channel in channels:
        got = series["attribution"][str(channel)]
        assert got.shape == (len(ids),) and got.dtype == np.float64
        rows = table[table["channel"] == channel]
        for j, technology in enumerate(ids):
            values = rows.loc[rows["technology_id"] == technology, "log_capability_change"].to_numpy(dtype=float)
            if len(values) == 0 or np.isnan(values).any():
                assert np.isnan(got[j]), (channel, technology)
                undefined += 1
            else:
                assert got[j] == pytest.approx(values.sum(), rel=1e-12, abs=1e-15), (channel, technology)
    assert undefined < len(channels) * len(ids)  # not all NaN: the sums were checked


def test_attribution_is_nan_where_a_year_is_undefined(result: nswn.api.Result) -> None:
    from types import SimpleNamespace

    table = result.breakdowns["technology_attribution_year"].copy()
    first = table.index[(table["channel"] == table["channel"].iloc[0])][0]
    channel, technology = table.loc[first, "channel"], table.loc[first, "technology_id"]
    table.loc[first, "log_capability_change"] = np.nan
    changed = SimpleNamespace(
        technology_year=result.technology_year,
        macro_year=result.macro_year,
        manifest=result.manifest,
        breakdowns={**result.breakdowns, "technology_attribution_year": table},
    )
    series = run_series(changed)
    j = series["ids"].index(technology)
    assert np.isnan(series["attribution"][str(channel)][j])
    assert np.isfinite(run_series(result)["attribution"][str(channel)][j])
