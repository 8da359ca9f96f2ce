"""The brief's claims C1–C8 as declared, paired experiments (model.md §10).

Each claim is a comparison of scenario arms run on the same seeds (common random
numbers) and, for robustness, on the same Latin-hypercube sample of uncertain
assumptions. A claim's *effect* is signed so that a positive value is what the brief
asserts; per seed (or per sampled world) the effect is computed from the arms' tables.

Verdicts at default assumptions use a Student-t interval over seeds:

* ``holds`` — the whole interval is above zero;
* ``does not hold`` — the whole interval is at or below zero (the effect is absent or reversed);
* ``inconclusive`` — the interval contains zero.

Robustness is the share of sampled worlds (points of the uncertain assumptions) in which
the mean effect over that world's seeds is positive. Nothing here is tuned to make a
claim hold: arms, metrics and the sampled ranges are declared below and in
docs/claims.md, and a claim that fails is reported as failing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from nswn.analysis.compare import median_years_to_parity

PARITY_START = 0.9

# Arms: a shipped scenario, or the baseline with one lever changed (written as scenario files).
SHIPPED_ARMS = (
    "baseline",
    "market_led",
    "state_led",
    "no_priorities",
    "shortlist5",
    "two_layers_fix",
    "export_discipline",
    "local_discretion",
    "keep_manufacturing",
    "let_it_decline",
    "no_controls",
)
DERIVED_ARMS: dict[str, dict[str, Any]] = {
    "centralised": {
        "levers": {"local_allocation": {"centralisation": 0.8}},
        "description": "Baseline with 80 % of local money pooled by export discipline (C8).",
    },
    "decentralised": {
        "levers": {"local_allocation": {"centralisation": 0.2}},
        "description": "Baseline with 20 % of local money pooled by export discipline (C8).",
    },
}

# Uncertain assumptions sampled for robustness and sensitivity: judged plausible ranges.
UNCERTAINTIES: dict[str, tuple[float, float]] = {
    "assumptions.innovation.emulation_rate": (0.05, 0.3),
    "assumptions.innovation.innovation_rate": (0.5, 2.0),
    "assumptions.innovation.soe_entrepreneurship": (0.2, 0.7),
    "assumptions.markets.labour_cost_growth": (0.0, 0.04),
    "assumptions.markets.learning_spillover": (0.3, 1.0),
    "assumptions.markets.capability_weight": (1.5, 4.5),
    "assumptions.environment.frontier_growth_scale": (0.5, 1.5),
    "assumptions.environment.controls_block_sales": (0.0, 1.0),
    "assumptions.environment.decoupling_rate": (0.0, 0.03),
    "assumptions.research.knowledge_depreciation": (0.05, 0.2),
    "assumptions.local_behaviour.local_noise": (0.5, 2.0),
    "assumptions.macro.keep_cost": (0.5, 3.0),
    "assumptions.entry_exit.entry_rate": (0.01, 0.06),
}

Tables = tuple[pd.DataFrame, pd.DataFrame]  # (technology_year, macro_year) of one run
World = Mapping[str, Tables]  # arm → tables, all from one seed and one assumption point


@dataclass(frozen=True)
class Claim:
    """One testable statement of the brief.

    Attributes
    ----------
    id, statement, brief
        Identifier (``C4b``), the claim in our words, and where the brief makes it.
    arms
        The scenario arms the comparison needs.
    comparison, metric, unit
        What is compared and how the effect is measured (positive = as the brief says).
    effect
        Function of one world's tables returning the signed effect.
    """

    id: str
    statement: str
    brief: str
    arms: tuple[str, ...]
    comparison: str
    metric: str
    unit: str
    effect: Callable[[World], float]


# ---------------------------------------------------------------------------------------
# metric helpers (pure functions of one run's tables)


def _year(tech: pd.DataFrame, year: int) -> pd.DataFrame:
    return tech[tech["year"] == min(year, int(tech["year"].max()))]


def _macro(macro: pd.DataFrame, column: str, year: int) -> float:
    return float(macro.loc[macro["year"] == min(year, int(macro["year"].max())), column].iloc[0])


def _catalog() -> pd.DataFrame:
    from nswn import catalog

    return pd.DataFrame([t.__dict__ for t in catalog.technologies()]).set_index("id")


def ids_where(condition: Callable[[pd.DataFrame], pd.Series]) -> tuple[str, ...]:
    """Catalog technologies (simulated ones) meeting ``condition``."""
    cat = _catalog()
    cat = cat[cat["group"] != "traditional"]
    return tuple(cat.index[condition(cat)])


def mean_at(tech: pd.DataFrame, ids: tuple[str, ...], column: str, year: int) -> float:
    rows = _year(tech, year)
    rows = rows[rows["technology_id"].isin(ids)]
    return float(rows[column].mean()) if len(rows) else float("nan")


def capability_gain(tech: pd.DataFrame, ids: tuple[str, ...], year: int) -> float:
    """Mean rise of the best Chinese capability (log units) from the start to ``year``."""
    start = mean_at(tech, ids, "best_capability", int(tech["year"].min()))
    return mean_at(tech, ids, "best_capability", year) - start


def gap_closed(tech: pd.DataFrame, ids: tuple[str, ...], year: int) -> float:
    """Mean gap to the frontier closed (log units) between the start and ``year``."""
    return mean_at(tech, ids, "gap", int(tech["year"].min())) - mean_at(tech, ids, "gap", year)


def controlled(tech: pd.DataFrame) -> tuple[str, ...]:
    return tuple(sorted(set(tech.loc[tech["fence_height"] > 0, "technology_id"])))


def shortlisted(tech: pd.DataFrame) -> tuple[str, ...]:
    start = _year(tech, int(tech["year"].min()))
    return tuple(sorted(start.loc[start["priority_weight"] > 0, "technology_id"]))


def annual_growth(macro: pd.DataFrame, column: str) -> float:
    """Annual growth from the first simulated year to the last (the start year's flows are a
    one-off opening allocation on the initial state, so growth is measured from the first
    simulated year)."""
    first, last = macro[column].iloc[1], macro[column].iloc[-1]
    years = int(macro["year"].iloc[-1] - macro["year"].iloc[1])
    return float((last / first) ** (1.0 / years) - 1.0) if first > 0 and years > 0 else float("nan")


def tfp_per_million_papers(macro: pd.DataFrame) -> float:
    papers = float(macro["publications"].iloc[1:].sum())
    return float((macro["tfp_index"].iloc[-1] - macro["tfp_index"].iloc[0]) / papers * 1e6) if papers else float("nan")


@cache
def high_e() -> tuple[str, ...]:
    """Emulable technologies (e ≥ 0.7) below parity at the start."""
    return ids_where(lambda c: (c["emulability"] >= 0.7) & (c["rel_capability0"] < PARITY_START))


@cache
def low_e() -> tuple[str, ...]:
    """Technologies without a foreign template (e ≤ 0.4) below parity at the start."""
    return ids_where(lambda c: (c["emulability"] <= 0.4) & (c["rel_capability0"] < PARITY_START))


@cache
def entrepreneurial() -> tuple[str, ...]:
    """Technologies whose progress depends on private experimentation (ρ ≥ 0.6)."""
    return ids_where(lambda c: c["entrepreneurship"] >= 0.6)


@cache
def all_ids() -> tuple[str, ...]:
    return ids_where(lambda c: c["entrepreneurship"] >= 0)


def _macro_difference(column: str, year: int, first: str, second: str) -> Callable[[World], float]:
    """Effect = ``column`` in ``year`` of arm ``first`` minus that of arm ``second``."""

    def effect(world: World) -> float:
        return _macro(world[first][1], column, year) - _macro(world[second][1], column, year)

    return effect


def _c3(world: World) -> float:
    ids = shortlisted(world["shortlist5"][0])
    broad = gap_closed(world["baseline"][0], ids, 2035)
    none = gap_closed(world["no_priorities"][0], ids, 2035)
    short = gap_closed(world["shortlist5"][0], ids, 2035)
    return abs(broad - short) - abs(broad - none)


def _c7(column: str, year: int, sign: float) -> Callable[[World], float]:
    def effect(world: World) -> float:
        ids = controlled(world["baseline"][0])
        with_controls = mean_at(world["baseline"][0], ids, column, year)
        return sign * (with_controls - mean_at(world["no_controls"][0], ids, column, year))

    return effect


def _c7_foreign_losses(world: World) -> float:
    ids = controlled(world["baseline"][0])

    def total(tech: pd.DataFrame) -> float:
        rows = tech[tech["technology_id"].isin(ids) & (tech["year"] > tech["year"].min())]
        return float((rows["foreign_china_sales"] + rows["foreign_exports"]).sum())

    return total(world["no_controls"][0]) - total(world["baseline"][0])


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "C1",
        "The system succeeds where an established foreign technology can be emulated",
        "closing section (atomic bombs, BeiDou, space stations, high-speed rail vs solar, EVs, platforms)",
        ("baseline",),
        "baseline: technologies below parity in 2024 with e ≥ 0.7 vs e ≤ 0.4",
        "median years to parity, e ≤ 0.4 minus e ≥ 0.7 (never = horizon + 1)",
        "years",
        lambda w: (
            median_years_to_parity(w["baseline"][0], low_e()) - median_years_to_parity(w["baseline"][0], high_e())
        ),
    ),
    Claim(
        "C2",
        "Entrepreneurship-dependent areas need private initiative",
        "closing section (solar, EVs, telecom, platforms relied on private entrepreneurs)",
        ("market_led", "state_led"),
        "market_led vs state_led, technologies with ρ ≥ 0.6",
        "mean capability gain 2024–2035, market-led minus state-led",
        "log capability",
        lambda w: (
            capability_gain(w["market_led"][0], entrepreneurial(), 2035)
            - capability_gain(w["state_led"][0], entrepreneurial(), 2035)
        ),
    ),
    Claim(
        "C3",
        "About 50 priority areas amount to no concentration",
        "section on the missing shortlist (~50 bottleneck and competitive-advantage areas)",
        ("baseline", "no_priorities", "shortlist5"),
        "broad (baseline, ≡ broad50) vs no_priorities vs shortlist5 on the five shortlisted technologies",
        "gap closed by 2035: |broad − shortlist| − |broad − none| (> 0: broad is closer to none)",
        "log capability",
        _c3,
    ),
    Claim(
        "C4a",
        "Research output grows without matching productivity (two layers)",
        "two-layers section (top-cited papers without TFP growth)",
        ("baseline",),
        "baseline, 2025–2050",
        "publication growth minus TFP growth (annual)",
        "per year",
        lambda w: annual_growth(w["baseline"][1], "publications") - annual_growth(w["baseline"][1], "tfp_index"),
    ),
    Claim(
        "C4b",
        "Bridging instruments turn research into productivity",
        "two-layers section (open challenges, associations, new institutes, patent ownership)",
        ("baseline", "two_layers_fix"),
        "two_layers_fix vs baseline",
        "TFP gain 2024–2050 per million publications 2025–2050, fix minus baseline",
        "TFP index points",
        lambda w: tfp_per_million_papers(w["two_layers_fix"][1]) - tfp_per_million_papers(w["baseline"][1]),
    ),
    Claim(
        "C5a",
        "Export discipline beats local data (capability)",
        "section on export discipline and local data",
        ("export_discipline", "local_discretion"),
        "export_discipline vs local_discretion",
        "mean relative capability 2035 (all technologies), difference",
        "relative capability",
        lambda w: (
            mean_at(w["export_discipline"][0], all_ids(), "relative_capability", 2035)
            - mean_at(w["local_discretion"][0], all_ids(), "relative_capability", 2035)
        ),
    ),
    Claim(
        "C5b",
        "Export discipline beats local data (exports)",
        "section on export discipline and local data",
        ("export_discipline", "local_discretion"),
        "export_discipline vs local_discretion",
        "strategic exports 2035, difference",
        "bn CNY",
        _macro_difference("strategic_exports", 2035, "export_discipline", "local_discretion"),
    ),
    Claim(
        "C6a",
        "Holding manufacturing up keeps its share up",
        "section on the modernised industrial base",
        ("keep_manufacturing", "let_it_decline"),
        "keep_manufacturing vs let_it_decline",
        "manufacturing share of GDP 2035, difference",
        "share of GDP",
        _macro_difference("manufacturing_share", 2035, "keep_manufacturing", "let_it_decline"),
    ),
    Claim(
        "C6b",
        "Holding manufacturing up raises debt",
        "section on the modernised industrial base (debt ballooned)",
        ("keep_manufacturing", "let_it_decline"),
        "keep_manufacturing vs let_it_decline",
        "debt/GDP 2035, difference",
        "ratio to GDP",
        _macro_difference("debt_to_gdp", 2035, "keep_manufacturing", "let_it_decline"),
    ),
    Claim(
        "C7a",
        "Export controls slow catch-up",
        "opening section (2022 and 2023 controls)",
        ("baseline", "no_controls"),
        "baseline (controls) vs no_controls, controlled technologies",
        "relative capability 2035, no controls minus controls",
        "relative capability",
        _c7("relative_capability", 2035, -1.0),
    ),
    Claim(
        "C7b",
        "Export controls hand the home market to Chinese firms",
        "sections on self-reliance and foreign firms in a controlled setting",
        ("baseline", "no_controls"),
        "baseline (controls) vs no_controls, controlled technologies",
        "Chinese domestic share 2035, controls minus no controls",
        "share",
        _c7("china_domestic_share", 2035, 1.0),
    ),
    Claim(
        "C7c",
        "Export controls cost foreign firms sales",
        "opening section (the cost of controls)",
        ("baseline", "no_controls"),
        "baseline (controls) vs no_controls, controlled technologies",
        "foreign sales in China + exports 2025–2050, no controls minus controls",
        "bn CNY",
        _c7_foreign_losses,
    ),
    Claim(
        "C8a",
        "Centralisation reduces misallocation",
        "section on restricting local discretion",
        ("centralised", "decentralised"),
        "χ = 0.8 vs χ = 0.2",
        "allocation quality: corr(support, capability), mean over years, 0.8 minus 0.2",
        "correlation",
        lambda w: float(
            w["centralised"][1]["allocation_quality"].iloc[1:].mean()
            - w["decentralised"][1]["allocation_quality"].iloc[1:].mean()
        ),
    ),
    Claim(
        "C8b",
        "Centralisation loses local experimentation (entry)",
        "section on local experimentation and pilots",
        ("centralised", "decentralised"),
        "χ = 0.8 vs χ = 0.2",
        "firm entries 2025–2050, 0.2 minus 0.8",
        "firms",
        lambda w: float(w["decentralised"][1]["entries"].sum() - w["centralised"][1]["entries"].sum()),
    ),
    Claim(
        "C8c",
        "Centralisation loses local experimentation (entrepreneurial areas)",
        "section on local experimentation and pilots",
        ("centralised", "decentralised"),
        "χ = 0.8 vs χ = 0.2, technologies with ρ ≥ 0.6",
        "mean capability gain 2024–2035, 0.2 minus 0.8",
        "log capability",
        lambda w: (
            capability_gain(w["decentralised"][0], entrepreneurial(), 2035)
            - capability_gain(w["centralised"][0], entrepreneurial(), 2035)
        ),
    ),
)


def claims_by_id() -> dict[str, Claim]:
    return {c.id: c for c in CLAIMS}


# ---------------------------------------------------------------------------------------
# evaluation


@dataclass(frozen=True)
class Verdict:
    """The outcome of one claim."""

    claim: Claim
    effect: float
    low: float
    high: float
    seeds: int
    verdict: str
    robustness: float  # share of sampled worlds in which the mean effect is positive (NaN if none)
    worlds: int

    def row(self) -> dict[str, Any]:
        c = self.claim
        return {
            "id": c.id,
            "claim": c.statement,
            "comparison": c.comparison,
            "metric": c.metric,
            "unit": c.unit,
            "effect": self.effect,
            "low": self.low,
            "high": self.high,
            "seeds": self.seeds,
            "verdict": self.verdict,
            "robustness": self.robustness,
            "worlds": self.worlds,
            "brief": c.brief,
        }


def interval(values: np.ndarray, level: float) -> tuple[float, float, float]:
    """Mean and Student-t ``level`` interval of ``values`` (NaNs dropped)."""
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


def verdict_of(low: float, high: float) -> str:
    """``holds`` / ``does not hold`` / ``inconclusive`` from an interval of a signed effect."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
    if low > 0:
        return "holds"
    if high <= 0:
        return "does not hold"
    return "inconclusive"


