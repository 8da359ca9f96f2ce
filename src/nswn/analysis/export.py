"""Getting data out: ``nswn export`` and the ``--format table|csv|json`` output of the commands.

Units are one set across shells and stated where the numbers are: money in **bn CNY at
2024 prices** (GDP too, never tn), shares and ratios as **fractions** (debt/GDP 3.36, not
336 %), counts as plain numbers. :data:`UNITS` names the unit of every recorded column that
has one; ``nswn export`` writes it next to the tables as ``units.csv`` and ``--format json``
carries it.

Heavy imports stay inside functions: the CLI imports this module at start-up.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

FORMATS = ("table", "csv", "json")
EXPORT_FORMATS = ("csv", "parquet")

BN = "bn CNY, 2024 prices"
FRACTION = "fraction, 0–1"
RATIO = "ratio"

# unit of each recorded column (technology_year, macro_year, province_year, technology_ownership_year,
# technology_attribution_year)
UNITS: dict[str, str] = {
    "gdp": BN,
    "va_traditional": BN,
    "va_strategic": BN,
    "strategic_exports": BN,
    "central_budget": BN,
    "local_budget": BN,
    "manufacturing_subsidy": BN,
    "firm_rd": BN,
    "institution_funding": BN,
    "manufacturing_share": FRACTION,
    "debt_to_gdp": RATIO,
    "soe_funding_share": FRACTION,
    "tfp_index": "index, start year = 1",
    "tfp_growth": "growth rate per year, fraction",
    "gdp_growth": "growth rate per year, fraction",
    "publications_growth": "growth rate per year, fraction",
    "patents_growth": "growth rate per year, fraction",
    "hhi_priority": "Herfindahl index, 0–1",
    "hhi_funding": "Herfindahl index, 0–1",
    "allocation_quality": "correlation, −1 to 1",
    "labour_cost": "index",
    "decoupling": FRACTION,
    "ledger_imbalance": BN,
    "publications": "papers per year",
    "patents": "patents per year",
    "firms": "count",
    "soe_firms": "count",
    "entries": "count per year",
    "exits": "count per year",
    "best_capability": "log capability",
    "median_capability": "log capability",
    "frontier": "log capability",
    "gap": "log points",
    "relative_capability": "ratio to the foreign frontier",
    "china_domestic_share": FRACTION,
    "domestic_share": FRACTION + " of the Chinese market",
    "china_world_share": FRACTION,
    "china_exports": BN,
    "foreign_china_sales": BN,
    "foreign_exports": BN,
    "demand": BN,
    "exports": BN,
    "revenue": BN,
    "rd": BN,
    "subsidies": BN,
    "funding_total": BN,
    "knowledge": "ratio to the knowledge required (1 at start)",
    "priority_weight": "weight, 0–1",
    "fence_height": "fence height, 0–1",
    "knowhow_access": FRACTION,
    "first_parity_year": "year",
    "broken_year": "year",
    "log_capability_change": "log points of relative capability (c_best − F) since the previous year",
}


def unit(column: str) -> str:
    """The unit of a recorded column ('' when it has none or is unknown)."""
    if column.startswith("funding_"):
        return BN
    return UNITS.get(column, "")


def with_unit(column: str) -> str:
    """``column (unit)`` for headers; the bare name when it has no unit."""
    found = unit(column)
    return f"{column} ({found})" if found else column


# ---------------------------------------------------------------------------------------
# --format csv | json


def check_format(fmt: str, allowed: tuple[str, ...] = FORMATS) -> None:
    """Exit with status 2 unless ``fmt`` is one of ``allowed``."""
    if fmt not in allowed:
        from nswn.cli import fail

        fail(f"--format must be one of {', '.join(allowed)}, not {fmt!r}")


def _clean(value: Any) -> Any:
    """JSON-safe values: NaN and ±inf become null; numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            return _clean(value.to_dict(orient="records"))
        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pass
    return value


def emit(payload: Any, fmt: str, stream: TextIO | None = None) -> None:
    """Write a table (or several) to stdout as CSV or JSON.

    Parameters
    ----------
    payload
        A DataFrame, or a mapping of names to DataFrames and plain values. CSV of a mapping
        writes its tables stacked, each row tagged with its ``table`` name.
    fmt
        ``csv`` or ``json``.
    """
    import pandas as pd

    out = stream or sys.stdout
    if fmt == "json":
        json.dump(_clean(payload), out, indent=2, ensure_ascii=False, allow_nan=False, default=str)
        out.write("\n")
        return
    if isinstance(payload, pd.DataFrame):
        frame = payload
    else:
        parts = [
            value.assign(table=name)[["table", *value.columns]]
            for name, value in payload.items()
            if isinstance(value, pd.DataFrame)
        ]
        frame = pd.concat(parts, ignore_index=True).convert_dtypes() if parts else pd.DataFrame()
    frame.to_csv(out, index=False, lineterminator="\n")


# ---------------------------------------------------------------------------------------
# nswn export


