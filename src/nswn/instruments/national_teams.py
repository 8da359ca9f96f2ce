"""National teams: the Olympic-style tournament (model.md §6.8) and the team's budget.

What it models
    Every ``period`` years, for each priority technology (``w_t > 0``): at the grassroots
    tier, firms are ranked within their province by the export-discipline score
    ``S_i = x_i + λ_s s_i D_t`` as measured by the delegated referee, with noise
    ``exp(σ_ref ε)``; the top ``per_province`` of each province advance. At the national
    tier the advancers are measured again (fresh referee noise) and the top ``team_size``
    become the national team. With ``selection: size`` the team is simply the
    ``team_size`` largest firms (what conservative stakeholders would pick). The team
    shares the instrument's budget equally until the next tournament.

    The tournament is a mechanism of its own (``Tournament``, step 8 of the schedule) that
    runs only when this instrument is on; the first tournament is held on the start state.

State read: exports, shares, revenue, province, priorities. State written:
``firms.national_team``, ``firms.subsidy``. Ledger: ``national_teams``.

Brief: the section likening the system to the national Olympic programme — grassroots
competitions, multi-tier national selection, refereeing delegated to trusted partners,
success judged by export volumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from nswn.core.model import Context
from nswn.core.params import budget_share, param
from nswn.core.state import State
from nswn.instruments.payments import pay_firms, pay_leftover
from nswn.kernels import ops


@dataclass(frozen=True)
class NationalTeamParams:
    """The national-team tournament and budget."""

    share: float = budget_share("Share of the central S&T budget paid to national teams")
    period: int = param(3, lo=1, hi=20, unit="years", basis="policy", doc="Years between tournaments")
    per_province: int = param(
        2, lo=1, hi=100, unit="firms", basis="policy", doc="Firms advancing from each province's grassroots round"
    )
    team_size: int = param(5, lo=1, hi=100, unit="firms", basis="policy", doc="National team size per technology")
    referee_noise: float = param(0.2, lo=0.0, hi=5.0, unit="log sd", doc="σ_ref of the delegated referee")
    score_domestic_weight: float = param(
        1.0, lo=0.0, hi=10.0, unit="× domestic sales", doc="λ_s, weight of domestic sales beside exports"
    )
    selection: Literal["score", "size"] = param(
        "score", unit="choice", basis="policy", doc="score: the tournament; size: the largest firms"
    )


def measured_score(state: State, params: NationalTeamParams, noise: np.ndarray) -> np.ndarray:
    """The referee's measurement of ``S_i`` (multiplicative log-normal noise)."""
    firms = state.firms
    demand = state.technologies.demand[firms.technology]
    score = firms.exports + params.score_domestic_weight * firms.share * demand
    return np.asarray(score * np.exp(params.referee_noise * noise))


def select_team(state: State, params: NationalTeamParams, rng: np.random.Generator) -> None:
    """Hold the tournament and set ``firms.national_team``.

    The draws come first, always the same two (one standard normal per firm and round); then
    the compiled kernels (``ops.national_team_score`` / ``ops.national_team_size``) choose the
    team when they apply, else the NumPy lines below, which are the reference.
    """
    firms, tech = state.firms, state.technologies
    n = len(firms)
    n_tech = len(tech)
    grassroots_noise = rng.standard_normal(n)
    national_noise = rng.standard_normal(n)
    bounds = state.technology_bounds()
    n_prov = len(state.provinces)
    # compiled: one pass over each priority technology's segment, both rounds fused (None: the
    # NumPy lines below, which are the reference)
    if params.selection == "size":
        team = ops.national_team_size(firms.revenue, bounds, tech.priority, params.team_size)
    else:
        team = ops.national_team_score(
            firms.exports,
            firms.share,
            tech.demand,
            grassroots_noise,
            national_noise,
            firms.province,
            n_prov,
            bounds,
            tech.priority,
            referee_noise=params.referee_noise,
            domestic_weight=params.score_domestic_weight,
            per_province=params.per_province,
            team_size=params.team_size,
        )
    if team is None:
        eligible = tech.priority[firms.technology] > 0
        if params.selection == "size":
            team = (
                ops.group_top(np.where(eligible, firms.revenue, -np.inf), firms.technology, n_tech, params.team_size)
                & eligible
            )
        else:
            local_group = firms.technology.astype(np.int64) * n_prov + firms.province
            local = measured_score(state, params, grassroots_noise)
            advance = (
                ops.group_top(np.where(eligible, local, -np.inf), local_group, n_tech * n_prov, params.per_province)
                & eligible
            )
            national = measured_score(state, params, national_noise)
            team = (
                ops.group_top(np.where(advance, national, -np.inf), firms.technology, n_tech, params.team_size)
                & advance
            )
    firms.national_team = team


class NationalTeams:
    """Pays each technology's budget equally to its national team."""

    name = "national_teams"
    Params = NationalTeamParams

    def __init__(self, params: NationalTeamParams) -> None:
        self.params = params

    def allocate(self, state: State, ctx: Context, budget: np.ndarray) -> None:
        leftover = pay_firms(state, ctx, self.name, budget, state.firms.national_team.astype(float))
        pay_leftover(state, ctx, self.name, leftover)

    def tournament(self) -> Tournament:
        return Tournament(self.params)


class Tournament:
    """Step 8 of the schedule: the national-team tournament every ``period`` years."""

    name = "tournament"

    def __init__(self, params: NationalTeamParams) -> None:
        self.params = params

    def step(self, state: State, ctx: Context) -> None:
        if (state.year - state.start_year) % self.params.period == 0:
            select_team(state, self.params, ctx.rng)
