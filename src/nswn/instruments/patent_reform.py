"""Patent reform: inventors' ownership of patents from state-funded research.

What it models (model.md §6.3, §6.9)
    A lever, not a budget line. The inventor ownership share ``ω`` ∈ [0, 1] scales the
    rate of academic spin-offs: per field, ``Poisson(ν_spin · ω · n_t · Σ a_k o_k / o_ref)``
    new private firms founded by researchers (applied by the entry-and-exit mechanism).

Brief: the two-layers section — reforms giving inventors more ownership of patents so
state-employed researchers become more entrepreneurial.
"""

from __future__ import annotations

from dataclasses import dataclass

from nswn.core.params import param


@dataclass(frozen=True)
class PatentReformParams:
    """Inventor ownership of patents."""

    inventor_share: float = param(
        0.3,
        lo=0.0,
        hi=1.0,
        unit="share",
        basis="policy",
        doc="ω, inventors' ownership share of patents from state research",
    )