def export_tables(
    results: str | Path, out: str | Path | None = None, fmt: str = "parquet", tables: list[str] | None = None
) -> list[Path]:
    """Write the tables of a results store as Parquet or CSV files, plus ``units.csv``.

    Parameters
    ----------
    results
        A results directory (``nswn run --out``, ``nswn sweep``, ``nswn compare --out``).
    out
        Directory to write (default: ``RESULTS/export``); one file per table, ``<table>.<fmt>``.
    fmt
        ``parquet`` or ``csv``.
    tables
        Tables to write (default: every table in the store).

    Returns
    -------
    list of Path
        The files written. Each is written under a temporary name and renamed when complete,
        so a failure leaves no half-written file.

    Raises
    ------
    ValueError
        An unknown format or table (the message names the allowed ones).
    nswn.storage.store.StoreError
        No results database in ``results``.
    """
    import pandas as pd

    from nswn.storage.store import ResultsStore

    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    store = ResultsStore(results, create=False)
    present = sorted(store.tables())
    wanted = list(dict.fromkeys(tables or present))
    unknown = [t for t in wanted if t not in present]
    if unknown:
        raise ValueError(
            f"{store.path}: no table(s) {', '.join(map(repr, unknown))}; the store holds {', '.join(present)}"
        )
    target = Path(out) if out is not None else Path(results) / "export"
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    con = store._connect(read_only=True)
    units = []
    try:
        for table in wanted:
            path = target / f"{table}.{fmt}"
            partial = path.with_name(path.name + ".partial")
            quoted = partial.as_posix().replace("'", "''")
            try:
                con.execute(f"COPY (SELECT * FROM \"{table}\") TO '{quoted}' ({options})")
                partial.replace(path)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            written.append(path)
            for column in con.execute(f'DESCRIBE "{table}"').fetchall():
                units.append({"table": table, "column": column[0], "unit": unit(column[0])})
    finally:
        con.close()
    units_path = target / "units.csv"
    partial = units_path.with_name("units.csv.partial")
    pd.DataFrame(units, columns=["table", "column", "unit"]).to_csv(partial, index=False)
    partial.replace(units_path)
    written.append(units_path)
    return written


def register(app: typer.Typer) -> None:
    """Add ``nswn export`` to ``app``."""

    @app.command()
    def export(
        results: Annotated[Path, typer.Argument(help="Results directory (nswn run / sweep / compare --out).")],
        fmt: Annotated[str, typer.Option("--format", help="parquet | csv.")] = "parquet",
        tables: Annotated[
            list[str] | None,
            typer.Option("--tables", help="Table to write (repeatable; default: every table in the store)."),
        ] = None,
        out: Annotated[Path | None, typer.Option(help="Directory to write (default: RESULTS/export).")] = None,
    ) -> None:
        """Write the run tables (runs, technology_year, macro_year, province_year, …) as Parquet or CSV."""
        from nswn.cli import console, fail
        from nswn.storage.store import StoreError

        names = [t.strip() for item in tables or [] for t in item.split(",") if t.strip()] or None
        try:
            written = export_tables(results, out, fmt, names)
        except (StoreError, ValueError) as exc:
            fail(str(exc))
            return
        except OSError as exc:
            fail(f"cannot write the export to {out or Path(results) / 'export'}: {exc.strerror or exc}")
            return
        for path in written:
            console.print(str(path), highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------------------
# the tidy tables behind the commands' --format csv | json

# catalog columns renamed so that the unit is in the name
CATALOG_UNITS = {
    "demand0": "demand0_bn_cny",
    "world_demand0": "world_demand0_bn_cny",
    "frontier_growth": "frontier_growth_per_year",
    "demand_growth": "demand_growth_per_year",
    "world_demand_growth": "world_demand_growth_per_year",
}


def catalog_frame(technologies: list[Any]) -> Any:
    """The technology catalog, one row per technology; money in bn CNY, named in the column."""
    import dataclasses

    import pandas as pd

    frame = pd.DataFrame([dataclasses.asdict(t) for t in technologies])
    return frame.rename(columns=CATALOG_UNITS)


def params_frame() -> Any:
    """Every lever and assumption: path, default, unit, allowed range, basis, help."""
    import pandas as pd

    from nswn.scenario import reference

    frame = pd.DataFrame(reference.rows())
    for column in ("range", "help"):
        frame[column] = frame[column].str.replace("\\|", "|", regex=False)
    return frame


def scenarios_frame() -> Any:
    """The shipped scenarios: name, description, claim (and the error of one that does not load)."""
    import pandas as pd

    from nswn.scenario.io import ScenarioError, load, scenario_hash, shipped_scenarios

    rows = []
    for name in shipped_scenarios():
        try:
            scenario = load(name)
        except ScenarioError as exc:
            rows.append(
                {"name": name, "description": "", "claim": "", "scenario_hash": "", "error": str(exc.problems[0])}
            )
            continue
        rows.append(
            {
                "name": name,
                "description": " ".join(scenario.description.split()),
                "claim": scenario.claim,
                "scenario_hash": scenario_hash(scenario),
                "error": "",
            }
        )
    return pd.DataFrame(rows)


def compare_payload(table: Any, info: dict[str, Any]) -> dict[str, Any]:
    """``nswn compare`` as data: the settings and one row per key indicator (A, B, B − A, interval)."""
    return {"info": dict(info), "indicators": table}
