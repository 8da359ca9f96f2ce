"""Paying recipients inside each technology, booking every yuan in the ledger.

Instruments decide *who* may receive money (weights per firm or institution); these
helpers turn a per-technology budget into payments proportional to the weights, book
them by recipient type, and — so that no yuan is ever lost — send the budget of a
technology with no eligible recipient to that field's institutions by quality (every
simulated field has institutions).

``efficiency`` is the share of a yuan that reaches the recipient's R&D or research
(issue owners differ in how well they spend); the ledger books what was spent.
"""

from __future__ import annotations

import numpy as np

from nswn.core import segments
from nswn.core.model import Context
from nswn.core.state import State
from nswn.kernels import ops
from nswn.mechanisms import attribution


def pay_firms(
    state: State,
    ctx: Context,
    instrument: str,
    budget: np.ndarray,
    weights: np.ndarray,
    efficiency: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Pay ``budget[t]`` to the firms of each technology ∝ ``weights``; return what was unpaid per technology."""
    firms = state.firms
    t = firms.technology
    n_tech = state.n_technologies
    # compiled: one fused pass per technology segment (same sums in the same order)
    mark = attribution.subsidy_mark(state)  # instrumentation: who paid which firm
    by_owner = ops.pay_sorted(
        weights, t, n_tech, firms.soe, budget, efficiency, firms.subsidy, state.technology_bounds()
    )
    if by_owner is not None:
        attribution.note_subsidy(state, instrument, mark)
        ctx.ledger.book_totals(instrument, "private_firm", by_owner[:, 0])
        ctx.ledger.book_totals(instrument, "soe_firm", by_owner[:, 1])
        return np.asarray(budget - by_owner.sum(axis=1))
    share = segments.group_share(weights, t, n_tech)
    amount = budget[t] * share
    firms.subsidy += amount * (np.asarray(efficiency)[t] if np.ndim(efficiency) else efficiency)
    attribution.note_subsidy(state, instrument, mark)
    paid = book_firm_payments(ctx, instrument, t, firms.soe, amount, n_tech)
    return np.asarray(budget - paid)


def book_firm_payments(
    ctx: Context, instrument: str, technology: np.ndarray, soe: np.ndarray, amount: np.ndarray, n_tech: int
) -> np.ndarray:
    """Book firm payments to ``soe_firm`` or ``private_firm`` with one bincount; return the total per technology."""
    by_owner = np.bincount(technology * 2 + soe, weights=amount, minlength=2 * n_tech).reshape(n_tech, 2)
    ctx.ledger.book_totals(instrument, "private_firm", by_owner[:, 0])
    ctx.ledger.book_totals(instrument, "soe_firm", by_owner[:, 1])
    return np.asarray(by_owner.sum(axis=1))


def pay_institutions(
    state: State,
    ctx: Context,
    instrument: str,
    budget: np.ndarray,
    weights: np.ndarray,
    efficiency: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Pay ``budget[t]`` to the institutions of each field ∝ ``weights``; return what was unpaid."""
    inst = state.institutions
    field = inst.field
    # compiled: shares, payments and totals in one pass (the same sums in the same order)
    booked = ops.pay_institutions(weights, field, state.n_technologies, budget, efficiency, inst.funding)
    if booked is not None:
        ctx.ledger.book_totals(instrument, "institution", booked)
        return np.asarray(budget - booked)
    share = segments.group_share(weights, field, state.n_technologies)
    amount = budget[field] * share
    inst.funding += amount * (np.asarray(efficiency)[field] if np.ndim(efficiency) else efficiency)
    ctx.ledger.book(instrument, "institution", field, amount)
    paid = segments.group_sum(amount, field, state.n_technologies)
    return np.asarray(budget - paid)


def pay_leftover(
    state: State, ctx: Context, instrument: str, leftover: np.ndarray, efficiency: np.ndarray | float = 1.0
) -> None:
    """Send budgets nobody eligible could take to the field's institutions by quality."""
    rest = np.where(leftover > 1e-12 * max(1.0, float(np.abs(leftover).max(initial=0.0))), leftover, 0.0)
    if rest.any():
        unpaid = pay_institutions(state, ctx, instrument, rest, state.institutions.quality, efficiency)
        # rounding leaves up to a few ulps of a large budget unpaid; a field without institutions
        # leaves all of it
        if np.any(unpaid > 1e-9 * np.maximum(1.0, rest)):
            raise RuntimeError(f"{instrument}: {unpaid.sum():.3g} bn CNY found no recipient")
