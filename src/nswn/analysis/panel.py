"""Indicator panels: the public figures ``nswn infer-priorities`` compares the model with.

A panel is a tidy CSV, one row per area, year and indicator (docs/priorities.md):

``area``
    A technology area as the source names it (``semiconductors``, ``NSFC information
    sciences``...). Without a mapping file an area must be a catalog technology id or a
    catalog ``sector``; with one, every area must be mapped.
``year``
    Calendar year (integer, 1950-2100).
``indicator``
    One of :data:`INDICATORS`: ``funding`` (public S&T funding, any currency unit),
    ``investment`` (state investment funds, e.g. the Big Fund), ``publications``,
    ``patents``, ``firm_entries``. Units need only be consistent within an indicator and
    year: inference uses each year's shares across areas, never levels.
``value``
    A finite number ≥ 0; an empty cell is a missing value (dropped, not imputed).
``source``
    Where the value comes from (publication, table, page); required on every row.

The mapping file (``--mapping``, default ``<panel stem>.mapping.csv`` beside the panel when
it exists) has columns ``area, technology, basis, note``: one row per (area, catalog
technology) pair, ``basis`` ``sourced`` or ``judged`` (a judged mapping says why in
``note``). A technology mapped to several areas is split equally between them.

Errors are collected and raised together as :class:`PanelError` naming the file, row, field,
value and what is allowed; the CLI prints them and exits with status 2.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

INDICATORS = ("funding", "investment", "publications", "patents", "firm_entries")
REQUIRED = ("area", "year", "indicator", "value", "source")
MAPPING_COLUMNS = ("area", "technology", "basis", "note")
BASES = ("sourced", "judged")
YEARS = (1950, 2100)
MIN_AREAS = 3


class PanelError(ValueError):
    """A panel or mapping file that cannot be used; ``problems`` lists every fault found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Panel:
    """A validated panel with its area → technology weights.

    Attributes
    ----------
    data
        Rows ``area, year, indicator, value, source`` with missing values dropped.
    areas
        Area names in first-appearance order, length ``A``.
    years
        Sorted distinct years, length ``Y``.
    indicators
        Indicators present, in :data:`INDICATORS` order.
    weights
        ``(A, T)`` matrix: the share of technology ``t``'s series booked to area ``a``
        (columns over all catalog technologies; each column sums to 1 or 0).
    technology_ids
        Catalog ids of the ``T`` columns.
    judged_areas
        Areas whose mapping is judged (not sourced).
    missing
        Number of rows with an empty value (dropped).
    path
        The panel file.
    """

    data: pd.DataFrame
    areas: tuple[str, ...]
    years: tuple[int, ...]
    indicators: tuple[str, ...]
    weights: np.ndarray
    technology_ids: tuple[str, ...]
    judged_areas: tuple[str, ...]
    missing: int
    path: Path

    def cube(self) -> np.ndarray:
        """Values as an ``(I, Y, A)`` array (indicator, year, area); NaN where missing."""
        out = np.full((len(self.indicators), len(self.years), len(self.areas)), np.nan)
        ind = {name: i for i, name in enumerate(self.indicators)}
        yr = {year: i for i, year in enumerate(self.years)}
        ar = {area: i for i, area in enumerate(self.areas)}
        for row in self.data.itertuples():
            out[ind[row.indicator], yr[int(row.year)], ar[row.area]] = row.value
        return out


def _catalog() -> tuple[tuple[str, ...], dict[str, list[str]]]:
    """Simulated catalog technology ids (the traditional aggregate excluded) and sectors."""
    from nswn import catalog

    techs = [t for t in catalog.technologies() if t.group != "traditional"]
    sectors: dict[str, list[str]] = {}
    for t in techs:
        sectors.setdefault(t.sector, []).append(t.id)
    return tuple(t.id for t in techs), sectors


def _read_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise PanelError([f"{path}: no such file"])
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [name for name in required if name not in header]
            if missing:
                raise PanelError(
                    [f"{path}: header: missing column(s) {', '.join(missing)}; required: {', '.join(required)}"]
                )
            return [dict(row) for row in reader]
    except UnicodeDecodeError as exc:
        raise PanelError([f"{path}: not UTF-8 text ({exc.reason})"]) from None
    except csv.Error as exc:
        raise PanelError([f"{path}: not a CSV file ({exc})"]) from None


def read_mapping(path: Path, technologies: tuple[str, ...]) -> tuple[dict[str, list[str]], set[str], list[str]]:
    """Area → technology ids, the judged areas, and the problems found (file, row, field, value)."""
    rows = _read_rows(path, MAPPING_COLUMNS[:3])
    known = set(technologies)
    mapping: dict[str, list[str]] = {}
    judged: set[str] = set()
    problems = []
    for line, row in enumerate(rows, start=2):
        area = (row.get("area") or "").strip()
        tech = (row.get("technology") or "").strip()
        basis = (row.get("basis") or "").strip()
        where = f"{path}: row {line}"
        if not area:
            problems.append(f"{where}, field area: empty; allowed: a non-empty area name")
        if tech not in known:
            import difflib

            close = difflib.get_close_matches(tech, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"{where}, field technology: {tech!r} is not a catalog technology{hint}; see `nswn catalog`"
            )
        if basis not in BASES:
            problems.append(f"{where}, field basis: {basis!r}; allowed: {', '.join(BASES)}")
        if area and tech in known:
            if tech in mapping.get(area, []):
                problems.append(f"{where}: duplicate pair ({area!r}, {tech!r})")
            mapping.setdefault(area, []).append(tech)
            if basis == "judged":
                judged.add(area)
    return mapping, judged, problems


