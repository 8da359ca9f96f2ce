"""Research (model.md §6.5): output, publications, patents and usable knowledge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nswn.core.model import Model
from nswn.core.state import Institutions
from nswn.mechanisms.research import Research, ResearchParams


def tiny_institutions() -> Institutions:
    """Four institutions: three in field 0 (university, new R&D institute, public institute), one in field 1."""
    return Institutions(
        kind=np.array([0, 2, 1, 3], dtype=np.int8),
        field=np.array([0, 0, 0, 1], dtype=np.int32),
        quality=np.array([1.0, 2.0, 0.5, 3.0]),
        alignment=np.array([0.1, 0.5, 0.2, 0.25]),
        funding=np.array([1.0, 4.0, 0.0, 9.0]),
        output=np.zeros(4),
        publications=np.zeros(4),
        patents=np.zeros(4),
    )


def test_research_on_a_tiny_state_by_hand(model: Model, run_until: Callable[..., Any]) -> None:
    _, ctx = run_until(model, "research")
    state = model.state
    state.institutions = tiny_institutions()
    tech = state.technologies
    tech.knowledge[:2] = [10.0, 4.0]
    tech.knowhow_access[:2] = [0.5, 1.0]
    tech.research_reference[:2] = [3.0, 1.0]
    params = ResearchParams(
        elasticity=0.5,
        publications_per_output=100.0,
        patents_university=10.0,
        patents_public_institute=20.0,
        patents_new_rd_institute=40.0,
        patents_military_institute=30.0,
        knowledge_depreciation=0.1,
        international_knowledge=2.0,
    )
    Research(params).step(state, ctx)
    inst = state.institutions
    # o = q·f^0.5 = [1·1, 2·2, 0.5·0, 3·3]
    np.testing.assert_allclose(inst.output, [1.0, 4.0, 0.0, 9.0])
    np.testing.assert_allclose(inst.publications, [100.0, 400.0, 0.0, 900.0])
    np.testing.assert_allclose(inst.patents, [10.0, 160.0, 0.0, 270.0])
    # U0 = 0.9·10 + (0.1·1 + 0.5·4 + 0.2·0) + 0.5·2·3 = 9 + 2.1 + 3 = 14.1
    # U1 = 0.9·4 + 0.25·9 + 1.0·2·1 = 3.6 + 2.25 + 2 = 7.85
    assert tech.knowledge[0] == pytest.approx(14.1)
    assert tech.knowledge[1] == pytest.approx(7.85)


def test_research_step_matches_the_formulas_on_the_built_state(model: Model, run_until: Callable[..., Any]) -> None:
    research, ctx = run_until(model, "research")
    state = model.state
    inst, tech = state.institutions, state.technologies
    knowledge = tech.knowledge.copy()
    research.step(state, ctx)
    p = research.params
    np.testing.assert_allclose(inst.output, inst.quality * inst.funding**p.elasticity)
    np.testing.assert_allclose(inst.publications, p.publications_per_output * inst.output)
    per_kind = [
        p.patents_university,
        p.patents_public_institute,
        p.patents_new_rd_institute,
        p.patents_military_institute,
    ]
    np.testing.assert_allclose(inst.patents, [per_kind[k] * o for k, o in zip(inst.kind, inst.output, strict=True)])
    for j in (tech.index("lithography_machines"), tech.index("solar_pv")):
        aligned = sum(inst.alignment[k] * inst.output[k] for k in np.flatnonzero(inst.field == j))
        inflow = tech.knowhow_access[j] * p.international_knowledge * tech.research_reference[j]
        assert tech.knowledge[j] == pytest.approx((1 - p.knowledge_depreciation) * knowledge[j] + aligned + inflow)


def test_two_layers_unaligned_research_publishes_but_adds_no_usable_knowledge(
    model: Model, run_until: Callable[..., Any]
) -> None:
    research, ctx = run_until(model, "research")
    state = model.state
    state.institutions.alignment[:] = 0.0
    tech = state.technologies
    knowledge = tech.knowledge.copy()
    research.step(state, ctx)
    assert state.institutions.publications.sum() > 0
    expected = 0.9 * knowledge + tech.knowhow_access * 1.0 * tech.research_reference
    np.testing.assert_allclose(tech.knowledge, expected)
