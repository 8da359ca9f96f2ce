"""Every budget instrument on tiny hand-built states (model.md §6.3): who is paid, how much.

Helper states:

* ``owner_state`` — six technologies, one per issue-owner type (``OWNER_TYPES`` order),
  each with two SOEs (revenue 10, 30) and four private firms (40, 20, 10, 5) and three
  institutions (military institute q=1, university q=3, new R&D institute q=2);
* ``bidders`` — one technology with three institutions and four firms of rising quality;
* the others are built inline.

Expectations are computed by hand in the comments; random instruments are replayed from
the same seed in the documented order of draws.
"""

from __future__ import annotations

import numpy as np
import pytest

from nswn import kernels
from nswn.core.state import OWNER_TYPES, Provinces
from nswn.instruments.basic_research import BasicResearch, BasicResearchParams
from nswn.instruments.guidance_funds import GuidanceFundParams, GuidanceFunds
from nswn.instruments.innovation_associations import AssociationParams, InnovationAssociations
from nswn.instruments.megaprojects import MegaprojectParams, Megaprojects
from nswn.instruments.national_teams import NationalTeamParams, NationalTeams, measured_score, select_team
from nswn.instruments.new_rd_institutes import NewInstituteParams, NewRDInstitutes
from nswn.instruments.unveiling_the_list import ChallengeParams, UnveilingTheList
from tiny_states import MILITARY_INSTITUTE, NEW_INSTITUTE, UNIVERSITY, booked, ctx, tiny_state

SEED = 3
SOE = [True, True, False, False, False, False]
REVENUE = [10.0, 30.0, 40.0, 20.0, 10.0, 5.0]
QUALITY = [1.0, 3.0, 2.0]  # military institute, university, new R&D institute


def owner_state():  # type: ignore[no-untyped-def]
    n_tech = len(OWNER_TYPES)
    return tiny_state(
        n_tech=n_tech,
        firm_values={
            "technology": np.repeat(np.arange(n_tech), 6),
            "soe": np.tile(SOE, n_tech),
            "revenue": np.tile(REVENUE, n_tech),
        },
        institution_values={
            "field": np.repeat(np.arange(n_tech), 3),
            "kind": np.tile([MILITARY_INSTITUTE, UNIVERSITY, NEW_INSTITUTE], n_tech),
            "quality": np.tile(QUALITY, n_tech),
        },
        owner_type=np.arange(n_tech),
    )


def per_owner(values: np.ndarray, owner: str, width: int) -> np.ndarray:
    i = OWNER_TYPES.index(owner)
    return values[i * width : (i + 1) * width]


def test_megaprojects_route_by_owner_type_with_owner_efficiencies() -> None:
    state = owner_state()
    params = MegaprojectParams(share=1.0)
    Megaprojects(params).allocate(state, ctx(state), np.full(len(OWNER_TYPES), 10.0))
    sub, fund = state.firms.subsidy, state.institutions.funding
    rev = np.array(REVENUE)

    # military research (η 0.8): 60 % to institutes, military ones only; the rest to SOEs ∝ revenue
    np.testing.assert_allclose(per_owner(fund, "military_research", 3), [4.8, 0.0, 0.0])
    np.testing.assert_allclose(per_owner(sub, "military_research", 6), [0.8, 2.4, 0, 0, 0, 0])
    # SOE owner (η 0.6): 30 % to all institutes ∝ quality, 70 % to SOEs ∝ revenue
    np.testing.assert_allclose(per_owner(fund, "soe", 3), np.array([0.5, 1.5, 1.0]) * 0.6)
    np.testing.assert_allclose(per_owner(sub, "soe", 6), np.array([1.75, 5.25, 0, 0, 0, 0]) * 0.6)
    # think tank (η 0.7): half to institutes ∝ quality, half to every firm ∝ revenue
    np.testing.assert_allclose(per_owner(fund, "think_tank", 3), np.array(QUALITY) / 6 * 5 * 0.7)
    np.testing.assert_allclose(per_owner(sub, "think_tank", 6), rev / 115 * 5 * 0.7)
    # no named owner: like a think tank, η 0.6
    np.testing.assert_allclose(per_owner(fund, "none", 3), np.array(QUALITY) / 6 * 5 * 0.6)
    np.testing.assert_allclose(per_owner(sub, "none", 6), rev / 115 * 5 * 0.6)
    # private champion (η 0.9): everything to the three largest private firms ∝ revenue
    np.testing.assert_allclose(per_owner(fund, "private_champion", 3), 0.0)
    np.testing.assert_allclose(per_owner(sub, "private_champion", 6), np.array([0, 0, 40, 20, 10, 0]) / 70 * 9.0)
    # new R&D institute (η 0.8): everything to the field's new-type institutes
    np.testing.assert_allclose(per_owner(fund, "new_rd_institute", 3), [0.0, 0.0, 8.0])
    np.testing.assert_allclose(per_owner(sub, "new_rd_institute", 6), 0.0)

    # the ledger books what was spent (before efficiency): every yuan
    assert booked(state, "megaprojects") == pytest.approx(60.0)
    assert state.ledger.by_recipient()["soe_firm"] == pytest.approx(4 + 7 + 5 * 40 / 115 * 2)


