"""How numbers are shown in tables (terminal, Markdown): one rule for every shell."""

from __future__ import annotations

import math


def number(value: float | None) -> str:
    """A number for a table: thousands separators from 1 000, one decimal from 10, three
    decimals from 0.01 (and for 0), scientific below; "—" for missing or non-finite values."""
    if value is None or not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.01 or value == 0:
        return f"{value:.3f}"
    return f"{value:.2e}"
