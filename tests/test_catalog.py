"""The shipped catalog: technologies, provinces and macro starting values."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nswn import catalog

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_there_are_35_stranglehold_technologies_and_ids_are_unique() -> None:
    techs = catalog.technologies()
    assert sum(t.group == "stranglehold" for t in techs) == 35
    ids = [t.id for t in techs]
    assert len(ids) == len(set(ids))
    assert catalog.technology_ids() == tuple(ids)
    assert {t.group for t in techs} <= set(catalog.GROUPS)


def test_stranglehold_names_match_the_shared_list() -> None:
    source = SHARED_DATA / "stranglehold_35.csv"
    if not source.is_file():
        pytest.skip(f"{source} is not available")
    with source.open(encoding="utf-8") as handle:
        shared = {int(row["id"]): (row["name_en"], row["name_zh"]) for row in csv.DictReader(handle)}
    assert len(shared) == 35
    ours = {}
    for t in catalog.technologies():
        if t.group == "stranglehold":
            assert t.identity_source.startswith("stranglehold_35.csv id ")
            ours[int(t.identity_source.split(" id ")[1].split()[0])] = (t.name_en, t.name_zh)
    assert ours == shared


def test_every_judged_row_has_a_rationale() -> None:
    judged = [t for t in catalog.technologies() if t.basis == "judged"]
    assert judged
    assert [t.id for t in judged if len(t.rationale.strip()) < 10] == []
    assert all(t.basis in ("sourced", "judged") for t in catalog.technologies())
    assert all(t.identity_source.strip() for t in catalog.technologies())


def test_values_are_within_their_documented_ranges() -> None:
    for t in catalog.technologies():
        for name, (lo, hi) in catalog.TECHNOLOGY_RANGES.items():
            assert lo <= getattr(t, name) <= hi, (t.id, name)
        assert t.issue_owner_type in catalog.OWNER_TYPES


def test_31_provinces_with_gdp_shares_summing_to_one() -> None:
    provinces = catalog.provinces()
    assert len(provinces) == 31
    assert len({p.id for p in provinces}) == 31
    assert sum(p.gdp_share for p in provinces) == pytest.approx(1.0, abs=1e-4)
    total_gdp = sum(p.gdp_2023 for p in provinces)
    for p in provinces:
        assert p.gdp_share == pytest.approx(p.gdp_2023 / total_gdp, abs=1e-5)
        assert 0.0 <= p.pilot_zone_intensity <= 1.0
        assert p.gdp_source.strip() and p.pilot_basis.strip()


def test_macro_facts_have_sources() -> None:
    facts = catalog.macro()
    for key in ("gdp", "manufacturing_value_added", "services_share", "debt_to_gdp"):
        assert key in facts
    for fact in facts.values():
        assert fact.source.strip(), fact.key
        assert fact.basis in ("sourced", "judged"), fact.key
        assert fact.unit.strip(), fact.key


def test_gdp_is_the_documented_closure_of_manufacturing_value_added_and_share() -> None:
    facts = catalog.macro()
    derived = facts["manufacturing_value_added"].value / facts["manufacturing_share"].value
    assert facts["gdp"].value == pytest.approx(derived, rel=1e-4)
