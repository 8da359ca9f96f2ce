"""Running the claims' experiments: designs, the results store, and the report.

The default design runs every arm of the chosen claims and their knockout arms on the same
seeds (common random numbers); the robustness design runs the main arms (not the knockouts)
over a Latin-hypercube sample of the uncertain assumptions. Runs already in the store are
reused, so an interrupted ``nswn claims`` resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from nswn.experiments.claims.arms import is_shipped, write_arm_scenarios
from nswn.experiments.claims.definitions import CLAIMS, Claim, Tables
from nswn.experiments.claims.statistics import Verdict, evaluate, point_holds
from nswn.scenario.build import real_population

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


@dataclass(frozen=True)
class ClaimsSettings:
    """How much to run."""

    seeds: int = 30
    robustness: int = 20
    robustness_seeds: int = 2
    # agents per run: the whole real firm population, the converged default of every shell
    firms: int = field(default_factory=real_population)
    end_year: int = 2050
    root_seed: int = 2024
    level: float = 0.9
    # plausible worlds of the robustness design: "judged" (a Latin hypercube over UNCERTAINTIES)
    # or "calibrated" (the assumptions `nswn calibrate --history` inferred drawn from its
    # posterior, the rest of UNCERTAINTIES over their judged ranges)
    worlds: str = "judged"
    posterior: str = ""  # a posterior file or results directory; empty: the shipped posterior

    @classmethod
    def quick(cls) -> ClaimsSettings:
        return cls(seeds=8, robustness=8, robustness_seeds=1)


def default_worlds() -> tuple[str, str]:
    """``("calibrated", why)`` when a posterior is shipped, was made with the installed model and
    at the default resolution (the whole real firm population), else ``("judged", why)``."""
    from nswn.experiments import posterior

    found = posterior.shipped()
    if found is None:
        return "judged", "no calibrated posterior is shipped"
    if found.stale():
        return "judged", f"the shipped {found.describe()} was made with another model; regenerate it"
    if found.provenance.get("firms") is not None:
        return "judged", (
            f"the shipped {found.describe()} is indicative (a coarser resolution); --worlds calibrated uses it anyway"
        )
    return "calibrated", f"the shipped {found.describe()}"


def arms_for(claims: tuple[Claim, ...]) -> list[str]:
    """The main arms of ``claims``, in order of first use."""
    return list(dict.fromkeys(arm for claim in claims for arm in claim.arms))


def knockout_arms_for(claims: tuple[Claim, ...]) -> list[str]:
    """The knockout arms of ``claims`` that are not already main arms."""
    main = set(arms_for(claims))
    return [a for a in dict.fromkeys(a for c in claims for a in c.knockout_arms()) if a not in main]


def designs(
    settings: ClaimsSettings, arms: list[str], scenario_dir: Path, knockout_arms: list[str] | None = None
) -> list[Any]:
    """The default-assumption design (main and knockout arms) and, if requested, the
    robustness design (main arms only)."""
    from nswn.experiments.design import design_from_dict

    def refs(names: list[str]) -> list[str]:
        return [name if is_shipped(name) else f"{name}.yaml" for name in names]

    common = {"root_seed": settings.root_seed, "firms": settings.firms, "years": {"end": settings.end_year}}
    out = [
        design_from_dict(
            {
                **common,
                "scenarios": refs(arms + list(knockout_arms or [])),
                "name": "claims-default",
                "seeds": settings.seeds,
            },
            source="nswn claims",
            base_dir=scenario_dir,
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
                {
                    **common,
                    "scenarios": refs(arms),
                    "name": "claims-robustness",
                    "seeds": settings.robustness_seeds,
                    "uncertainties": sampled,
                    **(
                        {"worlds": "calibrated", **({"posterior": settings.posterior} if settings.posterior else {})}
                        if settings.worlds == "calibrated"
                        else {}
                    ),
                },
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
    main, knockout = arms_for(chosen), knockout_arms_for(chosen)
    write_arm_scenarios(main + knockout, scenario_dir)
    planned = designs(settings, main, scenario_dir, knockout)
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
