"""The de-risking frontier: multi-objective search over export-control designs (``nswn derisk``).

Question. For a design of foreign export controls (which technologies, how high a fence, when
announced and when binding, how many allies follow, for how long), how many years of delay in
China's catch-up does it buy, what does it cost foreign firms in lost sales in China, and how
much does it push Chinese substitution? The frontier of designs no other design beats on all
of these at once is what :func:`search` finds.

Objectives (per seed, the design arm against the reference arm without controls run with the
same seed; then a quantile over seeds, :func:`robust`):

* ``delay`` (maximised) — years to parity summed over the design's yard (every technology with
  a fence in any year, the base scenario's batches included): ``Σ_t (P^D_t − P^R_t)``, where
  ``P_t`` is the first year at parity and a technology that has not reached parity by the
  horizon counts as ``horizon + 1`` (censored: a lower bound on the delay);
* ``lost_sales`` (minimised) — foreign firms' sales in China, reference minus design, summed
  over every technology and the years after the start up to the horizon (bn CNY, 2024 prices);
* ``share_gain`` (minimised) — Chinese firms' domestic share in the horizon year, design minus
  reference, summed over the yard (percentage points × technologies);
* ``gdp_cost`` (minimised, optional) — China's GDP, reference minus design, summed over the
  years up to the horizon (bn CNY).

Method. NSGA-II (Deb et al. 2002) from pymoo (Blank and Deb 2020) searches the design space
scaled to [0, 1]; each candidate is decoded into one extra control batch added to the base
scenario, run for every seed through the ensemble runners (:mod:`nswn.experiments.sweep`, so
runs execute in processes or on Dask and are stored as they finish). A run's id depends only
on its scenario and seed, so a design evaluated before — in this search or an interrupted one —
is read back from the results store, never run again. The Pareto set is taken over every
design evaluated (the archive), not only the last population.

References
----------
Deb, K., Pratap, A., Agarwal, S. and Meyarivan, T. (2002). A fast and elitist multiobjective
genetic algorithm: NSGA-II. IEEE Transactions on Evolutionary Computation 6(2), 182–197.
Blank, J. and Deb, K. (2020). pymoo: Multi-objective optimization in Python. IEEE Access 8,
89497–89509.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nswn.analysis.derisk_space import DeriskDesign, Dimension

# objective → (sense, column label, unit); sense +1 maximised, −1 minimised
OBJECTIVE_INFO: dict[str, tuple[int, str, str]] = {
    "delay": (+1, "delay to parity, summed over the yard", "years"),
    "lost_sales": (-1, "foreign sales in China lost, cumulative", "bn CNY"),
    "share_gain": (-1, "Chinese domestic share gain on the yard", "pt × technologies"),
    "gdp_cost": (-1, "China's GDP lost, cumulative", "bn CNY"),
}
TECH_COLUMNS = ("run_id", "technology_id", "year", "first_parity_year", "foreign_china_sales", "china_domestic_share")
INTERVAL = (0.05, 0.95)
PARETO_TABLE = "derisk_pareto"
EVALUATIONS_TABLE = "derisk_evaluations"


# ---------------------------------------------------------------------------------------
# objectives on tables


def yard_of(tech: pd.DataFrame) -> tuple[str, ...]:
    """Technologies with a fence in any year of a run (its yard)."""
    return tuple(sorted(set(tech.loc[tech["fence_height"] > 0, "technology_id"])))


def _parity_year(tech: pd.DataFrame, horizon: int) -> pd.Series:
    first = tech.groupby("technology_id")["first_parity_year"].first()
    return first.where(first <= horizon).fillna(horizon + 1)


def objectives_of(
    design: tuple[pd.DataFrame, pd.DataFrame],
    reference: tuple[pd.DataFrame, pd.DataFrame],
    yard: tuple[str, ...],
    horizon: int,
) -> dict[str, float]:
    """The four objectives of one seed: design tables against the reference tables (same seed).

    Parameters
    ----------
    design, reference
        ``(technology_year, macro_year)`` of the design arm and the no-controls arm.
    yard
        The design's controlled technologies (:func:`yard_of`).
    horizon
        Last year counted (inclusive).

    Returns
    -------
    dict
        ``delay`` (years), ``lost_sales`` (bn CNY), ``share_gain`` (percentage points summed over
        the yard), ``gdp_cost`` (bn CNY), ``yard_size``.
    """
    tech_d, macro_d = design
    tech_r, macro_r = reference
    start = int(tech_r["year"].min())
    ids = list(yard)
    p_d = _parity_year(tech_d[tech_d["year"] <= horizon], horizon)
    p_r = _parity_year(tech_r[tech_r["year"] <= horizon], horizon)
    delay = float((p_d.reindex(ids) - p_r.reindex(ids)).sum()) if ids else 0.0

    def window(t: pd.DataFrame) -> pd.DataFrame:
        return t[(t["year"] > start) & (t["year"] <= horizon)]

    lost = float(window(tech_r)["foreign_china_sales"].sum() - window(tech_d)["foreign_china_sales"].sum())

    def share_at(t: pd.DataFrame) -> pd.Series:
        last = min(horizon, int(t["year"].max()))
        return t[t["year"] == last].set_index("technology_id")["china_domestic_share"]

    gain = float((share_at(tech_d).reindex(ids) - share_at(tech_r).reindex(ids)).sum() * 100.0) if ids else 0.0
    gdp = float(window(macro_r)["gdp"].sum() - window(macro_d)["gdp"].sum())
    return {"delay": delay, "lost_sales": lost, "share_gain": gain, "gdp_cost": gdp, "yard_size": float(len(ids))}


def robust(values: np.ndarray, objective: str, quantile: float) -> float:
    """The robust value over seeds: the ``quantile`` on the unfavourable side.

    ``quantile`` 0.5 is the median; a lower one is more cautious: for a maximised objective the
    ``quantile``-quantile, for a minimised one the ``(1 − quantile)``-quantile.
    """
    sense = OBJECTIVE_INFO[objective][0]
    q = quantile if sense > 0 else 1.0 - quantile
    return float(np.quantile(np.asarray(values, dtype=float), q))


def to_minimise(row: dict[str, float], objectives: tuple[str, ...]) -> np.ndarray:
    """Objective values as pymoo minimises them (maximised ones negated)."""
    return np.array([-OBJECTIVE_INFO[o][0] * row[o] for o in objectives])


def non_dominated(f: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``f`` (minimised objectives) that no other row dominates."""
    f = np.asarray(f, dtype=float)
    keep = []
    for i in range(len(f)):
        dominated = np.any(np.all(f <= f[i], axis=1) & np.any(f < f[i], axis=1))
        if not dominated:
            keep.append(i)
    return np.array(keep, dtype=int)


