"""Mutation score of the test suite: does it notice when the model is broken?

Why a small harness and not mutmut or cosmic-ray: both generate thousands of operator
mutants over whole modules and run the suite for each, hours on the project's 2-core
machine, and neither lets one pick *meaningful* mutations (a rule of the model broken in a
way a reviewer would name: "trade friction's sign flipped", "SOE losses left out of debt").
This harness applies a fixed, reviewed list of one-line mutations, each with the fast
tests chosen for it, so that a full run takes tens of minutes and its survivors read as
a list of missing tests.

How it works
    1. The source tree (``src/``, ``tests/``, ``pyproject.toml``) is copied to a temporary
       directory; the working tree is never modified.
    2. Each mutation replaces one exact piece of source text (it must occur exactly once,
       else the mutation is reported *stale* — the code changed — and not counted) in the
       copy, runs ``pytest -x`` on its selected test files with ``PYTHONPATH`` pointing at
       the copy's ``src`` (checked: the copy is what gets imported), with a timeout, and
       restores the file. No bytecode is written, so a restored file is never shadowed by
       the mutant's cached bytecode.
    3. A mutation is *killed* when the tests fail (or time out), *survived* when they pass.
       Survivors are then run once more against the frozen reference run
       (``tests/test_reference.py``) to tell whether only that guard catches them.

The score reported is killed / (killed + survived) by the selected behavioural and unit
tests; the reference run's extra kills are listed separately.

Usage::

    .venv/bin/python benchmarks/mutation.py                 # all mutations (make mutation)
    .venv/bin/python benchmarks/mutation.py --only M01,M07  # some
    .venv/bin/python benchmarks/mutation.py --list          # show the list
    .venv/bin/python benchmarks/mutation.py --stale         # which are stale now (runs no tests)
    .venv/bin/python benchmarks/mutation.py --json out.json # also write the results

Not part of ``make test``. The measured score is in docs/performance.md ("Mutation score").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MARKETS = ("tests/test_behaviour_markets.py", "tests/test_markets.py")
ENTRY = ("tests/test_behaviour_entry_exit.py", "tests/test_entry_exit.py")
MACRO = ("tests/test_behaviour_macro.py", "tests/test_macro.py")
INSTRUMENTS = ("tests/test_behaviour_instruments.py",)
INNOVATION = ("tests/test_innovation.py", "tests/test_behaviour_entry_exit.py")
RESEARCH = ("tests/test_research.py",)
ENVIRONMENT = ("tests/test_environment.py",)
BUDGET = ("tests/test_central_budget.py",)
LOCAL = ("tests/test_local_allocation.py",)
PRIORITIES = ("tests/test_priorities.py",)
CLAIMS = ("tests/test_claims_effects.py", "tests/test_claims.py")
REFERENCE = ("tests/test_reference.py",)
TRADE = ("tests/test_trade_defence.py",)
HISTORY_MACRO = ("tests/test_history_macro.py",)
HISTORY_TRADE = ("tests/test_trade_defence_data.py", "tests/test_history.py")
# NumPy reference against compiled kernels, whole runs: kills a mutation of either path alone
KERNELS_ALLOCATION = ("tests/test_kernels_allocation.py",)
KERNELS_TEAMS = ("tests/test_kernels_national_teams.py",)
# the same for the firm layer (innovation, markets, entry and exit): one step of innovation on
# both paths, its first pass against the NumPy functions, and whole runs table by table
FIRM_LAYER = "tests/test_kernels_firm_layer.py::"
KERNELS_INNOVATION = (
    FIRM_LAYER + "test_innovation_step_is_the_reference",
    FIRM_LAYER + "test_innovation_terms_are_the_reference_functions",
)
KERNELS_MARKETS = (FIRM_LAYER + "test_market_step_is_the_reference",)
KERNELS_WHOLE_RUNS = (FIRM_LAYER + "test_whole_runs_are_identical_table_by_table",)
# issue 15's kernels (weighted median, ranks, friction, institution payments, table compaction)
# against their NumPy functions
KERNELS_INDICATORS = ("tests/test_kernels_indicators.py",)


@dataclass(frozen=True)
class Mutation:
    """One source-text replacement and the tests that should notice it."""

    id: str
    path: str  # relative to the repository root
    old: str
    new: str
    tests: tuple[str, ...]
    what: str


M = "src/nswn/mechanisms/"
I = "src/nswn/instruments/"  # noqa: E741
C = "src/nswn/experiments/claims/definitions.py"
CM = "src/nswn/experiments/claims/metrics.py"

MUTATIONS: tuple[Mutation, ...] = (
    # ---- markets
    Mutation(
        "M01",
        M + "markets.py",
        "return np.asarray(params.foreign_labour_cost - params.learning_rate * np.log1p(own / tech.output_scale))",
        "return np.asarray(params.foreign_labour_cost - 0.0 * np.log1p(own / tech.output_scale))",
        MARKETS,
        "foreign competitor no longer learns (cost)",
    ),
    Mutation(
        "M02",
        M + "markets.py",
        "        tech.china_output += produced\n"
        "        tech.foreign_output += tech.foreign_share * tech.demand + tech.foreign_exports\n",
        "        tech.china_output += produced\n        tech.foreign_output += 0.0\n",
        MARKETS,
        "foreign competitor accumulates no experience (compiled path's settle)",
    ),
    Mutation(
        "M03",
        M + "markets.py",
        "lambda friction: 1.0 / (1.0 + (1.0 + friction) * np.exp(-z))",
        "lambda friction: 1.0 / (1.0 + np.exp(-z) / (1.0 + friction))",
        (*MARKETS, *KERNELS_INDICATORS),
        "trade friction's sign flipped (in the same-year equilibrium solver)",
    ),
    Mutation(
        "M04",
        M + "markets.py",
        "above = mid > implied(slope * np.maximum(0.0, mid - threshold))",
        "above = mid > implied(slope * np.maximum(0.0, threshold - mid))",
        (*MARKETS, *KERNELS_INDICATORS, *TRADE),
        "friction rises below the threshold instead of above",
    ),
    Mutation(
        "M05",
        M + "markets.py",
        "    weights = segments.group_share(part, t, n_tech)",
        "    weights = segments.group_share(within, t, n_tech)",
        MARKETS,
        "export split ignores competitiveness (by share only)",
    ),
    Mutation(
        "M06",
        M + "markets.py",
        "    part = within * shifted\n",
        "    part = within * 1.0\n",
        MARKETS,
        "China's export composite ignores competitiveness",
    ),
    Mutation(
        "M07",
        M + "markets.py",
        "state.macro.soe_losses = float(-firms.profit[firms.soe & losing].sum())",
        "state.macro.soe_losses = float(-firms.profit[losing].sum())",
        MARKETS,
        "SOE losses count private firms' losses too",
    ),
    Mutation(
        "M08",
        M + "markets.py",
        "        + _safe_log(tech.market_access)\n",
        "",
        MARKETS,
        "foreign presence in China ignores market access",
    ),
    Mutation(
        "M09",
        M + "markets.py",
        "    firms.revenue = firms.share * tech.demand[t] + firms.exports",
        "    firms.revenue = firms.share * tech.demand[t]",
        MARKETS,
        "revenue drops exports",
    ),
    # ---- entry and exit
    Mutation(
        "M10",
        M + "entry_exit.py",
        "pilot = 1.0 + self.pilot_boost * state.provinces.pilot_intensity",
        "pilot = 1.0 - self.pilot_boost * state.provinces.pilot_intensity",
        ENTRY,
        "pilot-zone entry term reversed",
    ),
    Mutation(
        "M11",
        M + "entry_exit.py",
        "* (1.0 - state.macro.centralisation)",
        "* state.macro.centralisation",
        ENTRY,
        "centralisation raises pilot-zone entry instead of cutting it",
    ),
    Mutation(
        "M12",
        M + "entry_exit.py",
        "scale = np.where(is_returnee, p.returnee_gap, p.entrant_gap)",
        "scale = np.where(is_returnee, p.entrant_gap, p.returnee_gap)",
        ENTRY,
        "returnee and entrepreneur gaps swapped",
    ),
    Mutation(
        "M13",
        M + "entry_exit.py",
        "returnee_p = p.returnee_share * (1.0 - state.macro.decoupling)",
        "returnee_p = p.returnee_share",
        ENTRY,
        "decoupling no longer cuts returnees",
    ),
    Mutation(
        "M14",
        M + "entry_exit.py",
        "spinoffs = rng.poisson(spin_expected * tech.simulated / tech.entrant_weight)",
        "spinoffs = 0 * rng.poisson(spin_expected * tech.simulated / tech.entrant_weight)",
        ENTRY,
        "no academic spin-offs",
    ),
    Mutation(
        "M15",
        M + "entry_exit.py",
        "spin_expected = p.spinoff_rate * self.patents.inventor_share * np.maximum(count, 1) * relative",
        "spin_expected = p.spinoff_rate * np.maximum(count, 1) * relative",
        ENTRY,
        "patent reform (inventor share) no longer scales spin-offs",
    ),
    Mutation(
        "M16",
        M + "entry_exit.py",
        "scale[n_entrants:] = p.entrant_gap / (1.0 + ratio[n_entrants:])",
        "scale[n_entrants:] = p.entrant_gap",
        ENTRY,
        "spin-offs ignore usable knowledge",
    ),
    Mutation(
        "M17",
        M + "entry_exit.py",
        "leaving = (~firms.soe) & (firms.loss_streak >= p.exit_after)",
        "leaving = firms.loss_streak >= p.exit_after",
        (*ENTRY, *KERNELS_WHOLE_RUNS),
        "SOEs exit too (no soft budget)",
    ),
    Mutation(
        "M18",
        M + "entry_exit.py",
        "(1.0 + np.maximum(0.0, rate))",
        "(1.0 + 0.0 * rate)",
        ENTRY,
        "entry ignores profitability",
    ),
    # ---- innovation
    Mutation(
        "M19",
        M + "innovation.py",
        "founder_boost = np.isin(firms.founder, (FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE))",
        "founder_boost = np.isin(firms.founder, (FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE, 3))",
        INNOVATION,
        "spin-offs get the founder boost",
    ),
    Mutation(
        "M20",
        M + "innovation.py",
        "innovation = np.where(success & (draw > 0.0), draw, 0.0)",
        "innovation = np.where(success & (draw > 0.0) & (firms.founder != 3), draw, 0.0)",
        (*INNOVATION, *KERNELS_INNOVATION),
        "spin-offs never innovate",
    ),
    Mutation(
        "M21",
        M + "innovation.py",
        "tau = np.where(firms.partner >= 0, params.paired_transfer_efficiency, params.transfer_efficiency)",
        "tau = np.where(firms.partner >= 0, params.transfer_efficiency, params.paired_transfer_efficiency)",
        (*INNOVATION, *KERNELS_INNOVATION),
        "paired and lone transfer efficiencies swapped",
    ),
    Mutation(
        "M22",
        M + "innovation.py",
        "emulation = p.emulation_rate * tech.emulability[t] * tech.knowhow_access[t] * absorptive * gap",
        "emulation = p.emulation_rate * tech.emulability[t] * absorptive * gap",
        (*INNOVATION, *KERNELS_INNOVATION),
        "emulation ignores know-how access (export controls)",
    ),
    # ---- macro
    Mutation(
        "M23",
        M + "macro.py",
        "            + m.soe_losses\n",
        "            + 0.0\n",
        MACRO,
        "SOE losses left out of debt",
    ),
    Mutation(
        "M24",
        M + "macro.py",
        "relative = np.exp(firms.capability - tech.frontier[firms.technology])",
        "relative = np.exp(firms.capability)",
        MACRO,
        "TFP ignores the frontier",
    ),
    Mutation(
        "M25",
        M + "macro.py",
        "growth = base - drag + keep * max(drag, 0.0)",
        "growth = base - drag",
        MACRO,
        "keep_manufacturing refuses nothing",
    ),
    Mutation(
        "M26",
        M + "macro.py",
        "m.productivity_traditional *= 1.0 + p.traditional_productivity_growth + p.upgrade_return * upgrade",
        "m.productivity_traditional *= 1.0 + p.traditional_productivity_growth",
        MACRO,
        "upgrading leaves traditional productivity alone",
    ),
    Mutation(
        "M27",
        M + "macro.py",
        "policy.central_debt_share * m.central_budget",
        "policy.local_debt_share * m.central_budget",
        MACRO,
        "central borrowing at the local debt share",
    ),
    Mutation(
        "M28",
        M + "macro.py",
        "    return (m.va_strategic * strategic + m.va_traditional * m.productivity_traditional) / weight",
        "    return (m.va_strategic * strategic + m.va_traditional) / weight",
        MACRO,
        "TFP ignores traditional productivity",
    ),
    # ---- megaprojects
    Mutation(
        "M29",
        I + "megaprojects.py",
        "eligible = np.where(soe_route, firms.soe, np.where(champion_route, leaders & ~firms.soe, True))",
        "eligible = np.where(soe_route, ~firms.soe, np.where(champion_route, leaders & ~firms.soe, True))",
        (*INSTRUMENTS, *KERNELS_ALLOCATION),
        "megaproject SOE route pays private firms",
    ),
    Mutation(
        "M30",
        I + "megaprojects.py",
        "[p.institute_share_military, p.institute_share_soe, 0.0, 1.0]",
        "[p.institute_share_soe, p.institute_share_military, 0.0, 1.0]",
        INSTRUMENTS,
        "military and SOE institute shares swapped",
    ),
    Mutation(
        "M31",
        I + "megaprojects.py",
        "leftover = pay_firms(state, ctx, self.name, firm_budget, weights, eta)",
        "leftover = pay_firms(state, ctx, self.name, firm_budget, weights, 1.0)",
        INSTRUMENTS,
        "owner efficiency ignored (firms)",
    ),
    Mutation(
        "M32",
        I + "megaprojects.py",
        "leftover = leftover + pay_institutions(state, ctx, self.name, inst_budget, weights, eta)",
        "leftover = leftover + pay_institutions(state, ctx, self.name, inst_budget, weights)",
        INSTRUMENTS,
        "owner efficiency ignored (institutions)",
    ),
    Mutation(
        "M33",
        I + "megaprojects.py",
        "military_route, inst.kind == MILITARY_INSTITUTE, np.where(institute_route, inst.kind == NEW_INSTITUTE, True)",
        "military_route, inst.kind == NEW_INSTITUTE, np.where(institute_route, inst.kind == MILITARY_INSTITUTE, True)",
        INSTRUMENTS,
        "military and new-institute routes swapped",
    ),
    # ---- guidance funds
    Mutation(
        "M34",
        I + "guidance_funds.py",
        "weights = firms.exports + p.score_domestic_weight * firms.share * demand",
        "weights = np.ones(len(firms))",
        INSTRUMENTS,
        "performance-selected guidance funds pay equally",
    ),
    Mutation(
        "M35",
        I + "guidance_funds.py",
        "weights = np.power(np.maximum(firms.revenue, 0.0), p.size_exponent)",
        "weights = np.maximum(firms.revenue, 0.0)",
        INSTRUMENTS,
        "size selection ignores the exponent",
    ),
    # ---- other instruments
    Mutation(
        "M36",
        I + "unveiling_the_list.py",
        "+ p.firm_alignment\n",
        "+ 0.0\n",
        INSTRUMENTS,
        "firm bids lose their alignment credit",
    ),
    Mutation(
        "M37",
        I + "unveiling_the_list.py",
        "np.minimum(1.0, inst.alignment + p.alignment_gain)",
        "np.minimum(1.0, inst.alignment)",
        INSTRUMENTS,
        "winning a challenge no longer aligns an institute",
    ),
    Mutation(
        "M38",
        I + "innovation_associations.py",
        "firm_budget = per_pair * pairs * p.firm_share",
        "firm_budget = per_pair * pairs * (1.0 - p.firm_share)",
        INSTRUMENTS,
        "association money split swapped",
    ),
    Mutation(
        "M39",
        I + "innovation_associations.py",
        "pairs = np.minimum(count, np.floor(np.divide(budget, cost, out=np.zeros(n_tech), where=cost > 0)))",
        "pairs = np.minimum(count, np.ceil(np.divide(budget, cost, out=np.zeros(n_tech), where=cost > 0)))",
        INSTRUMENTS,
        "associations fund a partial pair",
    ),
    Mutation(
        "M40",
        I + "new_rd_institutes.py",
        "np.maximum(inst.alignment, p.new_alignment)",
        "np.minimum(inst.alignment, p.new_alignment)",
        INSTRUMENTS,
        "upgraded institutes lose alignment",
    ),
    Mutation(
        "M41",
        I + "new_rd_institutes.py",
        "leftover = pay_institutions(state, ctx, self.name, budget, inst.quality * is_new)",
        "leftover = pay_institutions(state, ctx, self.name, budget, inst.quality)",
        INSTRUMENTS,
        "new-institute budget paid to every institute",
    ),
    Mutation(
        "M42",
        I + "national_teams.py",
        "score = firms.exports + params.score_domestic_weight * firms.share * demand",
        "score = firms.exports",
        (*INSTRUMENTS, *KERNELS_TEAMS),
        "tournament score ignores domestic sales",
    ),
    Mutation(
        "M43",
        I + "national_teams.py",
        "ops.group_top(np.where(advance, national, -np.inf), firms.technology, n_tech, params.team_size)\n"
        "                & advance",
        "ops.group_top(np.where(eligible, national, -np.inf), firms.technology, n_tech, params.team_size)\n"
        "                & eligible",
        (*INSTRUMENTS, *KERNELS_TEAMS),
        "national round ignores the province round",
    ),
    Mutation(
        "M44",
        I + "basic_research.py",
        "weight = segments.group_share(inst.quality, inst.field, state.n_technologies)",
        "weight = segments.group_share(np.ones(len(inst)), inst.field, state.n_technologies)",
        INSTRUMENTS,
        "block grants ignore quality",
    ),
    # ---- research, environment, budgets, priorities
    Mutation(
        "M45",
        M + "research.py",
        "aligned = segments.group_sum(inst.alignment * inst.output, inst.field, len(tech))",
        "aligned = segments.group_sum(inst.output, inst.field, len(tech))",
        RESEARCH,
        "unaligned research becomes usable knowledge",
    ),
    Mutation(
        "M46",
        M + "environment.py",
        "tech.knowhow_access = (1.0 - tech.fence) * (1.0 - d)",
        "tech.knowhow_access = 1.0 - tech.fence",
        ENVIRONMENT,
        "decoupling no longer cuts know-how access",
    ),
    Mutation(
        "M47",
        M + "environment.py",
        "(1.0 - env.controls_block_sales * tech.fence)",
        "(1.0 + env.controls_block_sales * tech.fence)",
        ENVIRONMENT,
        "controls open the Chinese market to foreign firms",
    ),
    Mutation(
        "M48",
        M + "central_budget.py",
        "raw = tech.priority * np.power(tech.demand0, exponent) * tech.simulated",
        "raw = np.power(tech.demand0, exponent) * tech.simulated",
        BUDGET,
        "central budget ignores priorities",
    ),
    Mutation(
        "M49",
        M + "local_allocation.py",
        "pooled = p.centralisation * budget",
        "pooled = (1.0 - p.centralisation) * budget",
        LOCAL,
        "centralised pool and provincial budget swapped",
    ),
    Mutation(
        "M50",
        M + "local_allocation.py",
        "np.log(np.maximum(firms.revenue, 1e-12)) + b.soe_bias * firms.soe",
        "np.log(np.maximum(firms.revenue, 1e-12)) - b.soe_bias * firms.soe",
        (*LOCAL, *KERNELS_ALLOCATION),
        "local officials disfavour SOEs",
    ),
    # ---- subtler mutations (off-by-one, dropped scale factors, unused noise)
    Mutation(
        "M51",
        M + "markets.py",
        "np.where(losing, np.minimum(firms.loss_streak + 1, 100), 0)",
        "np.where(losing, np.minimum(firms.loss_streak + 1, 100), firms.loss_streak)",
        MARKETS,
        "a profitable year no longer resets the loss streak",
    ),
    Mutation(
        "M52",
        M + "entry_exit.py",
        "(firms.loss_streak >= p.exit_after)",
        "(firms.loss_streak > p.exit_after)",
        (*ENTRY, *KERNELS_WHOLE_RUNS),
        "exit one loss-making year late",
    ),
    Mutation(
        "M53",
        M + "research.py",
        "tech.knowledge = (1.0 - p.knowledge_depreciation) * tech.knowledge + aligned + foreign",
        "tech.knowledge = tech.knowledge + aligned + foreign",
        RESEARCH,
        "usable knowledge never depreciates",
    ),
    Mutation(
        "M54",
        M + "markets.py",
        "share = np.maximum(0.0, firms.share * (1.0 + speed * (e_firm - safe_mean[t]) / safe_mean[t]))",
        "share = np.maximum(0.0, firms.share * (1.0 - speed * (e_firm - safe_mean[t]) / safe_mean[t]))",
        MARKETS,
        "replicator rewards the weaker firms",
    ),
    Mutation(
        "M55",
        I + "national_teams.py",
        "return np.asarray(score * np.exp(params.referee_noise * noise))",
        "return np.asarray(score)",
        (*INSTRUMENTS, "tests/test_instruments_directional.py", *KERNELS_TEAMS),
        "the referee measures without noise",
    ),
    Mutation(
        "M56",
        M + "environment.py",
        "growth, learning = p.frontier_growth_scale * frontier_growth, foreign_learning(state, p)",
        "growth, learning = frontier_growth, foreign_learning(state, p)",
        ENVIRONMENT,
        "frontier growth ignores its scale",
    ),
    Mutation(
        "M57",
        M + "innovation.py",
        "absorptive = member_rd / (member_rd + half)",
        "absorptive = member_rd / (member_rd + 2.0 * half)",
        (*INNOVATION, *KERNELS_INNOVATION),
        "absorptive capacity's half-point doubled",
    ),
    Mutation(
        "M58",
        M + "entry_exit.py",
        "start_share = p.entrant_share * np.where(",
        "start_share = np.where(",
        ENTRY,
        "entrants start with the mean firm's share",
    ),
    Mutation(
        "M59",
        I + "megaprojects.py",
        "ops.group_top(np.where(firms.soe, -np.inf, revenue), t, len(tech), p.top_private_firms)",
        "ops.group_top(np.where(firms.soe, -np.inf, revenue), t, len(tech), p.top_private_firms + 1)",
        (*INSTRUMENTS, *KERNELS_ALLOCATION),
        "private champion funds one firm too many",
    ),
    Mutation(
        "M60",
        M + "local_allocation.py",
        "measured = export_score(state, b.score_domestic_weight) * np.exp(b.referee_noise * referee)",
        "measured = export_score(state, b.score_domestic_weight)",
        (*LOCAL, *KERNELS_ALLOCATION),
        "the export-discipline pool is measured without referee noise",
    ),
    # ---- real firm populations, contested leads, history (issues 10 and 11)
    Mutation(
        "M61",
        "src/nswn/mechanisms/environment.py",
        "return np.asarray(params.foreign_emulation_rate * tech.emulability * tech.knowhow_access * lead)",
        "return np.asarray(0.0 * params.foreign_emulation_rate * tech.emulability * tech.knowhow_access * lead)",
        ("tests/test_population.py", "tests/test_environment.py"),
        "the foreign frontier no longer learns from a Chinese leader",
    ),
    Mutation(
        "M62",
        "src/nswn/mechanisms/markets.py",
        "e_firm, e_foreign = _relative(state, log_e + np.log(firms.weight), foreign_log_presence(state, params))",
        "e_firm, e_foreign = _relative(state, log_e, foreign_log_presence(state, params))",
        ("tests/test_population.py", "tests/test_markets.py", *KERNELS_MARKETS),
        "a super-individual holds one logit share instead of its members'",
    ),
    Mutation(
        "M63",
        "src/nswn/mechanisms/entry_exit.py",
        "tech.exits = segments.group_sum(leaving * firms.weight, t, n_tech)",
        "tech.exits = segments.group_sum(leaving, t, n_tech)",
        (*ENTRY, *KERNELS_WHOLE_RUNS),
        "exits count agents, not the real firms they stand for",
    ),
    Mutation(
        "M64",
        "src/nswn/mechanisms/innovation.py",
        "member_rd = rd / firms.weight  # one member's R&D when an agent stands for several firms",
        "member_rd = rd  # one member's R&D when an agent stands for several firms",
        (*INNOVATION, *KERNELS_INNOVATION),
        "a super-individual's R&D counted as one member's",
    ),
    Mutation(
        "M65",
        "src/nswn/mechanisms/initialisation.py",
        "m.rd_rest_intensity = max(gerd - modelled, 0.0) / max(m.gdp - m.va_strategic, 1e-9)",
        "m.rd_rest_intensity = 0.0 * max(gerd - modelled, 0.0) / max(m.gdp - m.va_strategic, 1e-9)",
        ("tests/test_history.py",),
        "the rest of the economy's R&D left out of GERD",
    ),
    Mutation(
        "M66",
        "src/nswn/mechanisms/markets.py",
        "return params.labour_cost0 + params.labour_cost_growth * (state.year - LABOUR_COST_YEAR)",
        "return params.labour_cost0 + params.labour_cost_growth * (state.year - state.start_year)",
        ("tests/test_history.py", *MARKETS),
        "labour cost path relabelled to the start year instead of anchored in 2024",
    ),
    # ---- the compiled kernels of local allocation and the instruments (the default path; the
    # mutations of the NumPy lines above are killed by comparing both paths)
    Mutation(
        "M67",
        "src/nswn/kernels/_compiled.py",
        "                e = 1.0 if soe[i] else 0.0\n",
        "                e = 0.0 if soe[i] else 1.0\n",
        INSTRUMENTS,
        "compiled megaproject SOE route pays private firms",
    ),
    Mutation(
        "M68",
        I + "megaprojects.py",
        "state.technology_bounds(), route, p.top_private_firms\n",
        "state.technology_bounds(), route, p.top_private_firms + 1\n",
        INSTRUMENTS,
        "compiled private champion funds one firm too many",
    ),
    Mutation(
        "M69",
        M + "local_allocation.py",
        "            np.exp(b.referee_noise * referee),\n",
        "            np.ones(len(referee)),\n",
        LOCAL,
        "compiled export-discipline pool measured without referee noise",
    ),
    Mutation(
        "M70",
        M + "local_allocation.py",
        "            soe_bias=b.soe_bias,\n",
        "            soe_bias=-b.soe_bias,\n",
        LOCAL,
        "compiled local officials disfavour SOEs",
    ),
    Mutation(
        "M71",
        "src/nswn/kernels/_compiled.py",
        "            key[i] = log_revenue[i] + (-neg_gumbel[i])\n",
        "            key[i] = log_revenue[i]\n",
        INSTRUMENTS,
        "compiled associations pick members by size alone (no Gumbel noise)",
    ),
    # ---- the compiled market kernels (the default path since the fused kernels; the NumPy lines of
    # M07, M09 and M51 are called directly by the behaviour tests, these by Markets.step)
    Mutation(
        "M72",
        "src/nswn/kernels/_compiled.py",
        "                losing_soe[i] = soe[i]\n",
        "                losing_soe[i] = True\n",
        MARKETS,
        "compiled settle: SOE losses count private firms' losses too",
    ),
    Mutation(
        "M73",
        "src/nswn/kernels/_compiled.py",
        "            r = share[i] * demand[g] + x\n",
        "            r = share[i] * demand[g]\n",
        MARKETS,
        "compiled settle: revenue drops exports",
    ),
    Mutation(
        "M74",
        "src/nswn/kernels/_compiled.py",
        "            else:\n                streak[i] = 0\n",
        "            else:\n                streak[i] = loss_streak[i]\n",
        MARKETS,
        "compiled settle: a profitable year no longer resets the loss streak",
    ),
    # ---- the compiled innovation and demography kernels (the default path; M17, M21 and M22 break
    # the NumPy lines of the same rules, judged by the NumPy-vs-compiled comparisons)
    Mutation(
        "M75",
        "src/nswn/kernels/_compiled.py",
        "            go = (not soe[i]) and loss_streak[i] >= exit_after\n",
        "            go = loss_streak[i] >= exit_after\n",
        ENTRY,
        "compiled demography: SOEs exit too (no soft budget)",
    ),
    Mutation(
        "M76",
        "src/nswn/kernels/_compiled.py",
        "tau = (tau_pair if partner[i] >= 0 else tau_lone) + bonus[t]",
        "tau = (tau_lone if partner[i] >= 0 else tau_pair) + bonus[t]",
        INNOVATION,
        "compiled knowledge gate: paired and lone transfer efficiencies swapped",
    ),
    Mutation(
        "M77",
        "src/nswn/kernels/_compiled.py",
        "e = (((emulation_rate * emulability[t]) * access[t]) * absorptive) * (-gap_expm1[i])",
        "e = ((emulation_rate * emulability[t]) * absorptive) * (-gap_expm1[i])",
        INNOVATION,
        "compiled emulation ignores know-how access (export controls)",
    ),
    Mutation(
        "M78",
        I + "unveiling_the_list.py",
        "firms.capability, noise_firm, state.technology_bounds(), p.firm_alignment, p.jury_noise, p.winners",
        "firms.capability, noise_firm, state.technology_bounds(), 0.0, p.jury_noise, p.winners",
        INSTRUMENTS,
        "compiled challenge: firm bids lose their alignment credit",
    ),
    Mutation(
        "M79",
        "src/nswn/kernels/_compiled.py",
        "            go = (not soe[i]) and loss_streak[i] >= exit_after\n",
        "            go = (not soe[i]) and loss_streak[i] > exit_after\n",
        ENTRY,
        "compiled demography: exit one loss-making year late",
    ),
    Mutation(
        "M80",
        "src/nswn/kernels/_compiled.py",
        "absorptive = m / (m + half[i])",
        "absorptive = m / (m + 2.0 * half[i])",
        INNOVATION,
        "compiled emulation: absorptive capacity's half-point doubled",
    ),
    Mutation(
        "M81",
        "src/nswn/kernels/_compiled.py",
        "            x += (1.0 if go else 0.0) * w\n",
        "            x += 1.0 if go else 0.0\n",
        ENTRY,
        "compiled demography: exits count agents, not the real firms they stand for",
    ),
    Mutation(
        "M82",
        "src/nswn/kernels/_compiled.py",
        "        m = r / weight[i]\n",
        "        m = r\n",
        INNOVATION,
        "compiled innovation: a super-individual's R&D counted as one member's",
    ),
    Mutation(
        "M83",
        "src/nswn/kernels/_compiled.py",
        "share_arg[i] = (v + log_weight[i]) - p",
        "share_arg[i] = v - p",
        ("tests/test_population.py", "tests/test_markets.py"),
        "compiled markets: a super-individual holds one logit share instead of its members'",
    ),
    # the compiled national-team tournament (the NumPy lines are judged by M42, M43, M55 above,
    # through the comparison of both paths)
    Mutation(
        "M84",
        "src/nswn/kernels/_compiled.py",
        "            p = province[i]\n",
        "            p = 0\n",
        (*INSTRUMENTS, *KERNELS_TEAMS),
        "compiled tournament's grassroots round ranks all provinces together",
    ),
    Mutation(
        "M85",
        "src/nswn/kernels/_compiled.py",
        "    while j > 0 and v > best[row, j - 1]:\n",
        "    while j > 0 and v >= best[row, j - 1]:\n",
        (*INSTRUMENTS, *KERNELS_TEAMS),
        "compiled tournament breaks ties for the later firm",
    ),
    # the compiled weighted median (median_capability), friction solve and institution payments (issue 15)
    Mutation(
        "M86",
        "src/nswn/kernels/_compiled.py",
        "            half -= half % 8\n",
        "            half -= half % 4\n",
        KERNELS_INDICATORS,
        "compiled pairwise sum splits a long range where NumPy does not (last bits of the total)",
    ),
    Mutation(
        "M87",
        "src/nswn/kernels/_compiled.py",
        "        key = 0.5 * total\n",
        "        key = 0.4 * total\n",
        KERNELS_INDICATORS,
        "compiled weighted median stops at 40 % of the weight",
    ),
    Mutation(
        "M88",
        "src/nswn/kernels/_compiled.py",
        "        while end < m and _same(keys[order[end]], first):\n",
        "        while end < m and False:\n",
        KERNELS_INDICATORS,
        "compiled rank and weighted median leave ties in NumPy's unstable sort's order",
    ),
    Mutation(
        "M91",
        "src/nswn/kernels/_compiled.py",
        "        while i > 0 and _less(v, keys[rank[i - 1]]):\n",
        "        while i > 0 and not _less(keys[rank[i - 1]], v):\n",
        KERNELS_INDICATORS,
        "compiled rank and weighted median: insertion sort puts a later equal value first",
    ),
    Mutation(
        "M89",
        "src/nswn/kernels/_compiled.py",
        "            implied = 1.0 / (1.0 + (1.0 + friction) * e)\n",
        "            implied = 1.0 / (1.0 + friction * e)\n",
        KERNELS_INDICATORS,
        "compiled friction solve: friction replaces the foreign side's weight instead of scaling it",
    ),
    Mutation(
        "M90",
        "src/nswn/kernels/_compiled.py",
        "        funding[i] += amount * efficiency[f]\n",
        "        funding[i] += amount\n",
        KERNELS_INDICATORS,
        "compiled institution payments: funding credited without the instrument's efficiency",
    ),
    Mutation(
        "M92",
        "src/nswn/kernels/_compiled.py",
        "        out[dest_kept[j]] = values[kept[j]] + 1\n",
        "        out[dest_kept[j]] = values[kept[j]]\n",
        KERNELS_INDICATORS,
        "compiled table compaction: surviving firms no longer age",
    ),
    # ---- trade-defence measures (levers.trade_defence)
    Mutation(
        "T01",
        M + "markets.py",
        "    return np.asarray(params.export_elasticity * params.cost_weight * np.log1p(tariff))",
        "    return np.asarray(params.export_elasticity * np.log1p(tariff))",
        TRADE,
        "tariff wedge without the cost weight (trade elasticity σ_w instead of σ_w σ_p)",
    ),
    Mutation(
        "T02",
        M + "markets.py",
        "    taxed = (coverage / (1.0 + base[:, None] * np.exp(wedge))).sum(axis=1)",
        "    taxed = (coverage / (1.0 + base[:, None] * np.exp(-wedge))).sum(axis=1)",
        TRADE,
        "a tariff subsidises Chinese goods (wedge sign flipped)",
    ),
    Mutation(
        "T03",
        M + "initialisation.py",
        "    _calibrate_under_measures(state, settings, log_c_w, ws0, friction0, nascent)\n",
        "    pass\n",
        TRADE,
        "measures in force at the start not in the start-year calibration",
    ),
    Mutation(
        "T04",
        M + "environment.py",
        "    return first <= year and (duration is None or year < first + duration)",
        "    return first <= year",
        TRADE,
        "measures never lapse (trade-defence measures and export-control batches share the window)",
    ),
    # ---- international learning spillovers (markets.learning_pool; round 6)
    Mutation(
        "L01",
        M + "markets.py",
        "    return np.asarray(tech.china_output + params.international_spillover * tech.foreign_output)",
        "    return np.asarray(tech.china_output)",
        MARKETS + KERNELS_MARKETS,
        "Chinese firms no longer learn from foreign output (national pool despite ξ)",
    ),
    Mutation(
        "L02",
        M + "markets.py",
        "params.learning_spillover * params.international_spillover * tech.china_output",
        "params.international_spillover * tech.china_output",
        MARKETS,
        "the foreign aggregate learns from all Chinese output, not its industry-pool share φ",
    ),
    Mutation(
        "L03",
        M + "markets.py",
        "    return np.asarray(tech.china_output + params.international_spillover * tech.foreign_output)",
        "    return np.asarray(tech.china_output - params.international_spillover * tech.foreign_output)",
        MARKETS + KERNELS_MARKETS,
        "foreign output slows Chinese learning (sign)",
    ),
    # ---- the history scenario's trade-defence series (hindcast.trade_defence_inputs)
    Mutation(
        "T05",
        "src/nswn/analysis/hindcast.py",
        "        return sum(layers.values())",
        "        return max(layers.values(), default=0.0)",
        HISTORY_TRADE,
        "layers of one market no longer add up (Section 301 not paid on top of AD/CVD)",
    ),
    Mutation(
        "T06",
        "src/nswn/analysis/hindcast.py",
        '        if not (row["in_series"] == "yes" and row["rate_pct"]',
        '        if not (row["rate_pct"]',
        HISTORY_TRADE,
        "measures on all origins and on other goods enter the series",
    ),
    # ---- the modelled industries' markets inside the demand for manufactures (macro.py)
    Mutation(
        "H01",
        M + "macro.py",
        "        joint = (traditional * growth - elasticity * base + substitutes_before - substitutes + rest)"
        " / denominator",
        "        joint = (traditional * growth - elasticity * base + substitutes - substitutes_before + rest)"
        " / denominator",
        HISTORY_MACRO,
        "a growing modelled market adds to traditional manufactures instead of displacing them",
    ),
    Mutation(
        "H02",
        M + "macro.py",
        "    return float((tech.value_added_ratio[sim] * tech.demand[sim]).sum())",
        "    return float((tech.value_added_ratio * tech.demand).sum())",
        HISTORY_MACRO,
        "the traditional aggregate's own market counted as a modelled market",
    ),
    Mutation(
        "H03",
        M + "macro.py",
        "            p.strategic_substitution * demand_before,",
        "            demand_before,",
        HISTORY_MACRO,
        "last year's markets enter unscaled by the substitution share",
    ),
    Mutation(
        "H04",
        M + "macro.py",
        "    base = traditional + substitutes_before\n",
        "    base = traditional\n",
        HISTORY_MACRO,
        "income drives only traditional demand, not the modelled markets' part of it",
    ),
    # ---- claims' effect functions
    Mutation(
        "C01",
        C,
        'c7_effect("relative_capability", 2035, -1.0)',
        'c7_effect("relative_capability", 2035, 1.0)',
        CLAIMS,
        "C7a's sign flipped",
    ),
    Mutation(
        "C02",
        C,
        "    return abs(broad - short) - abs(broad - none)",
        "    return abs(broad - none) - abs(broad - short)",
        CLAIMS,
        "C3 reversed",
    ),
    Mutation(
        "C03",
        C,
        'world["decentralised"][1]["entries"].iloc[1:].sum() - world["centralised"][1]["entries"].iloc[1:].sum()',
        'world["centralised"][1]["entries"].iloc[1:].sum() - world["decentralised"][1]["entries"].iloc[1:].sum()',
        CLAIMS,
        "C8b's arms swapped",
    ),
    Mutation(
        "C04",
        C,
        'return m.median_years_to_parity(world["c1_not_emulable"][0], ids) - m.median_years_to_parity(',
        'return m.median_years_to_parity(world["c1_emulable"][0], ids) - m.median_years_to_parity(',
        CLAIMS,
        "C1's arms made equal (low-emulability arm replaced by the high one)",
    ),
    Mutation(
        "C05",
        C,
        '    return total(world["no_controls"][0]) - total(world["baseline"][0])',
        '    return total(world["baseline"][0]) - total(world["no_controls"][0])',
        CLAIMS,
        "C7c's arms swapped",
    ),
    Mutation(
        "C06",
        CM,
        "    first, last = macro[column].iloc[1], macro[column].iloc[-1]",
        "    first, last = macro[column].iloc[-1], macro[column].iloc[1]",
        CLAIMS,
        "annual growth measured backwards (C4a)",
    ),
)


@dataclass
class Outcome:
    id: str
    what: str
    status: str  # killed, survived, stale, timeout
    seconds: float
    reference_kills: bool | None = None
    detail: str = ""


def copy_tree(destination: Path) -> None:
    """Copy what the tests need (no venv, caches or results)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".ruff_cache")
    for name in ("src", "tests", "benchmarks", "scenarios", "designs", "examples"):
        shutil.copytree(ROOT / name, destination / name, ignore=ignore)
    for name in ("pyproject.toml",):
        shutil.copy2(ROOT / name, destination / name)