def effects(claim: Claim, worlds: Mapping[Any, World]) -> dict[Any, float]:
    """The claim's effect in every world that has all its arms."""
    return {key: float(claim.effect(world)) for key, world in worlds.items() if all(a in world for a in claim.arms)}


def evaluate(
    claims: tuple[Claim, ...],
    default_worlds: Mapping[Any, World],
    sampled_worlds: Mapping[tuple[int, int], World] | None = None,
    level: float = 0.9,
) -> list[Verdict]:
    """Verdicts: the interval over ``default_worlds`` (one per seed) and the share of sampled
    assumption points (keys ``(point, replicate)``) where the mean effect is positive."""
    out = []
    for claim in claims:
        per_seed = np.array(list(effects(claim, default_worlds).values()), dtype=float)
        mean, low, high = interval(per_seed, level)
        share, points = float("nan"), 0
        if sampled_worlds:
            by_point: dict[int, list[float]] = {}
            for (point, _), value in effects(claim, sampled_worlds).items():
                by_point.setdefault(point, []).append(value)
            means = np.array([np.nanmean(v) for v in by_point.values()], dtype=float)
            means = means[np.isfinite(means)]
            points = len(means)
            share = float(np.mean(means > 0)) if points else float("nan")
        out.append(
            Verdict(claim, mean, low, high, int(np.isfinite(per_seed).sum()), verdict_of(low, high), share, points)
        )
    return out