def test_megaproject_efficiency_is_the_owners() -> None:
    """Doubling nothing but the SOE owner's η doubles what its recipients receive."""
    low, high = owner_state(), owner_state()
    budget = np.full(len(OWNER_TYPES), 10.0)
    Megaprojects(MegaprojectParams(share=1.0, efficiency_soe=0.3)).allocate(low, ctx(low), budget)
    Megaprojects(MegaprojectParams(share=1.0, efficiency_soe=0.6)).allocate(high, ctx(high), budget)
    np.testing.assert_allclose(per_owner(high.firms.subsidy, "soe", 6), 2 * per_owner(low.firms.subsidy, "soe", 6))
    np.testing.assert_allclose(
        per_owner(high.firms.subsidy, "think_tank", 6), per_owner(low.firms.subsidy, "think_tank", 6)
    )


def guidance_state():  # type: ignore[no-untyped-def]
    """Three firms: revenue 10, 20, 30; exports 5, 0, 1; domestic sales (share × 100) 10, 10, 20."""
    return tiny_state(
        n_tech=1,
        firm_values={
            "technology": [0, 0, 0],
            "revenue": [10.0, 20.0, 30.0],
            "exports": [5.0, 0.0, 1.0],
            "share": [0.1, 0.1, 0.2],
        },
    )


def test_guidance_funds_by_performance_pay_the_export_score() -> None:
    """Weights x_i + λ_s s_i D: 15, 10, 21 — neither equal nor by size."""
    state = guidance_state()
    GuidanceFunds(GuidanceFundParams(share=1.0, selection="performance")).allocate(state, ctx(state), np.array([46.0]))
    np.testing.assert_allclose(state.firms.subsidy, [15.0, 10.0, 21.0])
    state = guidance_state()
    params = GuidanceFundParams(share=1.0, selection="performance", score_domestic_weight=0.5)
    GuidanceFunds(params).allocate(state, ctx(state), np.array([26.0]))
    np.testing.assert_allclose(state.firms.subsidy, [10.0, 5.0, 11.0])  # 5 + 5, 0 + 5, 1 + 10


def test_guidance_funds_by_size_pay_revenue_to_the_power_phi() -> None:
    state = guidance_state()
    GuidanceFunds(GuidanceFundParams(share=1.0, selection="size", size_exponent=1.0)).allocate(
        state, ctx(state), np.array([60.0])
    )
    np.testing.assert_allclose(state.firms.subsidy, [10.0, 20.0, 30.0])
    state = guidance_state()
    GuidanceFunds(GuidanceFundParams(share=1.0, selection="size", size_exponent=2.0)).allocate(
        state, ctx(state), np.array([140.0])
    )
    np.testing.assert_allclose(state.firms.subsidy, [10.0, 40.0, 90.0])
    assert booked(state, "guidance_funds") == pytest.approx(140.0)


