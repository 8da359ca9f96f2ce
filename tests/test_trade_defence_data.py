"""The trade-defence schedule (catalog/history/trade_defence.csv; issue 11, task D2).

These tests pin the file's form and the basis rule of catalog/history/README.md, so that a
row cannot claim a number it does not carry or carry a number without saying where it comes
from, and the derivation of the `history` scenario's yearly measures from it
(``hindcast.trade_defence_inputs``): which rows enter, day weighting, layers and segments.
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
    "start_date",
    "end_date",
    "layer",
    "market_fraction",
    "in_series",
    "rate_note",
    "market_share_ex_china",
    "share_basis",
    "basis",
    "source",
    "note",
]
TECHNOLOGIES = {"solar_pv", "lithium_batteries", "electric_vehicles"}
SHARE_BASES = ("sourced", "derived", "judged", "not found")
LAYERS = {"remedy", "safeguard", "section_301", "surtax", "customs", "other"}


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


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_dates_layers_and_series_flags_are_consistent(row: dict[str, str]) -> None:
    """A row in the yearly series has a rate, a share and a start date in its start year; a row left
    out says why (``no: ...``); dates are ISO and end after they start."""
    from datetime import date

    assert row["layer"] in LAYERS
    assert 0.0 < float(row["market_fraction"]) <= 1.0
    assert row["in_series"] == "yes" or row["in_series"].startswith("no: ")
    if row["start_date"]:
        start = date.fromisoformat(row["start_date"])
        assert start.year == int(row["start_year"])
        if row["end_date"]:
            end = date.fromisoformat(row["end_date"])
            assert end > start and end.year == int(row["end_year"])
    if row["in_series"] == "yes":
        assert row["rate_pct"] and row["market_share_ex_china"] and row["start_date"]
        assert "all origins" not in row["measure"] and "not China-specific" not in row["note"]
    elif "not China-specific" in row["note"] or "all origins" in row["measure"]:
        assert row["in_series"] == "no: all origins"


def test_fractions_of_one_market_cover_at_most_the_market() -> None:
    """The EU's solar price undertaking (about 70 % of the market) and the duties (the rest) are
    disjoint segments of one market; the EU's EV duty covers battery-electric cars only."""
    by_market: dict[tuple[str, str], set[float]] = {}
    for r in ROWS:
        if r["in_series"] == "yes":
            by_market.setdefault((r["technology"], r["market"]), set()).add(float(r["market_fraction"]))
    for key, fractions in by_market.items():
        assert sum(fractions) <= 1.0 + 1e-9, key
    assert by_market[("solar_pv", "EU")] == {0.7, 0.3}
    (ev_fraction,) = by_market[("electric_vehicles", "EU")]
    assert ev_fraction == pytest.approx(1.448 / 2.207, abs=1e-3)  # ACEA 2024: BEVs of BEV+PHEV registrations


def test_yearly_measures_by_hand() -> None:
    """The derivation's rules on rows whose arithmetic is easy to follow (hindcast.trade_defence_inputs)."""
    from nswn.analysis import hindcast

    measures = hindcast.trade_defence_inputs()
    by = {}
    for m in measures:
        by.setdefault((m["technologies"][0], m["year"]), []).append((m["coverage"], m["tariff"]))
    # nothing before the first measure (US Solar I, 25 May 2012); every measure lasts one year
    assert min(m["year"] for m in measures) == 2012 and all(m["duration"] == 1 for m in measures)
    # 2012: Solar I from 25 May, 221 of 366 days at 41.2 %
    assert by[("solar_pv", 2012)] == [(0.181, round(0.412 * 221 / 366, 4))]
    # US solar 2019: Solar I and Solar II are one layer (the larger, 54.4 %) and Section 301 adds 25 %;
    # the all-origin Section 201 safeguard is left out
    us_2019 = [t for c, t in by[("solar_pv", 2019)] if c == 0.193]
    assert us_2019 == [pytest.approx(0.544 + 0.25)]
    # US EVs 2024: 25 % until 27 Sep, 100 % after (day-weighted), on the 2024 share of the market
    us_ev = [t for c, t in by[("electric_vehicles", 2024)] if c == 0.267]
    days_before = (date_(2024, 9, 27) - date_(2024, 1, 1)).days
    assert us_ev == [pytest.approx(round((0.25 * days_before + 1.0 * (366 - days_before)) / 366, 4))]
    # the EU's solar duties split the market: the undertaking's 70 % and the duties' 30 % of 0.249
    assert {c for c, _ in by[("solar_pv", 2015)]} >= {round(0.249 * 0.7, 4), round(0.249 * 0.3, 4)}
    # Brazil's all-origin EV tax and Turkey's hybrid tariff stay out: the 2024 EV segments are US, EU, Canada, Turkey
    assert len(by[("electric_vehicles", 2024)]) == 4
    # the measures in force in one year never cover more than the market outside China
    for key, parts in by.items():
        assert sum(c for c, _ in parts) <= 1.0, key