def point_holds(claim: Claim, sampled_worlds: Mapping[tuple[int, int], World]) -> pd.Series:
    """Per sampled assumption point: does the mean effect over its seeds favour the claim?"""
    by_point: dict[int, list[float]] = {}
    for (point, _), value in effects(claim, sampled_worlds).items():
        by_point.setdefault(point, []).append(value)
    return pd.Series({p: bool(np.nanmean(v) > 0) for p, v in sorted(by_point.items())}, name=claim.id)


# ---------------------------------------------------------------------------------------
# running the experiments


@dataclass(frozen=True)
class ClaimsSettings:
    """How much to run."""

    seeds: int = 30
    robustness: int = 20
    robustness_seeds: int = 2
    firms: int = 20_000
    end_year: int = 2050
    root_seed: int = 2024
    level: float = 0.9

    @classmethod
    def quick(cls) -> ClaimsSettings:
        return cls(seeds=8, robustness=8, robustness_seeds=1, firms=5_000)


def write_derived_arms(directory: Path) -> list[Path]:
    """Scenario files for the arms that are the baseline with one lever changed."""
    import yaml

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, spec in DERIVED_ARMS.items():
        path = directory / f"{name}.yaml"
        content = {
            "base": "baseline",
            "name": name,
            "description": spec["description"],
            "claim": "C8 (centralisation)",
            "levers": spec["levers"],
        }
        path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def arms_for(claims: tuple[Claim, ...]) -> list[str]:
    return list(dict.fromkeys(arm for claim in claims for arm in claim.arms))