def bidders():  # type: ignore[no-untyped-def]
    """t0: institutions q = 1, 2, 3 with alignment 0.1, 0.6, 0.2; firms c = 0 … 3. t1 (no budget): one
    strong institution and one firm."""
    return tiny_state(
        n_tech=2,
        firm_values={"technology": [0, 0, 0, 0, 1], "capability": [0.0, 1.0, 2.0, 3.0, 0.0]},
        institution_values={
            "field": [0, 0, 0, 1],
            "quality": [1.0, 2.0, 3.0, 5.0],
            "alignment": [0.1, 0.6, 0.2, 0.9],
        },
    )


@pytest.mark.parametrize("path", kernels.BACKENDS if kernels._numba_importable() else ("numpy",))
def test_unveiling_the_list_pays_the_best_bids_equally_and_aligns_winning_institutes(path: str) -> None:
    """Scores = percentile in own kind + alignment (firms 0.3): institutions 0.1, 1.1, 1.2; firms 0.3, 0.63,
    0.97, 1.3. The three best (firm 3, institutions 2 and 1) share 9 equally."""
    with kernels.using(path):  # both paths: the compiled top-k bids (the default) and the NumPy ranking
        state = bidders()
        params = ChallengeParams(share=1.0, winners=3, jury_noise=0.0, alignment_gain=0.05, firm_alignment=0.3)
        UnveilingTheList(params).allocate(state, ctx(state), np.array([9.0, 0.0]))
        np.testing.assert_allclose(state.institutions.funding, [0.0, 3.0, 3.0, 0.0])
        np.testing.assert_allclose(state.firms.subsidy, [0.0, 0.0, 0.0, 3.0, 0.0])
        np.testing.assert_allclose(state.institutions.alignment, [0.1, 0.65, 0.25, 0.9])  # t1 had no challenge
        assert booked(state, "unveiling_the_list") == pytest.approx(9.0)

        # two prizes: the best firm (1.3) and institution 2 (1.2)
        state = bidders()
        params = ChallengeParams(share=1.0, winners=2, jury_noise=0.0, firm_alignment=0.3)
        UnveilingTheList(params).allocate(state, ctx(state), np.array([9.0, 0.0]))
        np.testing.assert_allclose(state.institutions.funding, [0.0, 0.0, 4.5, 0.0])
        np.testing.assert_allclose(state.firms.subsidy, [0.0, 0.0, 0.0, 4.5, 0.0])

        # firms judged a worse fit (alignment 0, firm 3 scores 1.0) and two prizes: institutions 2 and 1 win
        params = ChallengeParams(share=1.0, winners=2, jury_noise=0.0, firm_alignment=0.0)
        state = bidders()
        UnveilingTheList(params).allocate(state, ctx(state), np.array([9.0, 0.0]))
        np.testing.assert_allclose(state.institutions.funding, [0.0, 4.5, 4.5, 0.0])
        np.testing.assert_allclose(state.firms.subsidy, 0.0)


@pytest.mark.parametrize("path", kernels.BACKENDS if kernels._numba_importable() else ("numpy",))
def test_innovation_association_members_are_drawn_by_revenue_not_simply_the_largest(path: str) -> None:
    """Members are a Gumbel top-k draw ∝ revenue (model.md §6.3): larger firms are likelier
    members, yet smaller ones are drawn too (the largest five are not always the five chosen)."""
    revenue = np.arange(1.0, 21.0)  # 20 firms, mean revenue 10.5: a pair costs 5.25
    top, bottom = revenue > 15.0, revenue < 6.0
    counts = np.zeros(20)
    with kernels.using(path):
        for seed in range(30):
            state = tiny_state(
                n_tech=1,
                firm_values={"technology": np.zeros(20, dtype=np.int32), "revenue": revenue},
                institution_values={"field": [0, 0], "quality": [1.0, 1.0]},
            )
            InnovationAssociations(AssociationParams(share=1.0, pair_cost=0.5)).allocate(
                state,
                ctx(state, seed),
                np.array([27.0]),  # ⌊27 / 5.25⌋ = 5 pairs
            )
            chosen = state.firms.partner >= 0
            assert chosen.sum() == 5
            counts += chosen
    assert counts[top].sum() > 2 * counts[bottom].sum()
    assert counts[~top].sum() > 0  # not the same five largest every time


