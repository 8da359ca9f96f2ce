"""Recorder: turns declared indicators into tidy, column-oriented rows each year."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nswn.core.state import State

TechnologyIndicator = Callable[[State], NDArray[Any]]
MacroIndicator = Callable[[State], float]
CategoryIndicator = Callable[[State], NDArray[Any]]


@dataclass(frozen=True)
class Breakdown:
    """A tidy table of one row per category (e.g. province) and year.

    Attributes
    ----------
    name
        Table name (``province_year``, ``technology_ownership_year``).
    keys
        The key columns naming the categories (written first, then ``year``).
    columns
        Returns the table's columns for one year: the key columns naming the categories,
        then the indicators, all of one length; computed with group sums over firms
        (``np.bincount``), never a loop over firms. The recorder adds ``year``.
    """

    name: str
    keys: tuple[str, ...]
    columns: Callable[[State], dict[str, NDArray[Any]]]


Prepare = Callable[[State], None]


class Recorder:
    """Collects per-technology and macro indicators after every simulated year.

    Parameters
    ----------
    technology_indicators
        Name → function returning one value per technology.
    macro_indicators
        Name → function returning one number.
    breakdowns
        Further tidy tables by category and year (:class:`Breakdown`).
    prepare
        Called with the state before the indicators of each recorded year, so that values
        several indicators need (e.g. each technology's best capability) are computed once.
    """

    def __init__(
        self,
        technology_indicators: Mapping[str, TechnologyIndicator],
        macro_indicators: Mapping[str, MacroIndicator],
        breakdowns: Sequence[Breakdown] = (),
        prepare: Prepare | None = None,
    ) -> None:
        self.prepare = prepare
        self.technology_indicators = dict(technology_indicators)
        self.macro_indicators = dict(macro_indicators)
        self.breakdowns = tuple(breakdowns)
        self._breakdown_rows: dict[str, dict[str, list[NDArray[Any]]]] = {b.name: {} for b in self.breakdowns}
        self._technology_rows: dict[str, list[NDArray[Any]]] = {name: [] for name in ["year", *technology_indicators]}
        self._macro_rows: dict[str, list[float]] = {name: [] for name in ["year", *macro_indicators]}
        self._technology_ids: tuple[str, ...] = ()

    def record(self, state: State) -> None:
        """Evaluate every indicator on ``state`` and append one row per technology and year."""
        n = state.n_technologies
        if self.prepare is not None:
            self.prepare(state)
        self._technology_ids = state.technologies.ids
        self._technology_rows["year"].append(np.full(n, state.year, dtype=np.int64))
        for name, indicator in self.technology_indicators.items():
            values = np.asarray(indicator(state))
            if values.shape != (n,):
                raise ValueError(f"indicator {name!r} returned shape {values.shape}, want ({n},)")
            self._technology_rows[name].append(values)
        self._macro_rows["year"].append(float(state.year))
        for name, macro_indicator in self.macro_indicators.items():
            self._macro_rows[name].append(float(macro_indicator(state)))
        for breakdown in self.breakdowns:
            self._record_breakdown(breakdown, state)

    def _record_breakdown(self, breakdown: Breakdown, state: State) -> None:
        rows = self._breakdown_rows[breakdown.name]
        columns = breakdown.columns(state)
        lengths = {name: np.shape(values) for name, values in columns.items()}
        n = len(next(iter(columns.values())))
        if any(shape != (n,) for shape in lengths.values()):
            raise ValueError(f"{breakdown.name} columns have shapes {lengths}, want ({n},) each")
        keys = {name: columns[name] for name in breakdown.keys}
        rest = {name: values for name, values in columns.items() if name not in keys}
        ordered = {**keys, "year": np.full(n, state.year, dtype=np.int64), **rest}
        for name, values in ordered.items():
            rows.setdefault(name, []).append(np.asarray(values))

    def technology_table(self) -> dict[str, NDArray[Any]]:
        """Columns of the technology-year table (``technology_id``, ``year``, indicators…)."""
        n_years = len(self._technology_rows["year"])
        columns: dict[str, NDArray[Any]] = {
            "technology_id": np.tile(np.array(self._technology_ids, dtype=object), n_years)
        }
        for name, chunks in self._technology_rows.items():
            columns[name] = np.concatenate(chunks) if chunks else np.zeros(0)
        return columns

    def breakdown_tables(self) -> dict[str, dict[str, NDArray[Any]]]:
        """Columns of each breakdown table (key columns, ``year``, indicators…), by table name."""
        return {
            name: {column: np.concatenate(chunks) for column, chunks in rows.items()}
            for name, rows in self._breakdown_rows.items()
        }

    def macro_table(self) -> dict[str, NDArray[Any]]:
        """Columns of the macro-year table (``year``, indicators…)."""
        columns = {name: np.asarray(values) for name, values in self._macro_rows.items()}
        columns["year"] = columns["year"].astype(np.int64)
        return columns
