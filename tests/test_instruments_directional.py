"""Each instrument and lever moves the model in the direction it is meant to (common random numbers)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from nswn import api
from nswn.core.model import Context
from nswn.core.random import stream
from nswn.core.state import INSTITUTION_TYPES
from nswn.instruments.innovation_associations import AssociationParams, InnovationAssociations
from nswn.instruments.national_teams import NationalTeamParams, measured_score, select_team
from nswn.instruments.new_rd_institutes import NewInstituteParams, NewRDInstitutes
from nswn.instruments.unveiling_the_list import ChallengeParams, UnveilingTheList
from nswn.mechanisms.innovation import InnovationParams, knowledge_gate
from nswn.scenario.build import build_model, to_config

SMALL = {"firms": 1500, "end_year": 2035}


def small(scenario: str | dict, **overrides):  # type: ignore[no-untyped-def]
    loaded = api.load_scenario(scenario) if isinstance(scenario, str) else api._as_scenario(scenario)
    return api.with_overrides(loaded, **{**SMALL, **overrides})


@pytest.fixture(scope="module")
def state():  # type: ignore[no-untyped-def]
    model = build_model(to_config(small("baseline")), seed=5)
    model.step()
    return model.state


def ctx_for(state, name: str, seed: int = 0) -> Context:  # type: ignore[no-untyped-def]
    return Context(year=state.year + 1, rng=stream(seed, name, state.year + 1), ledger=state.ledger)


def test_innovation_associations_raise_paired_firms_absorbed_knowledge(state) -> None:  # type: ignore[no-untyped-def]
    s = copy.deepcopy(state)
    s.firms.partner[:] = -1
    params = InnovationParams()
    gate_alone = knowledge_gate(s, params)
    budget = np.where(s.technologies.simulated, 5.0, 0.0)
    InnovationAssociations(AssociationParams(share=1.0)).allocate(s, ctx_for(s, "innovation_associations"), budget)
    paired = s.firms.partner >= 0
    assert paired.any() and (~paired).any()
    gate_paired = knowledge_gate(s, params)
    science = s.technologies.science_intensity[s.firms.technology] > 0
    assert np.all(gate_paired[paired & science] > gate_alone[paired & science])
    assert np.array_equal(gate_paired[~paired], gate_alone[~paired])
    # a partner is an institution of the firm's own field
    assert np.array_equal(s.institutions.field[s.firms.partner[paired]], s.firms.technology[paired])


def test_a_won_challenge_raises_the_winners_alignment(state) -> None:  # type: ignore[no-untyped-def]
    s = copy.deepcopy(state)
    before = s.institutions.alignment.copy()
    funding = s.institutions.funding.copy()
    budget = np.where(s.technologies.simulated, 5.0, 0.0)
    params = ChallengeParams(share=1.0, alignment_gain=0.1)
    UnveilingTheList(params).allocate(s, ctx_for(s, "unveiling_the_list"), budget)
    won = s.institutions.funding > funding
    assert won.any()
    np.testing.assert_allclose(s.institutions.alignment[won], np.minimum(1.0, before[won] + 0.1))
    np.testing.assert_array_equal(s.institutions.alignment[~won], before[~won])


def test_new_rd_institutes_upgrade_legacy_institutes(state) -> None:  # type: ignore[no-untyped-def]
    s = copy.deepcopy(state)
    new = INSTITUTION_TYPES.index("new_rd_institute")
    count = int((s.institutions.kind == new).sum())
    budget = np.where(s.technologies.simulated, 50.0, 0.0)
    NewRDInstitutes(NewInstituteParams(share=1.0)).allocate(s, ctx_for(s, "new_rd_institutes"), budget)
    upgraded = s.institutions.kind == new
    assert upgraded.sum() > count
    assert np.all(s.institutions.alignment[upgraded] >= 0.55)


def test_tournament_picks_the_highest_measured_scores(state) -> None:  # type: ignore[no-untyped-def]
    s = copy.deepcopy(state)
    params = NationalTeamParams(share=1.0, per_province=2, team_size=3, referee_noise=0.3)
    select_team(s, params, np.random.default_rng(11))
    # replay the referee's two measurements with the same generator
    rng = np.random.default_rng(11)
    grassroots, national = rng.standard_normal(len(s.firms)), rng.standard_normal(len(s.firms))
    local = measured_score(s, params, grassroots)
    final = measured_score(s, params, national)
    n_prov = len(s.provinces)
    eligible = s.technologies.priority[s.firms.technology] > 0
    for t in np.flatnonzero(s.technologies.priority > 0)[:10]:
        in_t = np.flatnonzero((s.firms.technology == t) & eligible)
        advancers = []
        for p in range(n_prov):
            members = in_t[s.firms.province[in_t] == p]
            advancers += list(members[np.argsort(-local[members], kind="stable")[:2]])
        advancers = np.array(advancers, dtype=int)
        expected = set(advancers[np.argsort(-final[advancers], kind="stable")[:3]])
        assert set(np.flatnonzero(s.firms.national_team & (s.firms.technology == t))) == expected


def _run(scenario, seed: int = 1):  # type: ignore[no-untyped-def]
    return api.simulate(scenario, seed=seed)


def test_export_controls_cut_know_how_and_the_foreign_share_on_controlled_technologies() -> None:
    controlled = small("baseline")
    free = small("no_controls")
    a, b = _run(controlled), _run(free)
    ids = ["lithography_machines", "high_end_chips", "chip_design_software"]
    year = 2026
    ta = a.technology_year[(a.technology_year.year == year) & a.technology_year.technology_id.isin(ids)]
    tb = b.technology_year[(b.technology_year.year == year) & b.technology_year.technology_id.isin(ids)]
    assert np.all(ta.knowhow_access.to_numpy() < tb.knowhow_access.to_numpy())
    # one year in, before capabilities diverge, the foreign firms' Chinese sales fall under controls
    first = a.technology_year[(a.technology_year.year == 2025) & a.technology_year.technology_id.isin(ids)]
    first_free = b.technology_year[(b.technology_year.year == 2025) & b.technology_year.technology_id.isin(ids)]
    assert np.all(first.foreign_china_sales.to_numpy() < first_free.foreign_china_sales.to_numpy())


def test_higher_centralisation_raises_allocation_quality() -> None:
    quality = {}
    for chi in (0.0, 1.0):
        scenario = {"base": "baseline", "levers": {"local_allocation": {"centralisation": chi}}}
        runs = [_run(small(scenario, end_year=2028), seed) for seed in range(3)]
        quality[chi] = np.mean([r.macro_year.allocation_quality.iloc[1:].mean() for r in runs])
    assert quality[1.0] > quality[0.0]


def test_patent_reform_raises_spin_offs() -> None:
    entries = {}
    for omega in (0.0, 1.0):
        scenario = {"base": "baseline", "levers": {"patent_reform": {"inventor_share": omega}}}
        result = _run(small(scenario, end_year=2027))
        entries[omega] = result.technology_year.entries.sum()
    assert entries[1.0] > entries[0.0]


def test_shortlist_concentrates_funding_more_than_broad() -> None:
    hhi = {
        name: _run(small(name, end_year=2027)).macro_year.hhi_funding.iloc[1:].mean()
        for name in ("broad50", "shortlist5")
    }
    assert hhi["shortlist5"] > hhi["broad50"]


def test_keep_manufacturing_holds_the_share_up_and_costs_subsidies() -> None:
    keep, decline = _run(small("keep_manufacturing")), _run(small("let_it_decline"))
    share = lambda r: r.macro_year.set_index("year").manufacturing_share.loc[2035]  # noqa: E731
    assert share(keep) > share(decline)
    assert keep.macro_year.manufacturing_subsidy.iloc[1:].sum() > 0
    assert decline.macro_year.manufacturing_subsidy.iloc[1:].sum() == 0