def designs(settings: ClaimsSettings, arms: list[str], scenario_dir: Path) -> list[Any]:
    """The default-assumption design and (if requested) the robustness design."""
    from nswn.experiments.design import design_from_dict

    refs = [arm if arm in SHIPPED_ARMS else f"{arm}.yaml" for arm in arms]
    common = {
        "scenarios": refs,
        "root_seed": settings.root_seed,
        "firms": settings.firms,
        "years": {"end": settings.end_year},
    }
    out = [
        design_from_dict(
            {**common, "name": "claims-default", "seeds": settings.seeds}, source="nswn claims", base_dir=scenario_dir
        )
    ]
    if settings.robustness > 0:
        sampled = {
            "sampler": "latin_hypercube",
            "samples": settings.robustness,
            "parameters": {path: {"range": list(bounds)} for path, bounds in UNCERTAINTIES.items()},
        }
        out.append(
            design_from_dict(
                {**common, "name": "claims-robustness", "seeds": settings.robustness_seeds, "uncertainties": sampled},
                source="nswn claims",
                base_dir=scenario_dir,
            )
        )
    return out


def load_worlds(store: Any, design: Any) -> dict[tuple[int, int], dict[str, Tables]]:
    """Tables of a design's runs grouped by world ``(uncertainty point, replicate)`` and arm."""
    plan = store.design_runs(design.design_hash)
    tech = store.query(
        "SELECT t.* FROM technology_year t JOIN design_runs d ON t.run_id = d.run_id WHERE d.design_hash = ?",
        [design.design_hash],
    )
    macro = store.query(
        "SELECT m.* FROM macro_year m JOIN design_runs d ON m.run_id = d.run_id WHERE d.design_hash = ?",
        [design.design_hash],
    )
    tech_by_run = {k: v.sort_values(["year", "technology_id"]) for k, v in tech.groupby("run_id")}
    macro_by_run = {k: v.sort_values("year") for k, v in macro.groupby("run_id")}
    worlds: dict[tuple[int, int], dict[str, Tables]] = {}
    for row in plan.itertuples():
        if row.run_id in tech_by_run:
            key = (int(row.uncertainty_point), int(row.replicate))
            worlds.setdefault(key, {})[row.scenario_name] = (tech_by_run[row.run_id], macro_by_run[row.run_id])
    return worlds