def pytest(tree: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, str]:
    """Run ``pytest -x`` on ``tests`` inside ``tree``; return (``passed``/``failed``/``timeout``, tail of output)."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not dask and not browser"]
    try:
        done = subprocess.run(
            [*command, *tests], cwd=tree, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return "timeout", ""
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-3:])
    return ("passed" if done.returncode == 0 else "failed"), tail


def check_import(tree: Path) -> None:
    """The copy, not the editable install, must be what the tests import."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", "import nswn; print(nswn.__file__)"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    imported = Path(done.stdout.strip()).resolve()
    if not imported.is_relative_to(tree.resolve()):
        raise SystemExit(f"mutation harness: the tests would import {imported}, not the temporary copy in {tree}")


def stale_mutations(mutations: list[Mutation], tree: Path) -> list[tuple[Mutation, int]]:
    """The mutations whose source text does not occur exactly once in ``tree``, with the count."""
    found = []
    for m in mutations:
        count = (tree / m.path).read_text(encoding="utf-8").count(m.old)
        if count != 1:
            found.append((m, count))
    return found


def run_one(tree: Path, mutation: Mutation, timeout: float, reference: bool) -> Outcome:
    target = tree / mutation.path
    original = target.read_text(encoding="utf-8")
    count = original.count(mutation.old)
    if count != 1:
        return Outcome(mutation.id, mutation.what, "stale", 0.0, detail=f"source text found {count} times")
    started = time.perf_counter()
    try:
        target.write_text(original.replace(mutation.old, mutation.new), encoding="utf-8")
        result, tail = pytest(tree, mutation.tests, timeout)
        outcome = Outcome(
            mutation.id,
            mutation.what,
            {"failed": "killed", "passed": "survived", "timeout": "timeout"}[result],
            0.0,
            detail=tail.splitlines()[-1] if tail else "",
        )
        if outcome.status == "survived" and reference:
            again, _ = pytest(tree, REFERENCE, timeout)
            outcome.reference_kills = again != "passed"
    finally:
        target.write_text(original, encoding="utf-8")
    outcome.seconds = time.perf_counter() - started
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated mutation ids")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument(
        "--stale", action="store_true", help="report the stale mutations in this tree and exit (runs no tests)"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per test run (default 300)")
    parser.add_argument("--no-reference", action="store_true", help="do not rerun survivors against the reference")
    parser.add_argument("--json", type=Path, help="write the outcomes to this file")
    args = parser.parse_args(argv)

    chosen = list(MUTATIONS)
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {m.id for m in MUTATIONS}
        if unknown:
            print(f"unknown mutation ids: {sorted(unknown)}", file=sys.stderr)
            return 2
        chosen = [m for m in MUTATIONS if m.id in wanted]
    if args.list:
        for m in chosen:
            print(f"{m.id}  {m.path}: {m.what}  [{' '.join(m.tests)}]")
        return 0
    if args.stale:
        stale_now = stale_mutations(chosen, ROOT)
        for m, count in stale_now:
            print(f"{m.id} stale  {m.path}: source text found {count} times  ({m.what})")
        print(f"{len(chosen) - len(stale_now)} current, {len(stale_now)} stale of {len(chosen)}")
        return 1 if stale_now else 0

    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="nswn-mutation-") as tmp:
        tree = Path(tmp)
        copy_tree(tree)
        check_import(tree)
        selected = tuple(sorted({t for m in chosen for t in m.tests}))
        status, tail = pytest(tree, selected, args.timeout * 3)
        if status != "passed":
            print(f"the unmutated tests do not pass; fix them first:\n{tail}", file=sys.stderr)
            return 1
        for m in chosen:
            outcome = run_one(tree, m, args.timeout, not args.no_reference)
            outcomes.append(outcome)
            extra = "" if outcome.reference_kills is None else f" (reference run kills: {outcome.reference_kills})"
            print(f"{m.id} {outcome.status:8s} {outcome.seconds:6.1f} s  {m.what}{extra}", flush=True)

    counted = [o for o in outcomes if o.status != "stale"]
    killed = [o for o in counted if o.status in ("killed", "timeout")]
    survivors = [o for o in counted if o.status == "survived"]
    stale = [o for o in outcomes if o.status == "stale"]
    score = len(killed) / len(counted) if counted else float("nan")
    print(f"\nkilled {len(killed)} / {len(counted)} = {score:.0%} by the selected tests", flush=True)
    with_reference = len(killed) + sum(bool(o.reference_kills) for o in survivors)
    print(f"killed {with_reference} / {len(counted)} counting the frozen reference run")
    for o in survivors:
        print(f"  survived: {o.id} {o.what} (reference run kills: {o.reference_kills})")
    for o in stale:
        print(f"  stale (source changed, not counted): {o.id} {o.what}: {o.detail}")
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
