"""The catalog: technologies, provinces and macro starting values shipped with nswn.

The CSV files beside this module are built from ``shared/data`` (the 35 stranglehold
technologies, the future-industries plan, megaprojects, macro facts) plus judged values,
each labelled ``sourced`` or ``judged`` with a one-line rationale. Loaders return typed,
immutable records and fail with a message naming the file, row and column.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields, replace
from functools import cache
from importlib import resources
from typing import Any

GROUPS = ("stranglehold", "bottleneck", "competitive_advantage", "future", "traditional")
OWNER_TYPES = (
    "military_research",
    "think_tank",
    "soe",
    "private_champion",
    "new_rd_institute",
    "none",
)


class CatalogError(ValueError):
    """A catalog file is malformed (names the file, row and column)."""


@dataclass(frozen=True)
class Technology:
    """One technology area (model.md §5)."""

    id: str
    name_en: str
    name_zh: str
    group: str
    sector: str
    rel_capability0: float
    emulability: float
    entrepreneurship: float
    science_intensity: float
    frontier_growth: float
    demand0: float
    world_demand0: float
    demand_growth: float
    world_demand_growth: float
    foreign_share0: float
    world_share0: float
    strategic_weight: float
    issue_owner_type: str
    value_added_ratio: float
    margin: float
    identity_source: str
    basis: str
    rationale: str


@dataclass(frozen=True)
class Province:
    """One provincial-level division."""

    id: str
    name_en: str
    name_zh: str
    gdp_2023: float
    gdp_share: float
    pilot_zone_intensity: float
    gdp_source: str
    pilot_basis: str


@dataclass(frozen=True)
class MacroFact:
    """One macro starting value with its source."""

    key: str
    value: float
    unit: str
    basis: str
    source: str
    note: str


# Allowed ranges of numeric technology attributes: (low, high), inclusive.
TECHNOLOGY_RANGES: dict[str, tuple[float, float]] = {
    "rel_capability0": (0.01, 2.0),
    "emulability": (0.0, 1.0),
    "entrepreneurship": (0.0, 1.0),
    "science_intensity": (0.0, 1.0),
    "frontier_growth": (0.0, 0.2),
    "demand0": (0.0, 1e6),
    "world_demand0": (0.0, 1e7),
    # up to +400 %/yr: a nascent market grows several-fold in a year (China's electric-car sales
    # grew 4.6-fold in 2014, 15 730 -> 73 000, and 2.8-fold in 2021, IEA Global EV Data 2024 in
    # history/market_series.csv), which a yearly path set by a scenario's schedule must be able to
    # carry; the 2006 -> 2024 constant EV rates are 73 %/yr (0.1 -> 1 900 bn CNY) and 58 %/yr (0.5 -> 1 800)
    "demand_growth": (-0.2, 4.0),
    "world_demand_growth": (-0.2, 4.0),
    "foreign_share0": (0.0, 1.0),
    "world_share0": (0.0, 1.0),
    "strategic_weight": (0.0, 1.0),
    "value_added_ratio": (0.0, 1.0),
    "margin": (0.0, 1.0),
}


def _read(name: str) -> list[dict[str, str]]:
    resource = resources.files(__package__)
    for part in name.split("/"):
        resource = resource.joinpath(part)
    text = resource.read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _convert(record_type: type, row: dict[str, str], file: str, line: int) -> Any:
    values: dict[str, Any] = {}
    for f in fields(record_type):
        if f.name not in row or row[f.name] is None:
            raise CatalogError(f"{file}: row {line}: missing column {f.name!r}")
        raw = row[f.name].strip()
        if f.type == "float":
            try:
                values[f.name] = float(raw)
            except ValueError:
                raise CatalogError(f"{file}: row {line}: column {f.name!r}: {raw!r} is not a number") from None
        else:
            values[f.name] = raw
    return record_type(**values)


@cache
def technologies() -> tuple[Technology, ...]:
    """All technologies of the catalog, in file order (validated)."""
    out = []
    seen: set[str] = set()
    for line, row in enumerate(_read("technologies.csv"), start=2):
        tech: Technology = _convert(Technology, row, "technologies.csv", line)
        where = f"technologies.csv: row {line} ({tech.id})"
        if tech.id in seen:
            raise CatalogError(f"{where}: duplicate id")
        seen.add(tech.id)
        if tech.group not in GROUPS:
            raise CatalogError(f"{where}: group {tech.group!r} not in {GROUPS}")
        if tech.issue_owner_type not in OWNER_TYPES:
            raise CatalogError(f"{where}: issue_owner_type {tech.issue_owner_type!r} not in {OWNER_TYPES}")
        if tech.basis not in ("sourced", "judged"):
            raise CatalogError(f"{where}: basis must be 'sourced' or 'judged'")
        for name, (lo, hi) in TECHNOLOGY_RANGES.items():
            value = getattr(tech, name)
            if not lo <= value <= hi:
                raise CatalogError(f"{where}: {name} = {value} outside [{lo}, {hi}]")
        out.append(tech)
    return tuple(out)


@cache
def provinces() -> tuple[Province, ...]:
    """The 31 provinces, with GDP shares summing to 1."""
    out = tuple(
        _convert(Province, row, "provinces.csv", line) for line, row in enumerate(_read("provinces.csv"), start=2)
    )
    total = sum(p.gdp_share for p in out)
    if abs(total - 1.0) > 1e-4:
        raise CatalogError(f"provinces.csv: gdp_share sums to {total:.6f}, not 1")
    return out


@cache
def macro() -> dict[str, MacroFact]:
    """Macro starting values keyed by name."""
    return {
        fact.key: fact
        for fact in (
            _convert(MacroFact, row, "macro.csv", line) for line, row in enumerate(_read("macro.csv"), start=2)
        )
    }


@dataclass(frozen=True)
class FirmPopulation:
    """How many Chinese firms compete in a technology's market (``firms_real.csv``)."""

    id: str
    firms_real: float
    basis: str
    source: str
    rationale: str


