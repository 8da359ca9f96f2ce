"""Upgrade traditional industry rather than push it out (model.md §6.10).

What it models
    A yearly upgrading subsidy ``upgrade`` (a share of traditional value added) raises
    traditional growth by ``u · upgrade`` and traditional productivity likewise; it is
    booked to the traditional sector and added to debt by the macro mechanism.

Brief: the section on the modernised industrial base — guiding traditional firms to
upgrade instead of pushing out "low-grade" industries.
"""

from __future__ import annotations

from dataclasses import dataclass

from nswn.core.params import param


@dataclass(frozen=True)
class UpgradeTraditionalParams:
    """Upgrading subsidies for traditional industry."""

    upgrade: float = param(
        0.0,
        lo=0.0,
        hi=0.05,
        unit="share of traditional VA",
        basis="policy",
        doc="Yearly upgrading subsidy to traditional industry",
    )