def test_innovation_associations_fund_budget_over_pair_cost_pairs() -> None:
    """pairs = min(n, ⌊budget / (0.5 × mean revenue 1)⌋); the firm gets firm_share (0.8) of each pair's money,
    its partner institution the rest."""

    def run(budget: float):  # type: ignore[no-untyped-def]
        state = tiny_state(
            n_tech=1,
            firm_values={"technology": [0, 0, 0, 0], "revenue": [1.0, 1.0, 1.0, 1.0]},
            institution_values={"field": [0, 0], "quality": [1.0, 3.0]},
        )
        InnovationAssociations(AssociationParams(share=1.0, pair_cost=0.5, firm_share=0.8)).allocate(
            state, ctx(state, SEED), np.array([budget])
        )
        return state

    state = run(1.0)  # two pairs of 0.5
    paired = state.firms.partner >= 0
    assert paired.sum() == 2
    np.testing.assert_allclose(state.firms.subsidy, np.where(paired, 0.4, 0.0))  # 0.8 of 0.5
    assert state.institutions.funding.sum() == pytest.approx(0.2)
    np.testing.assert_allclose(state.institutions.funding, 0.1 * np.bincount(state.firms.partner[paired], minlength=2))
    assert booked(state, "innovation_associations") == pytest.approx(1.0)

    state = run(2.9)  # ⌊5.8⌋ = 5 pairs wanted, 4 firms: everyone paired, 2.9 / 4 a pair
    assert (state.firms.partner >= 0).all()
    np.testing.assert_allclose(state.firms.subsidy, 2.9 / 4 * 0.8)

    state = run(0.4)  # less than one pair: nobody paired, the field's institutions get it by quality
    assert (state.firms.partner < 0).all()
    np.testing.assert_allclose(state.institutions.funding, [0.1, 0.3])


def test_new_rd_institutes_upgrade_poisson_budget_over_cost_legacy_institutes() -> None:
    """Upgrades ~ Poisson(budget / (5 × reference funding 1)) among legacy institutes drawn ∝ quality
    (Gumbel top-k); upgraded ones get alignment ≥ 0.55; the budget goes to new-type institutes ∝ quality."""
    quality = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    state = tiny_state(
        n_tech=1,
        institution_values={"field": [0] * 6, "quality": quality, "alignment": [0.2, 0.7, 0.2, 0.2, 0.2, 0.2]},
    )
    NewRDInstitutes(NewInstituteParams(share=1.0, upgrade_cost=5.0, new_alignment=0.55)).allocate(
        state, ctx(state, SEED), np.array([15.0])
    )
    rng = np.random.default_rng(SEED)
    k = int(rng.poisson(np.array([3.0]))[0])
    gumbel = -np.log(-np.log(rng.random(6).clip(1e-300, 1.0 - 1e-16)))
    chosen = np.zeros(6, dtype=bool)
    chosen[np.argsort(-(np.log(quality) + gumbel))[:k]] = True
    assert 0 < k < 6
    inst = state.institutions
    np.testing.assert_array_equal(inst.kind == NEW_INSTITUTE, chosen)
    np.testing.assert_allclose(inst.alignment[chosen], np.maximum([0.2, 0.7, 0.2, 0.2, 0.2, 0.2], 0.55)[chosen])
    np.testing.assert_allclose(inst.alignment[~chosen], np.array([0.2, 0.7, 0.2, 0.2, 0.2, 0.2])[~chosen])
    np.testing.assert_allclose(inst.funding, 15.0 * quality * chosen / (quality * chosen).sum())

    # no budget, no upgrades
    state = tiny_state(n_tech=1, institution_values={"field": [0] * 6, "quality": quality})
    NewRDInstitutes(NewInstituteParams(share=1.0)).allocate(state, ctx(state, SEED), np.array([0.0]))
    assert not (state.institutions.kind == NEW_INSTITUTE).any()


def team_state(priority: float = 1.0):  # type: ignore[no-untyped-def]
    """Six firms of one technology in two provinces; exports 10, 5, 1 (p0) and 8, 2, 0 (p1)."""
    return tiny_state(
        n_tech=1,
        firm_values={
            "technology": [0] * 6,
            "province": [0, 0, 0, 1, 1, 1],
            "exports": [10.0, 5.0, 1.0, 8.0, 2.0, 0.0],
            "share": [0.0, 0.0, 0.2, 0.0, 0.0, 0.0],
            "revenue": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        },
        provinces=Provinces(ids=("p0", "p1"), gdp_share=np.array([0.5, 0.5]), pilot_intensity=np.zeros(2)),
        priority=priority,
    )