@cache
def firm_populations() -> dict[str, FirmPopulation]:
    """The real Chinese firm population of every technology, keyed by technology id.

    Raises
    ------
    CatalogError
        When a row is malformed, a count is not a positive whole number, a basis is not
        ``sourced`` or ``judged``, or the ids differ from ``technologies.csv``.
    """
    out: dict[str, FirmPopulation] = {}
    for line, row in enumerate(_read("firms_real.csv"), start=2):
        record: FirmPopulation = _convert(FirmPopulation, row, "firms_real.csv", line)
        where = f"firms_real.csv: row {line} ({record.id})"
        if record.id in out:
            raise CatalogError(f"{where}: duplicate id")
        if not (record.firms_real >= 1 and float(record.firms_real).is_integer()):
            raise CatalogError(f"{where}: firms_real = {record.firms_real}: must be a whole number ≥ 1")
        if record.basis not in ("sourced", "judged"):
            raise CatalogError(f"{where}: basis must be 'sourced' or 'judged'")
        if not record.source.strip() or not record.rationale.strip():
            raise CatalogError(f"{where}: source and rationale must not be empty")
        out[record.id] = record
    ids = set(technology_ids())
    if set(out) != ids:
        missing, extra = sorted(ids - set(out)), sorted(set(out) - ids)
        raise CatalogError(f"firms_real.csv: ids differ from technologies.csv (missing {missing}, unknown {extra})")
    return out


# Start years with a data vintage: the 2024 catalog (technologies.csv, macro.csv) and the
# 2006 vintage (vintages/2006/: start values of every technology and the macro economy).
VINTAGES = (2006, 2024)
LATEST = 2024
VINTAGE_COLUMNS = ("rel_capability0", "demand0", "world_demand0", "foreign_share0", "world_share0")


class VintageError(ValueError):
    """A start year has no data vintage."""


def check_vintage(start_year: int) -> int:
    """Return ``start_year`` if the catalog has a vintage for it.

    Raises
    ------
    VintageError
        Naming the available vintages, for any other year (a start year is never relabelled).
    """
    if start_year not in VINTAGES:
        raise VintageError(
            f"no data vintage for start year {start_year}; available start years: {', '.join(str(v) for v in VINTAGES)}"
        )
    return start_year


@cache
def technologies_for(start_year: int) -> tuple[Technology, ...]:
    """The catalog as of ``start_year``: the 2024 rows with the vintage's start values
    (``rel_capability0``, ``demand0``, ``world_demand0``, ``foreign_share0``,
    ``world_share0``; basis and rationale from the vintage) over them. Structural attributes
    (emulability, entrepreneurship, science intensity, growth rates, margins) are the 2024
    catalog's.
    """
    check_vintage(start_year)
    base = technologies()
    if start_year == LATEST:
        return base
    file = f"vintages/{start_year}/technologies.csv"
    rows = {row["id"]: (line, row) for line, row in enumerate(_read(file), start=2)}
    missing = sorted(set(technology_ids()) - set(rows))
    unknown = sorted(set(rows) - set(technology_ids()))
    if missing or unknown:
        raise CatalogError(f"{file}: ids differ from technologies.csv (missing {missing}, unknown {unknown})")
    out = []
    for tech in base:
        line, row = rows[tech.id]
        values: dict[str, Any] = {}
        for name in VINTAGE_COLUMNS:
            try:
                values[name] = float(row[name])
            except (KeyError, TypeError, ValueError):
                raise CatalogError(f"{file}: row {line}: column {name!r}: {row.get(name)!r} is not a number") from None
            lo, hi = TECHNOLOGY_RANGES[name]
            if not lo <= values[name] <= hi:
                raise CatalogError(f"{file}: row {line} ({tech.id}): {name} = {values[name]} outside [{lo}, {hi}]")
        basis = row.get("basis", "judged").strip()
        values["basis"] = "sourced" if basis == "sourced" else "judged"
        values["rationale"] = row.get("rationale", "").strip()
        out.append(replace(tech, **values))
    return tuple(out)


@cache
def macro_for(start_year: int) -> dict[str, MacroFact]:
    """Macro starting values of a vintage, keyed by name (``macro.csv`` for 2024)."""
    check_vintage(start_year)
    if start_year == LATEST:
        return macro()
    file = f"vintages/{start_year}/macro.csv"
    facts = {
        fact.key: fact
        for fact in (_convert(MacroFact, row, file, line) for line, row in enumerate(_read(file), start=2))
    }
    missing = sorted(set(macro()) - set(facts))
    if missing:
        raise CatalogError(f"{file}: missing keys {missing}")
    return facts


def technology_ids() -> tuple[str, ...]:
    """Ids of every catalog technology."""
    return tuple(t.id for t in technologies())
