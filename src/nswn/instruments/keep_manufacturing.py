"""Keep manufacturing: refusing to outsource labour-intensive segments (model.md §6.10).

What it models
    A share ``keep`` ∈ [0, 1] of the labour-cost-driven decline of traditional
    manufacturing is refused. Only the labour-intensive segments (a share ``λ`` of traditional
    value added) relocate, at ``ε_w g_w`` a year, so the aggregate shrinks by
    ``ε_w g_w λ (1 − keep)`` instead of ``ε_w g_w λ``, and the refusal costs subsidies of
    ``keep · ε_w g_w λ · VA_trad · c_keep`` a year — ``c_keep`` per yuan of labour-intensive
    value added kept — booked to the traditional sector and added to debt (the macro
    mechanism applies both and passes the drag ``ε_w g_w λ``).

Brief: the section on the modernised industrial base — refusing to outsource polluting
and labour-intensive segments; holding the manufacturing share up at the cost of debt.
"""

from __future__ import annotations

from dataclasses import dataclass

from nswn.core.params import param


@dataclass(frozen=True)
class KeepManufacturingParams:
    """Refusing to outsource."""

    keep: float = param(
        0.0,
        lo=0.0,
        hi=1.0,
        unit="share",
        basis="policy",
        doc="Share of the labour-cost-driven decline of traditional industry refused (paid by subsidy)",
    )


def keep_subsidy(params: KeepManufacturingParams, drag: float, va_traditional: float, cost: float) -> float:
    """Yearly subsidy that refusing ``keep`` of a decline ``drag`` costs (bn CNY).

    ``drag`` is the aggregate's rate ``ε_w g_w λ`` (1/yr), so the subsidy is proportional to the
    labour-intensive value added kept, ``keep · ε_w g_w · λ VA_trad``, times ``cost``.
    """
    return params.keep * max(drag, 0.0) * va_traditional * cost
