"""The trade-defence schedule (catalog/history/trade_defence.csv; issue 11, task D2).

Data only: no model code reads the file yet. These tests pin the file's form and the
basis rule of catalog/history/README.md, so that a row cannot claim a number it does not
carry or carry a number without saying where it comes from.
"""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from nswn import catalog

COLUMNS = [
    "technology",
    "market",
    "measure",
    "start_year",
    "end_year",
    "rate_pct",
    "rate_note",
    "market_share_ex_china",
    "share_basis",
    "basis",
    "source",
    "note",
]
TECHNOLOGIES = {"solar_pv", "lithium_batteries", "electric_vehicles"}
SHARE_BASES = ("sourced", "derived", "judged", "not found")


def _rows() -> list[dict[str, str]]:
    text = resources.files("nswn.catalog").joinpath("history", "trade_defence.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines())
    assert reader.fieldnames == COLUMNS
    return list(reader)


ROWS = _rows()


def _row_id(row: dict[str, str]) -> str:
    return f"{row['technology']}/{row['market']}/{row['start_year']}/{row['measure'][:30]}"


def test_the_schedule_covers_the_three_technologies_and_known_ids() -> None:
    ids = {row["technology"] for row in ROWS}
    assert ids == TECHNOLOGIES
    assert ids <= set(catalog.technology_ids())


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_every_row_follows_the_basis_rule(row: dict[str, str]) -> None:
    assert row["basis"] in ("sourced", "derived", "judged")
    assert row["market"].strip() and row["measure"].strip() and row["source"].strip()
    if row["basis"] == "sourced":  # a sourced rate is printed in a named source
        assert row["rate_pct"] != "" and "not found" not in row["source"]
    if row["basis"] == "derived":  # a derived rate says how it was computed
        assert "=" in row["note"] or "=" in row["rate_note"]
    if row["rate_pct"] == "":  # a row without a rate says why
        assert row["basis"] == "judged" and row["rate_note"].strip()


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_years_rates_and_shares_are_in_range(row: dict[str, str]) -> None:
    start = int(row["start_year"])
    assert 2006 <= start <= 2026
    if row["end_year"]:
        assert start <= int(row["end_year"]) <= 2030
    if row["rate_pct"]:
        assert 0.0 <= float(row["rate_pct"]) <= 300.0
    assert row["share_basis"].startswith(SHARE_BASES)
    if row["market_share_ex_china"]:
        assert 0.0 < float(row["market_share_ex_china"]) <= 1.0
        assert not row["share_basis"].startswith("not found")
    else:
        assert row["share_basis"].startswith("not found")


def test_the_key_measures_of_the_brief_are_present_with_their_printed_rates() -> None:
    """Rates checked against the sources named in the rows (issue 11, task D2's check list)."""
    by_key = {(r["technology"], r["market"], int(r["start_year"]), r["rate_pct"]) for r in ROWS}
    expected = {
        ("solar_pv", "US", 2018, "30"),  # Section 201, year 1
        ("solar_pv", "US", 2024, "50"),  # Section 301 on solar cells
        ("solar_pv", "EU", 2013, "47.7"),  # definitive AD+CVD, cooperating exporters
        ("solar_pv", "India", 2018, "25"),  # safeguard, year 1
        ("solar_pv", "India", 2022, "40"),  # basic customs duty on modules
        ("lithium_batteries", "US", 2024, "25"),  # Section 301 on EV batteries
        ("electric_vehicles", "US", 2024, "100"),
        ("electric_vehicles", "EU", 2024, "20.7"),  # definitive CVD, other cooperating
        ("electric_vehicles", "Canada", 2024, "100"),
        ("electric_vehicles", "Turkey", 2023, "40"),
    }
    assert expected <= by_key


def test_the_eu_solar_measures_end_when_they_lapsed_in_september_2018() -> None:
    eu_solar = [r for r in ROWS if r["technology"] == "solar_pv" and r["market"] == "EU"]
    assert eu_solar and max(int(r["end_year"]) for r in eu_solar) == 2018


def test_the_us_solar_i_rate_is_the_sum_it_claims() -> None:
    """Derived rows carry their formula; the Solar I rate is AD 25.96 + CVD 15.24."""
    (row,) = [r for r in ROWS if "Solar I," in r["measure"]]
    assert float(row["rate_pct"]) == pytest.approx(25.96 + 15.24, abs=0.05)