def sampled_points(design: Any) -> pd.DataFrame:
    """The robustness design's sampled assumption values, one row per point."""
    points = [dict(p) for p in design.uncertainties.points]
    return pd.DataFrame(points)


@dataclass
class ClaimsReport:
    """Everything ``nswn claims`` produces."""

    settings: ClaimsSettings
    verdicts: list[Verdict]
    points: pd.DataFrame  # sampled assumption values per robustness point
    holds_by_point: pd.DataFrame  # point × claim → bool
    runs: int
    runner: str

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([v.row() for v in self.verdicts])


def run_claims(
    settings: ClaimsSettings,
    out: str | Path,
    runner: str = "processes",
    workers: int | None = None,
    claim_ids: tuple[str, ...] | None = None,
    progress: Callable[[Any], None] | None = None,
    **runner_options: Any,
) -> ClaimsReport:
    """Run (or resume) the claims experiments into the results store ``out`` and evaluate them."""
    from nswn.experiments.sweep import sweep
    from nswn.storage.store import ResultsStore

    chosen = CLAIMS if not claim_ids else tuple(c for c in CLAIMS if c.id in claim_ids)
    store = ResultsStore(out)
    scenario_dir = store.directory / "claims-scenarios"
    write_derived_arms(scenario_dir)
    planned = designs(settings, arms_for(chosen), scenario_dir)
    done = 0
    for design in planned:
        report = sweep(design, store, runner, workers=workers, progress=progress, **runner_options)
        if report.failures:
            raise RuntimeError(f"{len(report.failures)} runs failed, e.g. {report.failures[0].message}")
        done += report.planned
    default = load_worlds(store, planned[0])
    default_worlds = {replicate: arms for (_, replicate), arms in default.items()}
    sampled = load_worlds(store, planned[1]) if len(planned) > 1 else {}
    verdicts = evaluate(chosen, default_worlds, sampled, settings.level)
    points = sampled_points(planned[1]) if len(planned) > 1 else pd.DataFrame()
    holds = pd.concat([point_holds(c, sampled) for c in chosen], axis=1) if sampled else pd.DataFrame()
    result = ClaimsReport(settings, verdicts, points, holds, done, runner)
    save_claims_table(store, result)
    return result


