"""``nswn summarize RESULTS``: ensemble bands, paired differences and parity odds in the terminal.

Registered on the main Typer app by :func:`nswn.experiments.commands.register`, next to
``nswn sweep``. Heavy imports stay inside the functions: the CLI imports this module at
start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from nswn.formatting import number as _num

DEFAULT_INDICATORS = ("gdp", "tfp_index", "manufacturing_share", "debt_to_gdp", "publications", "strategic_exports")
GROUP_ORDER = ("stranglehold", "bottleneck", "competitive_advantage", "future")


def _consoles() -> tuple[Any, Any]:
    from nswn.cli import console, errors

    return console, errors


def _fail(message: str) -> None:
    from nswn.cli import fail

    fail(message)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))


def summarize(
    results: Annotated[Path, typer.Argument(help="Results directory written by nswn sweep (or nswn run).")],
    design: Annotated[str | None, typer.Option(help="Design name or hash (default: the latest).")] = None,
    year: Annotated[int | None, typer.Option(help="Year of the bands and differences (default: the last).")] = None,
    parity_year: Annotated[
        int | None, typer.Option(help="Parity probabilities by this year (default: --year).")
    ] = None,
    reference: Annotated[
        str | None, typer.Option(help="Arm the others are compared with (default: the first).")
    ] = None,
    indicator: Annotated[list[str] | None, typer.Option(help="Macro indicator to summarise (repeatable).")] = None,
    top: Annotated[int, typer.Option(min=1, help="Technologies shown in the parity table.")] = 15,
    csv: Annotated[
        Path | None, typer.Option(help="Also write every band, difference and parity table as CSV here.")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="table | csv | json (to stdout; csv stacks the tables with a 'table' column)."),
    ] = "table",
) -> None:
    """Ensemble summary: 5/50/95 % bands, paired differences (common random numbers), parity odds."""
    from nswn.analysis import ensemble as ens
    from nswn.analysis import export
    from nswn.storage.store import StoreError

    console, errors = _consoles()
    export.check_format(fmt)
    try:
        loaded = ens.load_ensemble(results, design)
        macro = loaded.macro_year()
    except (StoreError, ens.EnsembleError) as exc:
        _fail(str(exc))
    years = sorted(int(y) for y in macro["year"].unique())
    chosen_year = years[-1] if year is None else year
    by_year = chosen_year if parity_year is None else parity_year
    for label, value in (("--year", chosen_year), ("--parity-year", by_year)):
        if value not in years:
            _fail(f"{label} {value} is not a simulated year; the runs cover {years[0]}–{years[-1]}")
    indicators = list(indicator or DEFAULT_INDICATORS)
    numeric = [c for c in macro.columns if c not in ("run_id", "arm", "world", "year") and _is_numeric(macro[c])]
    unknown = [i for i in indicators if i not in numeric]
    if unknown:
        _fail(f"unknown macro indicator(s) {', '.join(unknown)}; available: {', '.join(numeric)}")
    arms = loaded.arms
    ref = reference or arms[0]
    if ref not in arms:
        _fail(f"--reference {ref!r} is not an arm; arms: {', '.join(arms)}")
    at_year = macro[macro["year"] == chosen_year]
    if fmt != "table":
        tech = loaded.technology_year(["technology_id", "group", "year", "first_parity_year", "parity_reached"])
        bands = ens.bands(at_year, indicators)
        bands.insert(bands.columns.get_loc("indicator") + 1, "unit", bands["indicator"].map(export.unit))
        payload: dict[str, Any] = {
            "design": {k: v for k, v in (loaded.design or {}).items() if k != "design_json"},
            "year": chosen_year,
            "parity_year": by_year,
            "bands": bands,
        }
        if len(arms) > 1:
            diffs = ens.paired_differences(at_year, indicators, ref)
            diffs.insert(diffs.columns.get_loc("indicator") + 1, "unit", diffs["indicator"].map(export.unit))
            payload["differences"] = diffs
        payload["broken_by_group"] = _broken_counts(tech, by_year)
        payload["parity_probability"] = ens.parity_probability(tech, by_year)
        export.emit(payload, fmt)
        return
    _print_header(console, loaded)
    _print_bands(console, ens.bands(at_year, indicators), arms, indicators, chosen_year)
    if len(arms) > 1:
        diffs = ens.paired_differences(at_year, indicators, ref)
        _print_differences(console, diffs, ref, chosen_year)
    tech = loaded.technology_year(
        ["technology_id", "group", "year", "first_parity_year", "parity_reached", "relative_capability"]
    )
    parity = ens.parity_probability(tech, by_year)
    _print_parity_groups(console, tech, arms, by_year)
    _print_parity(console, parity, arms, by_year, top)
    _print_sensitivity(console, errors, loaded, indicators[0], chosen_year)
    if csv is not None:
        try:
            written = _write_csv(csv, loaded, macro, ref, by_year)
        except OSError as exc:
            errors.print(
                f"[bold red]error:[/] cannot write CSV tables to {_esc(csv)}: {_esc(exc.strerror or exc)}",
                markup=True,
                highlight=False,
            )
            raise typer.Exit(2) from None
        console.print(f"CSV tables: {', '.join(str(p) for p in written)}", highlight=False, soft_wrap=True)


def _is_numeric(series: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series)) and not pd.api.types.is_bool_dtype(series)


def _print_header(console: Any, loaded: Any) -> None:
    runs = loaded.runs
    worlds = runs["world"].nunique()
    stored = runs["run_id"].nunique()
    if loaded.design is None:
        console.print(
            f"Runs in {loaded.store.path} (no design recorded): {stored} runs, {len(loaded.arms)} scenario arm(s); "
            "runs of different arms with the same seed are paired.",
            highlight=False,
            soft_wrap=True,
        )
        return
    info = loaded.design
    text = (
        f"Design [bold]{_esc(info['name'])}[/] ({info['design_hash']}): {stored} of {loaded.planned} runs stored; "
        f"{len(loaded.arms)} arm(s) × {worlds} world(s) "
        f"({runs['uncertainty_point'].nunique()} uncertainty point(s) × {runs['replicate'].nunique()} seed(s))"
    )
    console.print(text, markup=True, highlight=False, soft_wrap=True)
    if not loaded.complete:
        console.print(
            "[yellow]incomplete:[/] the sweep has not finished; summaries cover the stored runs only "
            f"(`nswn sweep {_esc(info.get('source'))}` resumes it).",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )


def _print_bands(console: Any, table: Any, arms: list[str], indicators: list[str], year: int) -> None:
    from rich.table import Table

    out = Table(title=f"Bands in {year}: median [5 %, 95 %] across runs")
    out.add_column("indicator")
    for arm in arms:
        out.add_column(arm, justify="right", overflow="fold")
    cells = {(r.arm, r.indicator): r for r in table.itertuples()}
    from nswn.analysis.export import with_unit

    for name in indicators:
        row = [with_unit(name)]
        for arm in arms:
            r = cells.get((arm, name))
            row.append("—" if r is None else f"{_num(r.p50)} [{_num(r.p5)}, {_num(r.p95)}]")
        out.add_row(*row)
    console.print(out)


def _print_differences(console: Any, diffs: Any, reference: str, year: int) -> None:
    from rich.table import Table

    out = Table(title=f"Paired differences from {reference} in {year} (same seeds and sampled worlds)")
    out.add_column("arm", overflow="fold")
    out.add_column("indicator")
    out.add_column("mean [90 % interval]", justify="right")
    out.add_column("pairs: 5 % … 95 %", justify="right")
    out.add_column("share > 0", justify="right")
    out.add_column("pairs", justify="right")
    for r in diffs.itertuples():
        out.add_row(
            r.arm,
            r.indicator,
            f"{_num(r.difference)} [{_num(r.low)}, {_num(r.high)}]",
            f"{_num(r.p5)} … {_num(r.p95)}",
            f"{r.share_positive:.0%}" if r.pairs else "—",
            str(r.pairs),
        )
    console.print(out)


def _broken_counts(tech: Any, year: int) -> Any:
    """Per arm, world and group: bottlenecks broken by ``year`` and technologies at parity at the start."""
    from nswn.analysis.parity import broken_by, parity_status

    per_run = parity_status(tech, by=("arm", "world"))
    per_run = per_run.assign(
        broken=broken_by(per_run, year).astype(int), parity_at_start=per_run["parity_at_start"].astype(int)
    )
    return per_run.groupby(["arm", "world", "group"], observed=True)[["broken", "parity_at_start"]].sum().reset_index()


def _print_parity_groups(console: Any, tech: Any, arms: list[str], year: int) -> None:
    from rich.table import Table

    from nswn.analysis import ensemble as ens

    counts = _broken_counts(tech, year).astype({"broken": float, "parity_at_start": float})
    table = ens.bands(counts, ["broken"], by=("arm", "group"))
    start = ens.bands(counts, ["parity_at_start"], by=("arm", "group"))
    per_run = tech
    sizes = per_run.groupby("group")["technology_id"].nunique()
    out = Table(
        title=f"Bottlenecks broken by {year} (crossed parity after the start, held to the end), per group; "
        "in brackets: at parity at the start. Median [5 %, 95 %] across runs"
    )
    out.add_column("group")
    for arm in arms:
        out.add_column(arm, justify="right", overflow="fold")
    cells = {(r.arm, r.group): r for r in table.itertuples()}
    starts = {(r.arm, r.group): r for r in start.itertuples()}
    for group in [g for g in GROUP_ORDER if g in sizes.index]:
        row = [f"{group} ({sizes[group]})"]
        for arm in arms:
            r, s = cells.get((arm, group)), starts.get((arm, group))
            row.append("—" if r is None or s is None else f"{r.p50:.0f} [{r.p5:.0f}, {r.p95:.0f}] (start: {s.p50:.0f})")
        out.add_row(*row)
    console.print(out)


def _print_parity(console: Any, parity: Any, arms: list[str], year: int, top: int) -> None:
    from rich.table import Table

    wide = parity.pivot(index="technology_id", columns="arm", values="probability")
    wide = wide.reindex(columns=arms)
    spread = wide.max(axis=1) - wide.min(axis=1)
    uncertain = ((wide > 0) & (wide < 1)).any(axis=1)
    order = (
        wide.assign(_spread=spread, _uncertain=uncertain, _mean=wide.mean(axis=1))
        .sort_values(["_spread", "_uncertain", "_mean"], ascending=False)
        .index
    )
    shown = [t for t in order if spread[t] > 0 or uncertain[t]][:top]
    always = int(((wide == 1).all(axis=1)).sum())
    never = int(((wide == 0).all(axis=1)).sum())
    cells = {(r.arm, r.technology_id): r for r in parity.itertuples()}
    groups = parity.drop_duplicates("technology_id").set_index("technology_id")["group"]
    out = Table(title=f"Probability of parity by {year} (share of runs, 90 % Wilson interval)")
    out.add_column("technology")
    out.add_column("group")
    for arm in arms:
        out.add_column(arm, justify="right", overflow="fold")
    for tech in shown:
        row = [tech, str(groups.get(tech, ""))]
        for arm in arms:
            r = cells.get((arm, tech))
            row.append("—" if r is None else f"{r.probability:.2f} [{r.low:.2f}, {r.high:.2f}]")
        out.add_row(*row)
    if shown:
        console.print(out)
    rest = len(wide) - len(shown)
    console.print(
        f"{len(shown)} technologies shown (uncertain or differing between arms); of the other {rest}: "
        f"{always} at parity by {year} in every run, {never} in none.",
        highlight=False,
        soft_wrap=True,
    )


def _print_sensitivity(console: Any, errors: Any, loaded: Any, indicator: str, year: int) -> None:
    from rich.table import Table

    from nswn.analysis import ensemble as ens

    if loaded.design is None:
        return
    for block in ("uncertainties", "levers"):
        sampled = loaded.design["design_json"].get(block) or {}
        if sampled.get("sampler") not in ("morris", "sobol"):
            continue
        if not loaded.complete:
            console.print(f"(sensitivity of {block}: after the sweep completes)", highlight=False)
            continue
        table = ens.sensitivity(loaded, indicator, year, block=block)
        notes = table.drop_duplicates("of")[["of", "note"]] if "note" in table else None
        columns = [c for c in table.columns if c not in ("of", "parameter", "note")]
        out = Table(title=f"{sampled['sampler'].title()} sensitivity of {indicator} in {year} to the {block}")
        out.add_column("of", overflow="fold")
        out.add_column("parameter")
        for column in columns:
            out.add_column(column, justify="right")
        for r in table.itertuples(index=False):
            values = r._asdict()
            cells = ["no variance" if values.get("note") == "no variance" else _num(values[c]) for c in columns]
            out.add_row(values["of"], values["parameter"], *cells)
        console.print(out)
        for r in notes.itertuples() if notes is not None else ():
            if r.note == "no variance":
                errors.print(
                    f"note: {indicator} does not vary across the {block} for {r.of} beyond rounding noise; "
                    "no sensitivity indices are shown.",
                    highlight=False,
                    soft_wrap=True,
                )
            elif r.note:
                errors.print(f"warning: {r.of}: {r.note}", highlight=False, soft_wrap=True)


def _write_csv(directory: Path, loaded: Any, macro: Any, reference: str, parity_year: int) -> list[Path]:
    import pandas as pd

    from nswn.analysis import ensemble as ens

    directory.mkdir(parents=True, exist_ok=True)
    numeric = [c for c in macro.columns if c not in ("run_id", "arm", "world", "year") and _is_numeric(macro[c])]
    tech = loaded.technology_year()
    tech_numeric = [
        c
        for c in tech.columns
        if c not in ("run_id", "arm", "world", "year", "technology_id", "group") and _is_numeric(tech[c])
    ]
    tables = {
        "bands_macro.csv": ens.bands(macro, numeric),
        "bands_technology.csv": ens.bands(tech, tech_numeric, by=("arm", "technology_id", "year")),
        "parity_by_year.csv": pd.concat(
            [ens.parity_probability(tech, int(y)).assign(year=int(y)) for y in sorted(tech["year"].unique())]
        ),
    }
    if len(loaded.arms) > 1:
        tables["differences_macro.csv"] = ens.paired_differences(macro, numeric, reference)
        tables["differences_technology.csv"] = ens.paired_differences(
            tech, tech_numeric, reference, by=("technology_id", "year")
        )
    written = []
    for name, table in tables.items():
        path = directory / name
        table.to_csv(path, index=False)
        written.append(path)
    return written
