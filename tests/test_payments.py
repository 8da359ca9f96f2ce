"""Paying leftovers to institutions (``instruments.payments.pay_leftover``)."""

from __future__ import annotations

import numpy as np
import pytest

from nswn.instruments.payments import pay_leftover
from tiny_states import ctx, tiny_state


def test_a_large_leftover_is_paid_in_full_despite_rounding() -> None:
    """Shares of many institutions do not sum to exactly 1: what rounding leaves unpaid of a
    budget of 10⁶ bn CNY (ulps, ~1e-10 of it) is not an unpaid budget."""
    rng = np.random.default_rng(1)
    for _ in range(3):
        n = int(rng.integers(50, 3000))
        quality = rng.uniform(0.01, 5.0, n)
        budget = float(rng.uniform(1e5, 1e7))
    # this draw (n = 2 886, budget 4.14e6 bn CNY) leaves 1.1e-8 unpaid by rounding
    state = tiny_state(n_tech=2, institution_values={"field": [0] * n + [1], "quality": [*quality, 1.0]})
    leftover = np.array([budget, 0.0])
    pay_leftover(state, ctx(state), "megaprojects", leftover)
    assert n == 2886
    assert state.institutions.funding[:n].sum() == pytest.approx(budget, rel=1e-12)
    assert state.institutions.funding[n] == 0.0


def test_a_field_without_institutions_is_refused() -> None:
    state = tiny_state(n_tech=2, institution_values={"field": [0, 0]})
    with pytest.raises(RuntimeError, match="found no recipient"):
        pay_leftover(state, ctx(state), "megaprojects", np.array([0.0, 5.0]))