def save_claims_table(store: Any, report: ClaimsReport) -> None:
    """Keep the verdicts in the store (table ``claims``) for the report and later reading."""
    import duckdb

    frame = report.table().drop(columns=["brief"])
    frame["seeds_per_arm"] = report.settings.seeds
    frame["firms"] = report.settings.firms
    con = duckdb.connect(str(store.path))
    try:
        con.register("claims_frame", frame)
        con.execute("CREATE OR REPLACE TABLE claims AS SELECT * FROM claims_frame")
    finally:
        con.close()


# ---------------------------------------------------------------------------------------
# scenario discovery: where in the space of assumptions does a claim fail? (PRIM)


@dataclass(frozen=True)
class Box:
    """A PRIM box: ranges of the restricted assumptions, and how well it captures failures."""

    limits: dict[str, tuple[float, float]]
    coverage: float  # share of all failing points inside the box
    density: float  # share of points inside the box that fail
    mass: float  # share of all points inside the box


def prim(
    x: pd.DataFrame, y: np.ndarray, alpha: float = 0.1, min_mass: float = 0.1, threshold: float = 0.8
) -> list[Box]:
    """Patient Rule Induction Method (Friedman and Fisher 1999): peel a box around ``y == 1``.

    Repeatedly removes the ``alpha`` share of the remaining points at one end of one
    assumption, choosing the peel that raises the density of ``y`` most, until the box holds
    less than ``min_mass`` of the points. Returns the peeling trajectory (first box = all
    points); :func:`best_box` picks from it.
    """
    y = np.asarray(y, dtype=float)
    inside = np.ones(len(y), dtype=bool)
    total = max(y.sum(), 1e-12)
    limits = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}
    trajectory = [Box(dict(limits), float(y[inside].sum() / total), float(y[inside].mean()) if len(y) else 0.0, 1.0)]
    while inside.mean() > min_mass:
        best: tuple[float, str, str, float] | None = None
        for column in x.columns:
            values = x[column].to_numpy()[inside]
            if len(np.unique(values)) < 2:
                continue
            for side, cut in (("low", np.quantile(values, alpha)), ("high", np.quantile(values, 1 - alpha))):
                keep = inside & ((x[column].to_numpy() > cut) if side == "low" else (x[column].to_numpy() < cut))
                if keep.sum() == 0 or keep.sum() == inside.sum():
                    continue
                density = float(y[keep].mean())
                if best is None or density > best[0]:
                    best = (density, column, side, float(cut))
        if best is None:
            break
        density, column, side, cut = best
        values = x[column].to_numpy()
        inside &= (values > cut) if side == "low" else (values < cut)
        low, high = limits[column]
        limits[column] = (cut, high) if side == "low" else (low, cut)
        trajectory.append(Box(dict(limits), float(y[inside].sum() / total), density, float(inside.mean())))
    return trajectory