# ---------------------------------------------------------------------------------------
# designs → scenarios


@dataclass(frozen=True)
class ControlDesign:
    """One decoded design: the extra control batch (or none when the yard is empty)."""

    technologies: tuple[str, ...]
    units: tuple[str, ...]
    fence: tuple[float, ...]
    announcement_year: int
    effective_year: int
    coverage: float
    duration: int | None

    @property
    def key(self) -> str:
        """A stable id of the design (16 hex digits)."""
        text = json.dumps(self.batches(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def batches(self) -> list[dict[str, Any]]:
        """The scenario batches of this design: one per distinct fence height."""
        by_height: dict[float, list[str]] = {}
        for tech, height in zip(self.technologies, self.fence, strict=True):
            by_height.setdefault(height, []).append(tech)
        out = []
        for height, techs in sorted(by_height.items()):
            batch: dict[str, Any] = {
                "technologies": sorted(techs),
                "year": self.effective_year,
                "fence_height": height,
                "coverage": self.coverage,
                "duration": self.duration,
            }
            if self.announcement_year < self.effective_year:
                batch["announced"] = self.announcement_year
            out.append(batch)
        return out

    def describe(self) -> str:
        """The design in words."""
        if not self.technologies:
            return "no batch beyond the base scenario's"
        heights = sorted(set(self.fence))
        fence = f"fence {heights[0]:.2f}" if len(heights) == 1 else f"fences {heights[0]:.2f}–{heights[-1]:.2f}"
        when = (
            f"announced {self.announcement_year}, binding {self.effective_year}"
            if self.effective_year > self.announcement_year
            else f"from {self.effective_year}"
        )
        lapse = f"for {self.duration} years" if self.duration is not None else "with no expiry"
        return (
            f"{len(self.technologies)} technolog{'y' if len(self.technologies) == 1 else 'ies'} "
            f"({', '.join(self.units)}), {fence}, {when}, "
            f"{self.coverage:.0%} allied coverage, {lapse}"
        )


def decode(x: np.ndarray, design: DeriskDesign) -> ControlDesign:
    """Turn a point of [0, 1]^n into a control design (see :meth:`ControlsSpace.variables`)."""
    space = design.space
    values = iter(np.asarray(x, dtype=float))
    included = [u for u in space.units if next(values) > 0.5]
    per_unit: dict[str, float] = {}
    if space.fence.searched and space.fence_per == "technology":
        heights = {u.label: float(space.fence.decode(next(values)) or 0.0) for u in space.units}
        per_unit = {u.label: heights[u.label] for u in included}
        yard_fence: float | None = None
    else:
        yard_fence = float(space.fence.decode(next(values)) if space.fence.searched else space.fence.decode(0.0) or 0.0)

    def take(d: Dimension) -> Any:
        return d.decode(next(values)) if d.searched else d.decode(0.0)

    announce = int(take(space.announcement_year))
    lag = int(take(space.effective_lag))
    coverage = float(take(space.coverage))
    duration = take(space.duration)
    techs: dict[str, float] = {}
    for unit in included:
        height = yard_fence if yard_fence is not None else per_unit[unit.label]
        for tech in unit.technologies:
            techs[tech] = max(techs.get(tech, 0.0), height)
    ordered = sorted(techs)
    return ControlDesign(
        technologies=tuple(ordered),
        units=tuple(u.label for u in included),
        fence=tuple(techs[t] for t in ordered),
        announcement_year=announce,
        effective_year=announce + lag,
        coverage=coverage,
        duration=None if duration is None else int(duration),
    )


def yard_size(x: np.ndarray, design: DeriskDesign) -> int:
    """How many technologies a point puts in the new batch (the constraint's left side)."""
    return len(decode(x, design).technologies)


# ---------------------------------------------------------------------------------------
# evaluation through the ensemble runners


@dataclass
class Evaluator:
    """Runs designs for every seed through a runner, stores the runs, returns robust objectives.

    Designs already evaluated (in memory, or whose runs the store holds) are not run again.
    """

    design: DeriskDesign
    out: Path
    runner: Any
    progress: Callable[[int], None] | None = None
    cache: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs_done: int = 0
    runs_reused: int = 0

    def __post_init__(self) -> None:
        from nswn.scenario import io
        from nswn.storage.store import ResultsStore

        self.store = ResultsStore(self.out)
        self._base = self._sized(io.load(self.design.base))
        self._reference_tables: list[tuple[pd.DataFrame, pd.DataFrame]] | None = None

    def _sized(self, scenario: Any) -> Any:
        from nswn.scenario import io

        data = scenario.model_dump(mode="json")
        if self.design.firms is not None:
            data["firms"] = self.design.firms
        if self.design.institutions is not None:
            data["institutions"] = self.design.institutions
        data["years"]["end"] = max(self.design.horizon, data["years"]["start"] + 1)
        return io.validate(data, f"{self.design.source} (run size)")

    def scenario_for(self, control: ControlDesign) -> Any:
        """The base scenario with the design's batch added (validated)."""
        from nswn.scenario import io

        data = self._base.model_dump(mode="json")
        data["name"] = "derisk"
        data["levers"]["export_controls"]["batches"] = list(data["levers"]["export_controls"]["batches"]) + (
            control.batches()
        )
        return io.validate(data, f"{self.design.source} (design {control.key})")

    def _specs(self, label: str, scenario: Any) -> list[Any]:
        from nswn import __version__
        from nswn.api import run_id_for
        from nswn.experiments.design import RunSpec
        from nswn.scenario import io

        digest = io.scenario_hash(scenario)
        text = scenario.model_dump_json()
        return [
            RunSpec(
                run_id=run_id_for(scenario.name, digest, seed),
                arm=label,
                scenario_name=scenario.name,
                scenario_hash=digest,
                seed=seed,
                replicate=r,
                lever_point=0,
                uncertainty_point=0,
                overrides=(),
                scenario_json=text,
                version=__version__,
            )
            for r, seed in enumerate(self.design.seeds)
        ]

    def _run(self, specs: list[Any], label: str) -> None:
        """Run and store the specs not yet in the store (one sweep, its plan recorded too)."""
        from nswn.experiments.design import Design
        from nswn.experiments.sampling import Block
        from nswn.experiments.sweep import sweep

        finished = self.store.finished_run_ids()
        todo = [s for s in specs if s.run_id not in finished]
        self.runs_reused += len(specs) - len(todo)
        if self.progress is not None and len(specs) > len(todo):
            self.progress(len(specs) - len(todo))
        if not todo:
            return
        digest = hashlib.sha256(",".join(sorted(s.run_id for s in specs)).encode()).hexdigest()[:16]
        plan = Design(
            name=f"{self.design.name}:{label}",
            description=f"nswn derisk evaluations ({label})",
            source=self.design.source,
            design_hash=digest,
            root_seed=self.design.root_seed,
            seeds=self.design.seeds,
            scenarios=tuple(dict.fromkeys((s.scenario_name, s.scenario_hash) for s in specs)),
            levers=Block("levers"),
            uncertainties=Block("uncertainties"),
            runs=tuple(specs),
        )
        seen = [0]

        def tick(p: Any) -> None:
            if self.progress is not None:
                self.progress(p.done - seen[0])
            seen[0] = p.done

        report = sweep(plan, self.store, self.runner, progress=tick)
        self.runs_done += report.completed
        if report.failures:
            first = report.failures[0]
            raise RuntimeError(
                f"{len(report.failures)} run(s) failed, e.g. {first.arm} seed {first.seed}: {first.message}"
            )

    def _tables(self, run_ids: list[str]) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
        cols = ", ".join(TECH_COLUMNS + ("fence_height",))
        tech = self.store.query(f"SELECT {cols} FROM technology_year WHERE list_contains(?, run_id)", [run_ids])
        macro = self.store.query("SELECT run_id, year, gdp FROM macro_year WHERE list_contains(?, run_id)", [run_ids])
        return {
            rid: (tech[tech["run_id"] == rid].sort_values(["year", "technology_id"]), macro[macro["run_id"] == rid])
            for rid in run_ids
        }

    def reference(self) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
        """Tables of the reference (no-controls) arm, one per seed."""
        if self._reference_tables is None:
            from nswn.scenario import io

            scenario = self._sized(io.load(self.design.reference))
            specs = self._specs("reference", scenario)
            self._run(specs, "reference")
            tables = self._tables([s.run_id for s in specs])
            self._reference_tables = [tables[s.run_id] for s in specs]
        return self._reference_tables

    def evaluate_scenarios(self, items: list[tuple[str, Any]], label: str) -> list[dict[str, Any]]:
        """Objectives (per seed and robust) of ``(key, scenario)`` pairs, run in one sweep."""
        reference = self.reference()
        wanted = [(key, scenario) for key, scenario in items if key not in self.cache]
        specs_of = {key: self._specs(key, scenario) for key, scenario in dict(wanted).items()}
        all_specs = [s for specs in specs_of.values() for s in specs]
        if all_specs:
            self._run(all_specs, label)
            tables = self._tables([s.run_id for s in all_specs])
            for key, specs in specs_of.items():
                per_seed = []
                for spec, ref in zip(specs, reference, strict=True):
                    tech, macro = tables[spec.run_id]
                    per_seed.append(objectives_of((tech, macro), ref, yard_of(tech), self.design.horizon))
                self.cache[key] = self._summarise(per_seed)
        return [self.cache[key] for key, _ in items]

    def _summarise(self, per_seed: list[dict[str, float]]) -> dict[str, Any]:
        row: dict[str, Any] = {"seeds": len(per_seed)}
        for objective in OBJECTIVE_INFO:
            values = np.array([s[objective] for s in per_seed])
            row[objective] = robust(values, objective, self.design.quantile)
            row[f"{objective}_low"] = float(np.quantile(values, INTERVAL[0]))
            row[f"{objective}_high"] = float(np.quantile(values, INTERVAL[1]))
        row["yard_size"] = per_seed[0]["yard_size"]
        return row


# ---------------------------------------------------------------------------------------
# the search


@dataclass
class SearchResult:
    """What a search found.

    Attributes
    ----------
    evaluations
        Every distinct design evaluated: parameters, robust objectives and 90 % intervals,
        ``feasible`` and ``pareto`` flags.
    pareto
        The feasible non-dominated designs of ``evaluations``.
    shipped
        The shipped scenarios' objectives (same seeds, run size and horizon).
    knees
        Knee designs of the frontier in words.
    dominance
        For each shipped scenario, the Pareto designs that dominate it and by how much.
    """

    evaluations: pd.DataFrame
    pareto: pd.DataFrame
    shipped: pd.DataFrame
    knees: list[dict[str, Any]]
    dominance: list[dict[str, Any]]
    runs_done: int
    runs_reused: int


def optimise(
    evaluate: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    n_var: int,
    n_obj: int,
    population: int,
    generations: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """NSGA-II (pymoo) over ``[0, 1]^n_var``, minimising, with one inequality constraint ``g ≤ 0``.

    Parameters
    ----------
    evaluate
        Maps a population (rows of ``x``) to ``(F, G)``: objectives to minimise (one column per
        objective) and the constraint values (one column; feasible when ≤ 0). Called once per
        generation with the whole population, so the caller can run it in parallel.
    n_var, n_obj
        Number of variables and objectives.
    population, generations
        NSGA-II's population size and number of generations.
    seed
        The optimiser's seed (same seed and same objective values ⇒ same search).

    Returns
    -------
    (X, F)
        The final population's non-dominated feasible points and their objectives.
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    class Wrapped(Problem):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(n_var=n_var, n_obj=n_obj, n_ieq_constr=1, xl=0.0, xu=1.0)

        def _evaluate(self, x: np.ndarray, out: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            out["F"], out["G"] = evaluate(x)

    algorithm = NSGA2(pop_size=population, eliminate_duplicates=True)
    res = minimize(Wrapped(), algorithm, ("n_gen", generations), seed=seed, verbose=False)
    if res.X is None:
        return np.empty((0, n_var)), np.empty((0, n_obj))
    return np.atleast_2d(res.X), np.atleast_2d(res.F)


def search(
    design: DeriskDesign,
    out: str | Path,
    runner: Any,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> SearchResult:
    """NSGA-II over the control design space; every evaluation runs through ``runner``.

    Parameters
    ----------
    design
        From :func:`nswn.analysis.derisk_space.load` (or its ``quick_version``).
    out
        Results directory: runs, the Pareto table and the evaluations are stored there.
    runner
        A runner from :func:`nswn.experiments.runners.make_runner` (left open).
    seed
        Seed of the optimiser (the model runs use the design's seeds).
    progress
        Called with the number of runs finished (or found in the store) since the last call.
    """
    evaluator = Evaluator(design, Path(out), runner, progress)
    archive: dict[str, dict[str, Any]] = {}
    objectives = design.objectives
    generation = [0]

    def evaluate(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        controls = [decode(row, design) for row in x]
        items = [(c.key, evaluator.scenario_for(c)) for c in controls]
        rows = evaluator.evaluate_scenarios(items, f"generation {generation[0]}")
        generation[0] += 1
        for c, r in zip(controls, rows, strict=True):
            archive.setdefault(c.key, {"control": c, **r})
        f = np.array([to_minimise(r, objectives) for r in rows])
        g = np.array([[len(c.technologies) - design.max_yard] for c in controls], dtype=float)
        return f, g

    optimise(evaluate, len(design.space.variables()), len(objectives), design.population, design.generations, seed)
    shipped = _shipped(design, evaluator)
    evaluations = _evaluation_frame(design, archive)
    feasible = evaluations[evaluations["feasible"]]
    f = np.array([to_minimise(r, objectives) for r in feasible.to_dict("records")])
    front = non_dominated(f) if len(f) else np.array([], dtype=int)
    evaluations["pareto"] = evaluations["design"].isin(feasible.iloc[front]["design"])
    pareto = evaluations[evaluations["pareto"]].sort_values(objectives[0], ascending=False).reset_index(drop=True)
    result = SearchResult(
        evaluations=evaluations,
        pareto=pareto,
        shipped=shipped,
        knees=knees(pareto, objectives),
        dominance=dominance(pareto, shipped, objectives),
        runs_done=evaluator.runs_done,
        runs_reused=evaluator.runs_reused,
    )
    store_result(evaluator.store, result)
    return result


def _shipped(design: DeriskDesign, evaluator: Evaluator) -> pd.DataFrame:
    from nswn.scenario import io

    items = [(f"shipped:{name}", evaluator._sized(io.load(name))) for name in (design.base, *design.shipped)]
    rows = evaluator.evaluate_scenarios(items, "shipped")
    frame = pd.DataFrame(rows)
    frame.insert(0, "scenario", [design.base, *design.shipped])
    return frame


def _evaluation_frame(design: DeriskDesign, archive: dict[str, dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for key in sorted(archive):
        entry = archive[key]
        c: ControlDesign = entry["control"]
        heights = sorted(set(c.fence))
        rows.append(
            {
                "design": key,
                "yard": ", ".join(c.units) if c.units else "(none)",
                "technologies": len(c.technologies),
                "fence_min": heights[0] if heights else float("nan"),
                "fence_max": heights[-1] if heights else float("nan"),
                "announced": c.announcement_year,
                "effective": c.effective_year,
                "coverage": c.coverage,
                "duration": c.duration,
                "feasible": len(c.technologies) <= design.max_yard,
                **{k: v for k, v in entry.items() if k != "control"},
                "description": c.describe(),
                "batches_json": json.dumps(c.batches(), sort_keys=True),
            }
        )
    return pd.DataFrame(rows)


def _normalised(frame: pd.DataFrame, objectives: tuple[str, ...], reference: pd.DataFrame) -> np.ndarray:
    f = np.array([to_minimise(r, objectives) for r in frame.to_dict("records")], dtype=float)
    r = np.array([to_minimise(x, objectives) for x in reference.to_dict("records")], dtype=float)
    low, high = r.min(axis=0), r.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return np.asarray((f - low) / span)


def knees(pareto: pd.DataFrame, objectives: tuple[str, ...], count: int = 3) -> list[dict[str, Any]]:
    """Knee designs: closest to the ideal point on objectives scaled to the front's range.

    The first is the overall knee; the others are the next closest designs that differ from
    the earlier knees in their yard (so the knees show different choices).
    """
    if pareto.empty:
        return []
    scaled = _normalised(pareto, objectives, pareto)
    distance = np.sqrt((scaled**2).sum(axis=1))
    out: list[dict[str, Any]] = []
    yards: set[str] = set()
    for i in np.argsort(distance, kind="stable"):
        row = pareto.iloc[int(i)]
        if row["yard"] in yards:
            continue
        yards.add(str(row["yard"]))
        out.append({"design": row["design"], "distance": float(distance[i]), "words": describe_row(row, objectives)})
        if len(out) == count:
            break
    return out


def describe_row(row: pd.Series, objectives: tuple[str, ...]) -> str:
    """A design and its robust objectives in a sentence."""
    parts = [f"{OBJECTIVE_INFO[o][1]} {row[o]:,.1f} {OBJECTIVE_INFO[o][2]}" for o in objectives]
    return f"{row['description']} — " + "; ".join(parts)


def dominance(pareto: pd.DataFrame, shipped: pd.DataFrame, objectives: tuple[str, ...]) -> list[dict[str, Any]]:
    """For each shipped scenario: how many Pareto designs dominate it, and the best margins.

    Margins are per objective, in the objective's own unit and favourable direction (more delay,
    fewer lost sales, less share gain), for the dominating design with the largest summed margin
    on scaled objectives.
    """
    out = []
    if pareto.empty:
        return [{"scenario": s, "dominated_by": 0} for s in shipped["scenario"]]
    f = np.array([to_minimise(r, objectives) for r in pareto.to_dict("records")])
    scaled = _normalised(pareto, objectives, pd.concat([pareto, shipped]))
    for j, ship in enumerate(shipped.to_dict("records")):
        s = to_minimise(ship, objectives)
        mask = np.all(f <= s, axis=1) & np.any(f < s, axis=1)
        entry: dict[str, Any] = {"scenario": ship["scenario"], "dominated_by": int(mask.sum())}
        if mask.any():
            s_scaled = _normalised(shipped.iloc[[j]], objectives, pd.concat([pareto, shipped]))[0]
            gains = (s_scaled - scaled).sum(axis=1)
            best = int(np.argmax(np.where(mask, gains, -np.inf)))
            entry["best"] = pareto.iloc[best]["design"]
            entry["best_words"] = str(pareto.iloc[best]["description"])
            entry["margins"] = {o: float(s[k] - f[best, k]) for k, o in enumerate(objectives)}
        out.append(entry)
    return out


def store_result(store: Any, result: SearchResult) -> None:
    """Write the evaluations and the Pareto table into the results database (replacing old ones)."""
    con = store._connect()
    try:
        con.execute("BEGIN TRANSACTION")
        for table, frame in (
            (EVALUATIONS_TABLE, result.evaluations),
            (PARETO_TABLE, result.pareto),
            ("derisk_shipped", result.shipped),
        ):
            con.register("frame_view", frame)
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM frame_view")
            con.unregister("frame_view")
        summary = pd.DataFrame(
            [{"kind": "knee", "payload": json.dumps(k, sort_keys=True)} for k in result.knees]
            + [{"kind": "dominance", "payload": json.dumps(d, sort_keys=True)} for d in result.dominance]
        )
        if summary.empty:
            summary = pd.DataFrame({"kind": pd.Series(dtype=str), "payload": pd.Series(dtype=str)})
        con.register("frame_view", summary)
        con.execute("CREATE OR REPLACE TABLE derisk_summary AS SELECT * FROM frame_view")
        con.unregister("frame_view")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()
