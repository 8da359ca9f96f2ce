"""The brief's claims C1–C8 as controlled experiments (model.md §10).

One concern per module:

* :mod:`~nswn.experiments.claims.metrics` — pure functions of one run's tables;
* :mod:`~nswn.experiments.claims.arms` — the arms (shipped scenarios, counterfactual
  overrides) and the knockouts that switch a mechanism off;
* :mod:`~nswn.experiments.claims.definitions` — the claims: mechanism, arms, metric,
  effect function, knockout, and the formula of a claim true by construction;
* :mod:`~nswn.experiments.claims.statistics` — intervals, verdicts, knockout results, robustness;
* :mod:`~nswn.experiments.claims.orchestration` — designs, the results store, the report;
* :mod:`~nswn.experiments.claims.discovery` — PRIM scenario discovery;
* :mod:`~nswn.experiments.claims.markdown` — docs/claims.md tables.

Nothing here is tuned to make a claim hold: arms, metrics, knockouts and the sampled ranges
are declared in code and in docs/claims.md, and a claim that fails is reported as failing.
"""

from __future__ import annotations

from nswn.experiments.claims.arms import (
    SHIPPED_ARMS,
    Arm,
    Knockout,
    derived_arms,
    knockout_arm,
    knockouts,
    resolve,
    write_arm_scenarios,
)
from nswn.experiments.claims.definitions import CLAIMS, Claim, Tables, World, claims_by_id, macro_difference
from nswn.experiments.claims.discovery import MIN_DENSITY, MIN_FAILURES, Box, best_box, discover, prim
from nswn.experiments.claims.markdown import experiments_markdown, fmt, markdown
from nswn.experiments.claims.metrics import (
    PARITY_START,
    all_ids,
    annual_growth,
    below_parity,
    capability_gain,
    controlled,
    entrepreneurial,
    gap_closed,
    growth_gap,
    high_e,
    ids_where,
    low_e,
    macro_at,
    mean_at,
    median_years_to_parity,
    shortlisted,
    tfp_gain,
    tfp_per_million_papers,
)
from nswn.experiments.claims.orchestration import (
    UNCERTAINTIES,
    ClaimsReport,
    ClaimsSettings,
    arms_for,
    designs,
    knockout_arms_for,
    load_worlds,
    run_claims,
    sampled_points,
    save_claims_table,
)
from nswn.experiments.claims.statistics import (
    VERDICTS,
    Verdict,
    effects,
    evaluate,
    interval,
    knockout_effects,
    knockout_result,
    point_holds,
    verdict_of,
)

_macro = macro_at  # the name sensitivity.py and older callers use
_fmt = fmt

__all__ = [
    "CLAIMS",
    "MIN_DENSITY",
    "MIN_FAILURES",
    "PARITY_START",
    "SHIPPED_ARMS",
    "UNCERTAINTIES",
    "VERDICTS",
    "Arm",
    "Box",
    "Claim",
    "ClaimsReport",
    "ClaimsSettings",
    "Knockout",
    "Tables",
    "Verdict",
    "World",
    "all_ids",
    "annual_growth",
    "arms_for",
    "below_parity",
    "best_box",
    "capability_gain",
    "claims_by_id",
    "controlled",
    "derived_arms",
    "designs",
    "discover",
    "effects",
    "entrepreneurial",
    "evaluate",
    "experiments_markdown",
    "fmt",
    "gap_closed",
    "growth_gap",
    "high_e",
    "ids_where",
    "interval",
    "knockout_arm",
    "knockout_arms_for",
    "knockout_effects",
    "knockout_result",
    "knockouts",
    "load_worlds",
    "low_e",
    "macro_at",
    "macro_difference",
    "markdown",
    "mean_at",
    "median_years_to_parity",
    "point_holds",
    "prim",
    "resolve",
    "run_claims",
    "sampled_points",
    "save_claims_table",
    "shortlisted",
    "tfp_gain",
    "tfp_per_million_papers",
    "verdict_of",
    "write_arm_scenarios",
]
