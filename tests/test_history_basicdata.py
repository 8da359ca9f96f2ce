"""The government's own basic-research spending in the history data (issue 11, basic-research targets; D3).

``history/macro_series.csv`` holds the budget side of basic research: central-level basic research
(``central_basic_research_spending``), central S&T spending (``central_st_expenditure``) and the NSFC
appropriation (``nsfc_appropriation``). These tests pin how the rows hang together: each row says its
basis and whether it is a budget, execution or final-account figure, each derived row follows the
formula its source states, and the three nest (NSFC within basic research within central S&T within
all fiscal S&T) in every year where two of them meet.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from importlib import resources

import pytest

NEW = ("central_basic_research_spending", "central_st_expenditure", "nsfc_appropriation")


def _rows() -> list[dict[str, str]]:
    text = resources.files("nswn.catalog").joinpath("history", "macro_series.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _series(indicator: str) -> dict[int, float]:
    return {int(r["year"]): float(r["value"]) for r in _rows() if r["indicator"] == indicator}


def test_every_row_has_a_basis_a_source_and_says_which_kind_of_figure_it_is() -> None:
    rows = [r for r in _rows() if r["indicator"] in NEW]
    assert {r["indicator"] for r in rows} == set(NEW)
    for r in rows:
        key = (r["indicator"], r["year"])
        assert 2006 <= int(r["year"]) <= 2024, key
        assert r["basis"] in ("sourced", "derived", "judged"), key
        assert len(r["source"]) > 20, key
        assert r["unit"] == "bn CNY (current prices)", key
        assert float(r["value"]) > 0, key
        # budget figures and outturns differ: each row says which one it is
        assert any(w in r["note"] for w in ("budget", "final-account", "execution", "outturn", "kind unknown")), key
        if r["basis"] == "judged":
            assert "not verified" in r["source"] or "not found" in r["source"], key
    keys = [(r["indicator"], r["year"]) for r in rows]
    assert len(keys) == len(set(keys))


# Each derived row and the rule its source states (growth rates as printed; values in bn CNY).
FORMULAS: dict[tuple[str, int], Callable[[dict[str, dict[int, float]]], float]] = {
    # 2021 central final accounts: 720.91 亿元, +15.3 %
    ("central_basic_research_spending", 2020): lambda s: s["central_basic_research_spending"][2021] / 1.153,
    # 2022 budget execution report: +13.5 %
    ("central_basic_research_spending", 2022): lambda s: s["central_basic_research_spending"][2021] * 1.135,
    # 2024 budget: 98 bn, +13 %
    ("central_basic_research_spending", 2023): lambda s: s["central_basic_research_spending"][2024] / 1.13,
    # 2009 report: 2008 116.3 bn, +16.4 %
    ("central_st_expenditure", 2007): lambda s: s["central_st_expenditure"][2008] / 1.164,
    # 2012 budget 228.54 bn, +12.4 %
    ("central_st_expenditure", 2011): lambda s: s["central_st_expenditure"][2012] / 1.124,
    # 2016 budget 271 bn, +9.1 %
    ("central_st_expenditure", 2015): lambda s: s["central_st_expenditure"][2016] / 1.091,
    # 2020 budget ~320 bn, -9.1 %
    ("central_st_expenditure", 2019): lambda s: s["central_st_expenditure"][2020] / (1 - 0.091),
    # 2022 budget +7.2 % on the 2021 outturn
    ("central_st_expenditure", 2022): lambda s: s["central_st_expenditure"][2021] * 1.072,
    # 2024 budget 370.8 bn, +10 %
    ("central_st_expenditure", 2023): lambda s: s["central_st_expenditure"][2024] / 1.10,
    # NSFC 2022: 330.1 亿元, 21.02 亿元 more than 2021
    ("nsfc_appropriation", 2021): lambda s: s["nsfc_appropriation"][2022] - 2.102,
}


def test_each_derived_row_follows_the_rule_its_source_states() -> None:
    series = {name: _series(name) for name in NEW}
    derived = {(r["indicator"], int(r["year"])) for r in _rows() if r["indicator"] in NEW and r["basis"] == "derived"}
    assert derived == set(FORMULAS), "a derived row without a stated rule, or a rule without its row"
    for (indicator, year), rule in FORMULAS.items():
        # rounded to 0.1 bn or 0.01 bn in the file
        assert series[indicator][year] == pytest.approx(rule(series), abs=0.06), (indicator, year)


def test_sourced_rows_agree_with_the_growth_rates_other_sources_print() -> None:
    central = _series("central_st_expenditure")
    # 2008 is printed (116.3 bn); MOST's 2009 figure (146.1 bn, +25.6 % on 2008) reproduces it
    assert central[2009] / 1.256 == pytest.approx(central[2008], abs=0.06)
    # the 2012 budget's basic research (32.45 bn) is Nature's "+10.1 % on the 29.5 bn spent in 2011"
    basic = _series("central_basic_research_spending")
    assert basic[2012] / basic[2011] - 1 == pytest.approx(0.101, abs=0.005)


def test_nsfc_within_basic_research_within_central_st_within_all_fiscal_st() -> None:
    nsfc = _series("nsfc_appropriation")
    basic = _series("central_basic_research_spending")
    central = _series("central_st_expenditure")
    national = _series("fiscal_st_expenditure")
    pairs = [(nsfc, basic), (basic, central), (central, national)]
    for inner, outer in pairs:
        common = sorted(set(inner) & set(outer))
        assert common, "no common year to compare"
        for year in common:
            assert inner[year] < outer[year], year
    # the NSFC (a basic-research programme) is a large part of central basic research
    assert 0.3 < nsfc[2021] / basic[2021] < 0.6


def test_basic_research_share_of_central_st_rises_from_a_seventh_to_a_quarter() -> None:
    """The data's finding: basic research was ~14-15 % of central S&T in 2011-2014, ~22-27 % in 2021-2024."""
    basic, central = _series("central_basic_research_spending"), _series("central_st_expenditure")
    share = {y: basic[y] / central[y] for y in sorted(set(basic) & set(central))}
    early = [share[y] for y in share if y <= 2014]
    late = [share[y] for y in share if y >= 2021]
    assert len(early) >= 3 and len(late) >= 4
    assert all(0.13 < s < 0.16 for s in early), early
    assert all(0.21 < s < 0.28 for s in late), late
