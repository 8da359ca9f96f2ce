"""The frozen reference baseline: any numeric change of a small baseline run fails here.

The reference (``tests/reference/*.csv``) is one run of the shipped baseline, seed 0,
300 firms, 2024–2028, rounded to 10 significant digits. A deliberate model change
regenerates it with ``make reference`` and commits the CSV diff with the change, where
it is reviewed. An unexpected failure here means the change altered the model's numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reference import regenerate


@pytest.fixture(scope="module")
def fresh() -> dict[str, pd.DataFrame]:
    return regenerate.tables()


@pytest.mark.parametrize("name", regenerate.TABLES)
def test_the_reference_run_is_unchanged(fresh: dict[str, pd.DataFrame], name: str) -> None:
    frozen = pd.read_csv(regenerate.path(name))
    now = fresh[name]
    hint = "the model's numbers changed; if deliberate, run `make reference` and commit the CSV diff"
    assert list(now.columns) == list(frozen.columns), hint
    assert len(now) == len(frozen), hint
    for column in now.columns:
        if pd.api.types.is_numeric_dtype(now[column]) and not pd.api.types.is_bool_dtype(now[column]):
            np.testing.assert_allclose(
                now[column].to_numpy(dtype=float),
                frozen[column].to_numpy(dtype=float),
                rtol=1e-9,
                atol=1e-12,
                equal_nan=True,
                err_msg=f"{name}.{column}: {hint}",
            )
        else:
            assert now[column].astype(str).tolist() == frozen[column].astype(str).tolist(), f"{name}.{column}: {hint}"


def test_rounding_keeps_ten_significant_digits() -> None:
    values = np.array([123456.789012345, -0.000123456789012345, 0.0, np.nan, np.inf])
    rounded = regenerate.round_significant(values)
    np.testing.assert_array_equal(rounded[:3], [123456.789, -0.000123456789, 0.0])
    assert np.isnan(rounded[3]) and np.isinf(rounded[4])
