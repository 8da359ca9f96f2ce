"""The arms of the claims' experiments and the knockouts that switch their mechanisms off.

An arm is a shipped scenario, or a shipped scenario with declared overrides (levers,
assumptions, or catalog attributes of named technologies: a counterfactual on the
technologies themselves). A knockout is a set of overrides that switches one mechanism
off; the knockout arm of ``arm`` for knockout ``k`` is named ``arm--k`` and is the arm
with the knockout's overrides merged on top. Names chain: ``centralised--no_pilot`` is the
``centralised`` arm without the pilot-zone entry term, and is itself an arm.

Every value below is declared before any run and is either a default of the model, a
mean of catalog attributes, or a judged contrast stated as such; none was chosen by
looking at a claim's result.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from nswn.experiments.claims import metrics

SEPARATOR = "--"

# Shipped scenarios used directly as arms.
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


@dataclass(frozen=True)
class Arm:
    """A derived arm: a shipped scenario ``base`` with nested ``overrides``."""

    name: str
    base: str
    overrides: dict[str, Any]
    description: str


@dataclass(frozen=True)
class Knockout:
    """A mechanism switched off: ``overrides`` merged onto each arm of the experiment.

    Attributes
    ----------
    id
        Suffix of the knockout arms (``arm--id``).
    mechanism
        What is switched off, in words (for the docs).
    overrides
        Nested ``levers`` / ``assumptions`` / ``catalog`` values.
    """

    id: str
    mechanism: str
    overrides: dict[str, Any] = field(default_factory=dict)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _catalog_mean(column: str, condition: Any) -> float:
    """Mean of a catalog attribute over the simulated technologies meeting ``condition``
    (rounded to 0.01: the arm values are stated in the docs)."""
    cat = metrics.catalog_frame()
    cat = cat[cat["group"] != "traditional"]
    return float(np.round(cat.loc[condition(cat), column].mean(), 2))


def _set_all(ids: tuple[str, ...], column: str, value: float) -> dict[str, Any]:
    return {"catalog": {tech: {column: value} for tech in ids}}


@cache
def contrast_values() -> dict[str, float]:
    """The attribute values of the counterfactual arms, from the catalog itself.

    ``e_high``/``e_low``: mean emulability of the catalog's technologies with e ≥ 0.7 / e ≤ 0.4
    (C1's thresholds); ``rho_high``/``rho_low``: mean entrepreneurship dependence ρ of those
    with ρ ≥ 0.6 / ρ ≤ 0.4 (C2).
    """
    return {
        "e_high": _catalog_mean("emulability", lambda c: c["emulability"] >= 0.7),
        "e_low": _catalog_mean("emulability", lambda c: c["emulability"] <= 0.4),
        "rho_high": _catalog_mean("entrepreneurship", lambda c: c["entrepreneurship"] >= 0.6),
        "rho_low": _catalog_mean("entrepreneurship", lambda c: c["entrepreneurship"] <= 0.4),
    }


# C2's ownership contrast (judged): a predominantly state-owned and a predominantly private
# firm population, symmetric around one half, in every technology group.
SOE_SHARE_STATE = 0.9
SOE_SHARE_PRIVATE = 0.1
# C4a's counterfactual: research fully aimed at industrial needs (every institution type).
FULL_ALIGNMENT = 1.0


def _ownership(share: float) -> dict[str, Any]:
    return {"assumptions": {"initial": {"soe_share_stranglehold": share, "soe_share_other": share}}}


@cache
def derived_arms() -> dict[str, Arm]:
    """Every derived root arm (knockout arms are built from these and the shipped ones)."""
    v = contrast_values()
    rho = {"high": v["rho_high"], "low": v["rho_low"]}
    arms = [
        Arm(
            "c1_emulable",
            "baseline",
            _set_all(metrics.below_parity(), "emulability", v["e_high"]),
            f"Baseline with every technology below parity given emulability e = {v['e_high']} (C1).",
        ),
        Arm(
            "c1_not_emulable",
            "baseline",
            _set_all(metrics.below_parity(), "emulability", v["e_low"]),
            f"Baseline with every technology below parity given emulability e = {v['e_low']} (C1).",
        ),
    ]
    for owner, share in (("private", SOE_SHARE_PRIVATE), ("state", SOE_SHARE_STATE)):
        for level, value in rho.items():
            arms.append(
                Arm(
                    f"c2_{owner}_{level}_rho",
                    "baseline",
                    _deep_merge(_ownership(share), _set_all(metrics.entrepreneurial(), "entrepreneurship", value)),
                    f"Baseline with {share:.0%} state-owned firms and ρ = {value} on the ρ ≥ 0.6 technologies (C2).",
                )
            )
    alignments = ("university", "public_institute", "new_rd_institute", "military_institute")
    arms += [
        Arm(
            "c4_aligned",
            "baseline",
            {"assumptions": {"initial": {f"alignment_{kind}": FULL_ALIGNMENT for kind in alignments}}},
            "Baseline with every institution's research aimed at industrial needs (alignment 1) (C4a).",
        ),
        Arm(
            "c6_keep",
            "baseline",
            {"levers": {"keep_manufacturing": {"keep": 0.8}}},
            "Baseline refusing to outsource 80 % of the labour-cost-driven decline (C6).",
        ),
        Arm(
            "c6_let_decline",
            "baseline",
            {"levers": {"keep_manufacturing": {"keep": 0.0}}},
            "Baseline refusing none of the labour-cost-driven decline (C6).",
        ),
        Arm(
            "centralised",
            "baseline",
            {"levers": {"local_allocation": {"centralisation": 0.8}}},
            "Baseline with 80 % of local money pooled by export discipline (C5, C8).",
        ),
        Arm(
            "decentralised",
            "baseline",
            {"levers": {"local_allocation": {"centralisation": 0.2}}},
            "Baseline with 20 % of local money pooled by export discipline (C5, C8).",
        ),
    ]
    return {arm.name: arm for arm in arms}


def _innovation_defaults() -> Any:
    from nswn.mechanisms.innovation import InnovationParams

    return InnovationParams()


def _initial_defaults() -> Any:
    from nswn.mechanisms.initialisation import InitialParams

    return InitialParams()


@cache
def knockouts() -> dict[str, Knockout]:
    """Every knockout, by id."""
    innovation, initial = _innovation_defaults(), _initial_defaults()
    no_science = {tech: {"science_intensity": 0.0} for tech in metrics.all_ids()}
    items = [
        Knockout(
            "no_emulation",
            "emulation switched off (λ_em = 0): emulability then acts on nothing",
            {"assumptions": {"innovation": {"emulation_rate": 0.0}}},
        ),
        Knockout(
            "no_entrepreneurship",
            "the entrepreneurship channel switched off (E_SOE = E_founder = 1, so ent_i = 1 whatever ρ)",
            {"assumptions": {"innovation": {"soe_entrepreneurship": 1.0, "founder_entrepreneurship": 1.0}}},
        ),
        Knockout(
            "no_central_budget",
            "no central S&T budget (β_B = 0): priority weights then steer no money",
            {"levers": {"central_budget": {"share_of_gdp": 0.0}}},
        ),
        Knockout(
            "no_research_link",
            "research cut off from firms: science intensity b_t = 0 for every technology (the knowledge "
            "gate is open whatever usable knowledge there is) and no academic spin-offs (ν_spin = 0)",
            {"catalog": no_science, "assumptions": {"entry_exit": {"spinoff_rate": 0.0}}},
        ),
        Knockout(
            "no_bridging",
            "the bridging channels switched off: paired firms absorb like lone firms (τ_pair = τ0), new "
            "institutes give no transfer bonus (Δτ_inst = 0) and are aligned like public institutes, "
            "challenges raise no alignment (Δa_chal = 0), no spin-offs (ν_spin = 0); budgets unchanged",
            {
                "assumptions": {
                    "innovation": {"paired_transfer_efficiency": innovation.transfer_efficiency},
                    "research": {"institute_transfer_bonus": 0.0},
                    "entry_exit": {"spinoff_rate": 0.0},
                },
                "levers": {
                    "instruments": {
                        "unveiling_the_list": {"alignment_gain": 0.0},
                        "new_rd_institutes": {"new_alignment": initial.alignment_public_institute},
                    }
                },
            },
        ),
        Knockout(
            "no_pilot",
            "the pilot-zone entry term switched off (ε_pilot = 0)",
            {"assumptions": {"local_behaviour": {"pilot_entry_boost": 0.0}}},
        ),
        Knockout(
            "no_local_budget",
            "no local S&T money (β_L = 0): there is nothing for either rule to allocate",
            {"levers": {"local_allocation": {"budget_share_of_gdp": 0.0}}},
        ),
        Knockout(
            "no_labour_drag",
            "no labour-cost drag on traditional industry (ε_w = 0): there is no decline to refuse, and "
            "refusing costs nothing",
            {"assumptions": {"macro": {"labour_cost_elasticity": 0.0}}},
        ),
        Knockout(
            "no_knowhow_channel",
            "foreign know-how reaches nobody: no emulation (λ_em = 0) and no international knowledge "
            "inflow (U_intl = 0), so the fence's cut in access A_t changes nothing",
            {"assumptions": {"innovation": {"emulation_rate": 0.0}, "research": {"international_knowledge": 0.0}}},
        ),
        Knockout(
            "no_blocked_sales",
            "controls stop no foreign sales in China (controls_block_sales = 0)",
            {"assumptions": {"environment": {"controls_block_sales": 0.0}}},
        ),
    ]
    return {k.id: k for k in items}


def knockout_arm(arm: str, knockout: str) -> str:
    """The name of ``arm`` with knockout ``knockout`` applied."""
    return f"{arm}{SEPARATOR}{knockout}"


def resolve(name: str) -> tuple[str, dict[str, Any], str]:
    """``(shipped base, overrides, description)`` of any arm name (root plus knockouts).

    Raises
    ------
    KeyError
        For an unknown root arm or knockout.
    """
    root, *kos = name.split(SEPARATOR)
    derived = derived_arms()
    if root in SHIPPED_ARMS:
        base, overrides, description = root, {}, f"The shipped scenario {root}."
    elif root in derived:
        arm = derived[root]
        base, overrides, description = arm.base, arm.overrides, arm.description
    else:
        raise KeyError(f"unknown arm {root!r}")
    table = knockouts()
    for ko in kos:
        if ko not in table:
            raise KeyError(f"unknown knockout {ko!r} in arm {name!r}")
        overrides = _deep_merge(overrides, table[ko].overrides)
        description += f" Knockout: {table[ko].mechanism}."
    return base, overrides, description


def is_shipped(name: str) -> bool:
    return name in SHIPPED_ARMS


def write_arm_scenarios(names: list[str], directory: Path) -> list[Path]:
    """Scenario files (``base`` + overrides) for every arm that is not a shipped scenario."""
    import yaml

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        if is_shipped(name):
            continue
        base, overrides, description = resolve(name)
        content = {"base": base, "name": name, "description": description, "claim": "nswn claims", **overrides}
        path = directory / f"{name}.yaml"
        text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