def best_box(trajectory: list[Box], threshold: float = 0.8) -> Box:
    """The box with the most coverage among those at least ``threshold`` dense (else the densest)."""
    dense = [b for b in trajectory if b.density >= threshold]
    if dense:
        return max(dense, key=lambda b: (b.coverage, b.density))
    return max(trajectory, key=lambda b: (b.density, b.coverage))


MIN_FAILURES = 3  # fewer failing worlds than this are reported as isolated, not boxed
MIN_DENSITY = 0.8  # a box is reported only if at least this share of its worlds fail


def discover(report: ClaimsReport, claim_id: str) -> tuple[Box, pd.DataFrame] | None:
    """Scenario discovery for one claim: the box of assumptions where it fails.

    Returns ``None`` when the claim never fails, when it fails in fewer than
    :data:`MIN_FAILURES` sampled worlds (isolated failures, nothing to box), or when no box
    is at least :data:`MIN_DENSITY` dense.
    """
    if report.holds_by_point.empty or claim_id not in report.holds_by_point:
        return None
    holds = report.holds_by_point[claim_id].dropna()
    x = report.points.loc[holds.index]
    fails = (~holds.astype(bool)).to_numpy().astype(float)
    if fails.sum() < MIN_FAILURES:
        return None
    trajectory = prim(x, fails)
    box = best_box(trajectory, MIN_DENSITY)
    if box.density < MIN_DENSITY:
        return None
    full = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}
    restricted = {c: lim for c, lim in box.limits.items() if lim != full[c]}
    rows = pd.DataFrame(
        [
            {"assumption": c, "low": lo, "high": hi, "full_low": full[c][0], "full_high": full[c][1]}
            for c, (lo, hi) in restricted.items()
        ]
    )
    return Box(restricted, box.coverage, box.density, box.mass), rows


# ---------------------------------------------------------------------------------------
# output


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.01 or value == 0:
        return f"{value:.3f}"
    return f"{value:.2e}"


def markdown(report: ClaimsReport, command: str) -> str:
    """The claims table as markdown (used for docs/claims.md)."""
    s = report.settings
    lines = [
        f"Produced by `{command}`: {s.seeds} paired seeds per arm at default assumptions, "
        f"{report.points.shape[0] if not report.points.empty else 0} Latin-hypercube samples of the uncertain "
        f"assumptions × {s.robustness_seeds} seed(s), {s.firms:,} firms, {2024}–{s.end_year}, "
        f"{int(s.level * 100)} % intervals; {report.runs} runs.",
        "",
        "| claim | comparison | metric (positive = as the brief says) | effect | 90 % interval | verdict | "
        "holds in share of sampled worlds |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in report.verdicts:
        c = v.claim
        share = "—" if not np.isfinite(v.robustness) else f"{v.robustness:.0%} of {v.worlds}"
        lines.append(
            f"| **{c.id}** {c.statement} | {c.comparison} | {c.metric} ({c.unit}) | {_fmt(v.effect)} | "
            f"[{_fmt(v.low)}, {_fmt(v.high)}] | **{v.verdict}** | {share} |"
        )
    return "\n".join(lines) + "\n"