def test_national_team_tournament_two_tiers_by_export_score() -> None:
    """Score x + λ s D: 10, 5, 21, 8, 2, 0. Province round (2 each): firms 2, 0 | 3, 4; national top 3: 2, 0, 3."""
    state = team_state()
    params = NationalTeamParams(share=1.0, per_province=2, team_size=3, referee_noise=0.0)
    select_team(state, params, np.random.default_rng(SEED))
    np.testing.assert_array_equal(np.flatnonzero(state.firms.national_team), [0, 2, 3])
    # without domestic sales in the score firm 2 drops out of its province round
    state = team_state()
    select_team(
        state, NationalTeamParams(**{**params.__dict__, "score_domestic_weight": 0.0}), np.random.default_rng(0)
    )
    np.testing.assert_array_equal(np.flatnonzero(state.firms.national_team), [0, 1, 3])
    # one advancer per province: 2 (p0) and 3 (p1) only, though 0 outscores 3
    state = team_state()
    select_team(state, NationalTeamParams(**{**params.__dict__, "per_province": 1}), np.random.default_rng(0))
    np.testing.assert_array_equal(np.flatnonzero(state.firms.national_team), [2, 3])

    NationalTeams(params).allocate(state, ctx(state), np.array([9.0]))
    np.testing.assert_allclose(state.firms.subsidy, [0, 0, 4.5, 4.5, 0, 0])


def test_national_team_by_size_and_only_for_priorities() -> None:
    state = team_state()
    select_team(state, NationalTeamParams(share=1.0, team_size=3, selection="size"), np.random.default_rng(0))
    np.testing.assert_array_equal(np.flatnonzero(state.firms.national_team), [3, 4, 5])
    state = team_state(priority=0.0)
    select_team(state, NationalTeamParams(share=1.0, team_size=3), np.random.default_rng(0))
    assert not state.firms.national_team.any()


def test_basic_research_grants_follow_quality_within_each_field() -> None:
    state = tiny_state(n_tech=2, institution_values={"field": [0, 0, 1], "quality": [1.0, 3.0, 2.0]})
    BasicResearch(BasicResearchParams()).allocate(state, ctx(state), np.array([8.0, 5.0]))
    np.testing.assert_allclose(state.institutions.funding, [2.0, 6.0, 5.0])
    assert state.ledger.by_recipient()["institution"] == pytest.approx(13.0)


def test_the_referee_measures_the_score_with_log_normal_noise() -> None:
    """Measured S_i = S_i · exp(σ_ref ε_i); the tournament uses fresh noise at each tier (replayed)."""
    state = team_state()
    params = NationalTeamParams(share=1.0, per_province=2, team_size=3, referee_noise=0.5)
    noise = np.array([0.0, 1.0, -1.0, 2.0, 0.0, 0.0])
    score = np.array([10.0, 5.0, 21.0, 8.0, 2.0, 0.0])
    np.testing.assert_allclose(measured_score(state, params, noise), score * np.exp(0.5 * noise))

    params = NationalTeamParams(share=1.0, per_province=2, team_size=2, referee_noise=2.0)
    select_team(state, params, np.random.default_rng(SEED))
    rng = np.random.default_rng(SEED)
    local, national = score * np.exp(2.0 * rng.standard_normal(6)), score * np.exp(2.0 * rng.standard_normal(6))
    advance = [i for p in (0, 1) for i in sorted(range(3 * p, 3 * p + 3), key=lambda i: -local[i])[:2]]
    team = sorted(sorted(advance, key=lambda i: -national[i])[:2])
    np.testing.assert_array_equal(np.flatnonzero(state.firms.national_team), team)
    noiseless = team_state()
    select_team(noiseless, NationalTeamParams(**{**params.__dict__, "referee_noise": 0.0}), np.random.default_rng(SEED))
    assert team != list(np.flatnonzero(noiseless.firms.national_team))  # the noise matters for this seed
