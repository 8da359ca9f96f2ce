"""The brief's claims C1–C8 as controlled experiments (model.md §10).

Each sub-claim names one mechanism of the model and is tested by an experiment whose arms
differ only in that mechanism's lever, assumption or catalog attribute, run on the same seeds
(common random numbers). A claim's *effect* is signed so that a positive value is what the
brief asserts. Every claim also has a *knockout*: the same arms with the named mechanism
switched off; the effect must then vanish (its interval must cover 0), or the effect does not
come (only) from the mechanism the claim names.

A claim whose effect follows algebraically from one formula of the model carries that
formula in ``construction``; it is reported as "by construction", not as a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from nswn.experiments.claims import metrics as m
from nswn.experiments.claims.arms import knockout_arm, knockouts

Tables = tuple[pd.DataFrame, pd.DataFrame]  # (technology_year, macro_year) of one run
World = Mapping[str, Tables]  # arm → tables, all from one seed and one assumption point


@dataclass(frozen=True)
class Claim:
    """One testable statement of the brief, as a controlled experiment.

    Attributes
    ----------
    id, statement, brief
        Identifier (``C4b``), the claim in our words, and where the brief makes it.
    mechanism
        The model mechanism the claim is about (what the arms vary).
    arms
        The arms the experiment needs (see :mod:`nswn.experiments.claims.arms`).
    design
        How the arms differ (only in the named mechanism).
    metric, unit
        How the effect is measured (positive = as the brief says).
    effect
        Function of one world's tables (keyed by the names in ``arms``) returning the signed effect.
    knockout
        Id of the knockout (:func:`nswn.experiments.claims.arms.knockouts`) that switches the
        mechanism off.
    construction
        The formula the effect follows from, when it is true by construction; else empty.
    other_channels
        Channels other than the named mechanism through which the arms' difference can act
        (from the model's structure, not from results): where to look when the knockout fails.
    """

    id: str
    statement: str
    brief: str
    mechanism: str
    arms: tuple[str, ...]
    design: str
    metric: str
    unit: str
    effect: Callable[[World], float]
    knockout: str
    construction: str = ""
    other_channels: str = ""

    def knockout_arms(self) -> tuple[str, ...]:
        """The arms with the knockout applied, in the order of :attr:`arms`."""
        return tuple(knockout_arm(arm, self.knockout) for arm in self.arms)

    def knockout_world(self, world: World) -> World | None:
        """The knockout arms of ``world`` under the main arms' names (``None`` if one is missing)."""
        names = self.knockout_arms()
        if not all(name in world for name in names):
            return None
        return {arm: world[name] for arm, name in zip(self.arms, names, strict=True)}

    @property
    def knockout_mechanism(self) -> str:
        return knockouts()[self.knockout].mechanism


# ---------------------------------------------------------------------------------------
# effect functions (positive = as the brief says)


def c1_effect(world: World) -> float:
    """Median years to parity of the below-parity technologies, low-e arm minus high-e arm."""
    ids = m.below_parity()
    return m.median_years_to_parity(world["c1_not_emulable"][0], ids) - m.median_years_to_parity(
        world["c1_emulable"][0], ids
    )


def c2_effect(world: World) -> float:
    """Difference in differences of the capability gain 2024–2035 of the ρ ≥ 0.6 technologies:
    (private − state) with their ρ high minus (private − state) with their ρ low."""
    ids = m.entrepreneurial()

    def gain(arm: str) -> float:
        return m.capability_gain(world[arm][0], ids, 2035)

    high = gain("c2_private_high_rho") - gain("c2_state_high_rho")
    low = gain("c2_private_low_rho") - gain("c2_state_low_rho")
    return high - low


def c3_effect(world: World) -> float:
    """|broad − shortlist| − |broad − none| of the gap closed by 2035 on the shortlisted technologies."""
    ids = m.shortlisted(world["shortlist5"][0])
    broad = m.gap_closed(world["baseline"][0], ids, 2035)
    none = m.gap_closed(world["no_priorities"][0], ids, 2035)
    short = m.gap_closed(world["shortlist5"][0], ids, 2035)
    return abs(broad - short) - abs(broad - none)


def c4a_effect(world: World) -> float:
    """Two-layers gap (publication growth − TFP growth) at today's alignment minus at full alignment."""
    return m.growth_gap(world["baseline"][1]) - m.growth_gap(world["c4_aligned"][1])


def c4b_effect(world: World) -> float:
    """TFP gain 2024–end (index points), bridging arm minus baseline."""
    return m.tfp_gain(world["two_layers_fix"][1]) - m.tfp_gain(world["baseline"][1])


def macro_difference(column: str, year: int, first: str, second: str) -> Callable[[World], float]:
    """Effect = ``column`` in ``year`` of arm ``first`` minus that of arm ``second``."""

    def effect(world: World) -> float:
        return m.macro_at(world[first][1], column, year) - m.macro_at(world[second][1], column, year)

    return effect


def c5a_effect(world: World) -> float:
    """Mean relative capability 2035 of every technology, pooled minus local."""
    pooled, local = "centralised--no_pilot", "decentralised--no_pilot"
    return m.mean_at(world[pooled][0], m.all_ids(), "relative_capability", 2035) - m.mean_at(
        world[local][0], m.all_ids(), "relative_capability", 2035
    )


def c7_effect(column: str, year: int, sign: float) -> Callable[[World], float]:
    """``sign`` × (controls − no controls) of ``column`` in ``year`` on the controlled technologies."""

    def effect(world: World) -> float:
        ids = m.controlled(world["baseline"][0])
        with_controls = m.mean_at(world["baseline"][0], ids, column, year)
        return sign * (with_controls - m.mean_at(world["no_controls"][0], ids, column, year))

    return effect


def c7c_effect(world: World) -> float:
    """Foreign sales in China + foreign exports of the controlled technologies, 2025–end,
    no controls minus controls."""
    ids = m.controlled(world["baseline"][0])

    def total(tech: pd.DataFrame) -> float:
        rows = tech[tech["technology_id"].isin(ids) & (tech["year"] > tech["year"].min())]
        return float((rows["foreign_china_sales"] + rows["foreign_exports"]).sum())

    return total(world["no_controls"][0]) - total(world["baseline"][0])


def c8a_effect(world: World) -> float:
    """Allocation quality (corr(support, capability)), mean over simulated years, χ 0.8 minus χ 0.2."""
    pooled, local = "centralised--no_pilot", "decentralised--no_pilot"
    return float(
        world[pooled][1]["allocation_quality"].iloc[1:].mean() - world[local][1]["allocation_quality"].iloc[1:].mean()
    )


def c8b_effect(world: World) -> float:
    """Firm entries 2025–end, χ 0.2 minus χ 0.8."""
    return float(
        world["decentralised"][1]["entries"].iloc[1:].sum() - world["centralised"][1]["entries"].iloc[1:].sum()
    )


def c8c_effect(world: World) -> float:
    """Capability gain 2024–2035 of the ρ ≥ 0.6 technologies, χ 0.2 minus χ 0.8."""
    ids = m.entrepreneurial()
    return m.capability_gain(world["decentralised"][0], ids, 2035) - m.capability_gain(
        world["centralised"][0], ids, 2035
    )


_POOLED = ("centralised--no_pilot", "decentralised--no_pilot")
_CONTROLS = ("baseline", "no_controls")

CLAIMS: tuple[Claim, ...] = (
    Claim(
        "C1",
        "The system succeeds where an established foreign technology can be emulated",
        "closing section (atomic bombs, BeiDou, space stations, high-speed rail vs solar, EVs, platforms)",
        "emulation of a foreign template (Δc_em = λ_em·e_t·A_t·α_i·(1 − e^−gap))",
        ("c1_emulable", "c1_not_emulable"),
        "the same technologies (all below parity in 2024) with emulability e set to the catalog's mean of "
        "e ≥ 0.7 vs its mean of e ≤ 0.4; everything else as the baseline",
        "median years to parity of those technologies, low e minus high e (never = horizon + 1)",
        "years",
        c1_effect,
        "no_emulation",
    ),
    Claim(
        "C2",
        "Entrepreneurship-dependent areas need private initiative",
        "closing section (solar, EVs, telecom, platforms relied on private entrepreneurs)",
        "entrepreneurial drive of the innovating firms (ent_i = 1 − ρ_t·(1 − E_owner))",
        ("c2_private_high_rho", "c2_state_high_rho", "c2_private_low_rho", "c2_state_low_rho"),
        "2 × 2 on the ρ ≥ 0.6 technologies, budgets as the baseline in every arm: firm ownership 10 % vs 90 % "
        "state-owned, crossed with their entrepreneurship dependence ρ set to the catalog's mean of ρ ≥ 0.6 vs of "
        "ρ ≤ 0.4; the difference in differences cancels every ownership effect that does not depend on ρ",
        "capability gain 2024–2035 of those technologies: (private − state | ρ high) − (private − state | ρ low)",
        "log capability",
        c2_effect,
        "no_entrepreneurship",
    ),
    Claim(
        "C3",
        "About 50 priority areas amount to no concentration",
        "section on the missing shortlist (~50 bottleneck and competitive-advantage areas)",
        "priority weights steering the central budget",
        ("baseline", "no_priorities", "shortlist5"),
        "priority mode broad (baseline, ≡ broad50) vs none vs shortlist of 5; all else equal",
        "gap closed by 2035 on the five shortlisted technologies: |broad − shortlist| − |broad − none| "
        "(> 0: broad is closer to none)",
        "log capability",
        c3_effect,
        "no_central_budget",
    ),
    Claim(
        "C4a",
        "Research output grows without matching productivity (two layers)",
        "two-layers section (top-cited papers without TFP growth)",
        "research not aimed at industrial needs (alignment a_k of institutions)",
        ("baseline", "c4_aligned"),
        "today's alignment of institutions (0.10–0.55 by type) vs every institution fully aligned (a_k = 1)",
        "two-layers gap (publication growth − TFP growth, 2025–2050), today's alignment minus full alignment",
        "per year",
        c4a_effect,
        "no_research_link",
        other_channels="alignment also enters the open-challenge jury's score (institutions then win awards that went "
        "to firms: more research funding and publications, less firm R&D) and the foreign-knowledge reference R_t",
    ),
    Claim(
        "C4b",
        "Bridging instruments turn research into productivity",
        "two-layers section (open challenges, associations, new institutes, patent ownership)",
        "bridging instruments (challenges, innovation associations, new R&D institutes, inventor ownership)",
        ("baseline", "two_layers_fix"),
        "two_layers_fix vs baseline: the same total budget, moved from megaprojects and basic research to the "
        "bridging instruments, and inventor ownership 0.7",
        "TFP gain 2024–2050 (publications not in the metric), bridging minus baseline",
        "TFP index points",
        c4b_effect,
        "no_bridging",
        other_channels="the bridging arm also moves money from megaprojects and basic research to other instruments "
        "(the budget mix), which the knockout leaves as it is",
    ),
    Claim(
        "C5a",
        "Export discipline beats local data (capability)",
        "section on export discipline and local data",
        "allocation of local money by the refereed export score vs by noisy local data",
        _POOLED,
        "80 % vs 20 % of local money pooled by export score (χ 0.8 vs 0.2), the pilot-zone entry term off in both "
        "arms so that χ acts only through allocation",
        "mean relative capability 2035 (all technologies), pooled minus local",
        "relative capability",
        c5a_effect,
        "no_local_budget",
    ),
    Claim(
        "C5b",
        "Export discipline beats local data (exports)",
        "section on export discipline and local data",
        "allocation of local money by the refereed export score vs by noisy local data",
        _POOLED,
        "as C5a",
        "strategic exports 2035, pooled minus local",
        "bn CNY",
        macro_difference("strategic_exports", 2035, *_POOLED),
        "no_local_budget",
    ),
    Claim(
        "C6a",
        "Holding manufacturing up keeps its share up",
        "section on the modernised industrial base",
        "refusing to outsource labour-intensive segments (keep)",
        ("c6_keep", "c6_let_decline"),
        "keep = 0.8 vs 0 (upgrading subsidies as the baseline in both)",
        "manufacturing share of GDP 2035, keep minus let decline",
        "share of GDP",
        macro_difference("manufacturing_share", 2035, "c6_keep", "c6_let_decline"),
        "no_labour_drag",
        construction="VA_trad ← VA_trad·(1 + g_trad + u·upgrade − ε_w·g_w·λ·(1 − keep)) and "
        "share = (VA_trad + VA_strat)/GDP (λ the labour-intensive share of VA_trad): a higher keep adds "
        "ε_w·g_w·λ·keep to traditional growth every year",
    ),
    Claim(
        "C6b",
        "Holding manufacturing up raises debt",
        "section on the modernised industrial base (debt ballooned)",
        "the subsidies that pay for refusing to outsource (keep·ε_w·g_w·VA_LI·c_keep, added to debt)",
        ("c6_keep", "c6_let_decline"),
        "as C6a",
        "debt/GDP 2035, keep minus let decline",
        "ratio to GDP",
        macro_difference("debt_to_gdp", 2035, "c6_keep", "c6_let_decline"),
        "no_labour_drag",
    ),
    Claim(
        "C7a",
        "Export controls slow catch-up",
        "opening section (2022 and 2023 controls)",
        "the fence's cut in foreign know-how access (A_t = (1 − h_t)·(1 − d))",
        _CONTROLS,
        "the 2022/2023 controls vs none; all else equal",
        "relative capability 2035 of the controlled technologies, no controls minus controls",
        "relative capability",
        c7_effect("relative_capability", 2035, -1.0),
        "no_knowhow_channel",
        other_channels="controls also block foreign sales in China (shares, revenue, learning by doing and R&D)",
    ),
    Claim(
        "C7b",
        "Export controls hand the home market to Chinese firms",
        "sections on self-reliance and foreign firms in a controlled setting",
        "controls stopping foreign firms' sales in China",
        _CONTROLS,
        "as C7a",
        "Chinese domestic share 2035 of the controlled technologies, controls minus no controls",
        "share",
        c7_effect("china_domestic_share", 2035, 1.0),
        "no_blocked_sales",
        other_channels="controls also cut foreign know-how access and so Chinese capability, which moves "
        "competitiveness, shares and foreign sales",
    ),
    Claim(
        "C7c",
        "Export controls cost foreign firms sales",
        "opening section (the cost of controls)",
        "controls stopping foreign firms' sales in China",
        _CONTROLS,
        "as C7a",
        "foreign sales in China + foreign exports 2025–2050 of the controlled technologies, no controls minus controls",
        "bn CNY",
        c7c_effect,
        "no_blocked_sales",
        other_channels="controls also cut foreign know-how access and so Chinese capability, which moves "
        "competitiveness, shares and foreign sales",
    ),
    Claim(
        "C8a",
        "Centralisation reduces misallocation",
        "section on restricting local discretion",
        "allocation of local money by the refereed export score vs by noisy local data",
        _POOLED,
        "as C5a (χ 0.8 vs 0.2, pilot-zone term off in both arms)",
        "allocation quality: corr(support, capability), mean over simulated years, 0.8 minus 0.2",
        "correlation",
        c8a_effect,
        "no_local_budget",
    ),
    Claim(
        "C8b",
        "Centralisation loses local experimentation (entry)",
        "section on local experimentation and pilots",
        "the pilot-zone entry term (entry × (1 + ε_pilot·z_p·(1 − χ)))",
        ("centralised", "decentralised"),
        "χ = 0.8 vs 0.2 (the baseline otherwise)",
        "firm entries 2025–2050, 0.2 minus 0.8",
        "firms",
        c8b_effect,
        "no_pilot",
        construction="entrants ~ Poisson(ν·(1 + max(0, π̄_t))·ē_p) with ē_p = 1 + ε_pilot·z_p·(1 − χ): "
        "a lower χ multiplies every province's entry rate",
        other_channels="χ also moves local money between the export score and local data (subsidies, profits, "
        "which raise entry through π̄_t)",
    ),
    Claim(
        "C8c",
        "Centralisation loses local experimentation (entrepreneurial areas)",
        "section on local experimentation and pilots",
        "the pilot-zone entry term (entry × (1 + ε_pilot·z_p·(1 − χ)))",
        ("centralised", "decentralised"),
        "χ = 0.8 vs 0.2 (the baseline otherwise)",
        "capability gain 2024–2035 of the ρ ≥ 0.6 technologies, 0.2 minus 0.8",
        "log capability",
        c8c_effect,
        "no_pilot",
        other_channels="χ also moves local money between the export score and local data (subsidies, R&D, profits)",
    ),
)


def claims_by_id() -> dict[str, Claim]:
    """Every claim by id."""
    return {c.id: c for c in CLAIMS}