def load_panel(path: str | Path, mapping: str | Path | None = None) -> Panel:
    """Read and validate a panel (and its mapping file).

    Parameters
    ----------
    path
        The panel CSV.
    mapping
        The mapping CSV; ``None`` uses ``<panel stem>.mapping.csv`` beside the panel when it
        exists, else areas must be catalog technology ids or sectors.

    Raises
    ------
    PanelError
        Every problem found, each naming the file, row, field, value and what is allowed.
    """
    path = Path(path)
    technologies, sectors = _catalog()
    if mapping is None:
        sidecar = path.with_name(f"{path.stem}.mapping.csv")
        mapping = sidecar if sidecar.is_file() else None
    problems: list[str] = []
    area_map: dict[str, list[str]] | None = None
    judged: set[str] = set()
    if mapping is not None:
        area_map, judged, problems = read_mapping(Path(mapping), technologies)
    rows = _read_rows(path, REQUIRED)
    records = []
    seen: dict[tuple[str, int, str], int] = {}
    missing = 0
    for line, row in enumerate(rows, start=2):
        where = f"{path}: row {line}"
        area = (row.get("area") or "").strip()
        indicator = (row.get("indicator") or "").strip()
        source = (row.get("source") or "").strip()
        raw_year = (row.get("year") or "").strip()
        raw_value = (row.get("value") or "").strip()
        ok = True
        if not area:
            problems.append(f"{where}, field area: empty; allowed: a non-empty area name")
            ok = False
        elif area_map is not None and area not in area_map:
            problems.append(f"{where}, field area: {area!r} is not in the mapping file {mapping}")
            ok = False
        elif area_map is None and area not in technologies and area not in sectors:
            problems.append(
                f"{where}, field area: {area!r} is neither a catalog technology id nor a sector "
                f"({', '.join(sorted(sectors))}); give a mapping file (--mapping) for other areas"
            )
            ok = False
        try:
            year = int(raw_year)
            if not YEARS[0] <= year <= YEARS[1]:
                raise ValueError
        except ValueError:
            problems.append(f"{where}, field year: {raw_year!r}; allowed: an integer from {YEARS[0]} to {YEARS[1]}")
            ok = False
            year = 0
        if indicator not in INDICATORS:
            problems.append(f"{where}, field indicator: {indicator!r}; allowed: {', '.join(INDICATORS)}")
            ok = False
        if not source:
            problems.append(f"{where}, field source: empty; allowed: the publication or table the value comes from")
            ok = False
        value = math.nan
        if raw_value:
            try:
                value = float(raw_value)
                if not math.isfinite(value) or value < 0:
                    raise ValueError
            except ValueError:
                problems.append(
                    f"{where}, field value: {raw_value!r}; allowed: a finite number ≥ 0 (empty for missing)"
                )
                ok = False
        key = (area, year, indicator)
        if ok and key in seen:
            problems.append(f"{where}: duplicate of row {seen[key]} (area {area!r}, year {year}, {indicator})")
            ok = False
        if ok:
            seen[key] = line
            if raw_value:
                records.append((area, year, indicator, value, source))
            else:
                missing += 1
    if problems:
        raise PanelError(problems)
    if not records:
        raise PanelError([f"{path}: no values (every row is empty or missing)"])
    data = pd.DataFrame(records, columns=list(REQUIRED))
    areas = tuple(dict.fromkeys(data["area"]))
    if len(areas) < MIN_AREAS:
        raise PanelError(
            [f"{path}: {len(areas)} area(s) with values; allowed: at least {MIN_AREAS} (shares across areas)"]
        )
    weights = np.zeros((len(areas), len(technologies)))
    column = {t: i for i, t in enumerate(technologies)}
    for a, area in enumerate(areas):
        if area_map is not None:
            members = area_map[area]
        else:
            members = [area] if area in column else sectors[area]
        for tech in members:
            weights[a, column[tech]] = 1.0
    shared = weights.sum(axis=0)
    weights = np.divide(weights, shared, out=np.zeros_like(weights), where=shared > 0)
    indicators = tuple(name for name in INDICATORS if name in set(data["indicator"]))
    return Panel(
        data=data,
        areas=areas,
        years=tuple(sorted(int(y) for y in set(data["year"]))),
        indicators=indicators,
        weights=weights,
        technology_ids=technologies,
        judged_areas=tuple(a for a in areas if a in judged),
        missing=missing,
        path=path,
    )