def date_(y: int, m: int, d: int) -> object:
    from datetime import date

    return date(y, m, d)


def test_carried_on_measures_take_the_rates_of_the_last_day() -> None:
    """baseline's measures from 2025: the US 100 % on EVs (from 27 Sep 2024), the EU's 20.7 % until it
    lapses in 2029 (5 years, 2029 counted in), US solar at Solar II's 54.4 % plus Section 301's 50 %."""
    from nswn.analysis import hindcast

    later = [m for m in hindcast.trade_defence_inputs(2024, 2024, carry_on=True) if m["year"] == 2025]
    ev = {m["coverage"]: (m["tariff"], m["duration"]) for m in later if m["technologies"] == ["electric_vehicles"]}
    assert ev[0.267] == (1.0, None) and ev[0.045] == (1.0, None)
    assert ev[round(0.368 * 0.656, 4)] == (0.207, 5)
    solar = {m["coverage"]: m["tariff"] for m in later if m["technologies"] == ["solar_pv"]}
    assert solar[0.193] == pytest.approx(0.544 + 0.50)
    assert [m["tariff"] for m in later if m["technologies"] == ["lithium_batteries"]] == [0.25]


class _Resources:
    """A stand-in for ``importlib.resources`` that serves one CSV text (the derivation's rules on
    rows the shipped file does not have)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def files(self, _package: str) -> _Resources:
        return self

    def joinpath(self, *_parts: str) -> _Resources:
        return self

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.text


def test_carry_on_rules_on_made_up_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """baseline's carried-on measures (hindcast.trade_defence_inputs, ``carry_on``) on rows made up to
    reach the rules the shipped rows do not: the segment lasts until the last of its carried rows
    lapses (the year of its last day in force counted in), has no expiry if any carried row has none,
    includes a row that starts on 31 Dec, and leaves out a row whose end date is 1 Jan of the next year
    (an end date is the first day without the rate)."""
    from nswn.analysis import hindcast

    made_up = [
        # market, layer, rate, start, end, share
        ("AA", "remedy", "10", "2020-01-01", "2026-03-01", "0.1"),
        ("AA", "section_301", "20", "2022-06-01", "2028-06-01", "0.2"),  # lapses last: 2028
        ("BB", "remedy", "10", "2020-01-01", "", "0.3"),  # no end: the segment has none
        ("BB", "surtax", "5", "2021-01-01", "2027-03-01", "0.3"),
        ("CC", "surtax", "30", "2024-12-31", "", "0.05"),  # one day in 2024, then in full
        ("DD", "customs", "40", "2023-01-01", "2025-01-01", "0.04"),  # last day 31 Dec 2024: not carried on
        ("EE", "customs", "40", "2023-01-01", "2026-01-01", "0.06"),  # last day 31 Dec 2025: one year
    ]
    lines = [",".join(COLUMNS)]
    for market, layer, rate, start, end, share in made_up:
        row = dict.fromkeys(COLUMNS, "")
        row |= {"technology": "solar_pv", "market": market, "layer": layer, "rate_pct": rate}
        row |= {"start_date": start, "end_date": end, "market_fraction": "1", "in_series": "yes"}
        row |= {"market_share_ex_china": share, "start_year": start[:4], "end_year": end[:4]}
        lines.append(",".join(row[c] for c in COLUMNS))
    monkeypatch.setattr(hindcast, "resources", _Resources("\n".join(lines)))

    measures = hindcast.trade_defence_inputs(2024, 2024, carry_on=True)
    by = {(m["coverage"], m["year"]): (m["tariff"], m["duration"]) for m in measures}
    assert by[(0.2, 2025)] == (0.30, 4)  # both layers; 2025-2028
    assert by[(0.3, 2025)] == (0.15, None)
    assert by[(0.05, 2024)] == (round(0.30 / 366, 4), 1) and by[(0.05, 2025)] == (0.30, None)
    assert by[(0.04, 2024)] == (0.40, 1) and (0.04, 2025) not in by
    assert by[(0.06, 2025)] == (0.40, 1)
    assert len(measures) == 5 + 4  # one measure per segment in 2024, four carried on
