"""Declaring parameters once: default, unit, allowed range, basis and help text.

Every mechanism and instrument declares its parameters as a frozen dataclass whose fields
are made with :func:`param`. The scenario layer turns these declarations into its
validating schema, the docs into the parameter tables, and the interactive page into its
controls, so a range is written in exactly one place.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

Basis = Literal["sourced", "judged", "policy"]


def param(
    default: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    unit: str = "",
    basis: Basis = "judged",
    doc: str = "",
) -> Any:
    """Declare one parameter of a ``Params`` dataclass.

    Parameters
    ----------
    default
        Default value (immutable).
    lo, hi
        Inclusive allowed range for numbers (``None``: unbounded on that side).
    unit
        Unit in plain words (``"share"``, ``"bn CNY"``, ``"1/yr"``).
    basis
        ``sourced`` (measured; source in the docs), ``judged`` (an assumption) or
        ``policy`` (a lever a government chooses).
    doc
        One-line plain-language help.
    """
    return dataclasses.field(
        default=default,
        metadata={"lo": lo, "hi": hi, "unit": unit, "basis": basis, "doc": doc},
    )


def budget_share(doc: str) -> Any:
    """The ``share`` parameter every budget instrument has: its part of the central S&T budget
    (0 = off; the enabled instruments' shares sum to 1)."""
    return param(0.0, lo=0.0, hi=1.0, unit="share of central budget", basis="policy", doc=doc)


def describe(params_type: type) -> list[dict[str, Any]]:
    """List a ``Params`` dataclass's fields with their metadata (for docs and the schema)."""
    rows = []
    for f in dataclasses.fields(params_type):
        meta = dict(f.metadata)
        rows.append({"name": f.name, "default": f.default, "type": f.type, **meta})
    return rows
