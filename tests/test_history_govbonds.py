"""Government-bond financing in the history data (issue 11: debt/GDP targets; D1).

TSF (``tsf_flow``) left out government bonds until Sep 2018 (local special bonds) and Dec 2019
(all); NIFD's leverage includes government debt. These tests pin how the new rows of
``history/macro_series.csv`` hang together: each derived row follows its stated formula, the
formula reproduces independent published totals (MOF SDDS bond financing, PBoC's comparable
2018 TSF, MOF debt totals) within their rounding, and the credit series counts a bond once.
"""

from __future__ import annotations

import csv
from importlib import resources

import pytest

NEW = (
    "central_government_debt",
    "local_government_debt",
    "local_government_bonds",
    "local_bond_new",
    "local_bond_swap",
    "government_bond_net_financing",
    "government_bond_net_financing_incl_swaps",
    "tsf_local_special_bonds",
    "tsf_flow_incl_government_bonds",
)


def _rows() -> list[dict[str, str]]:
    text = resources.files("nswn.catalog").joinpath("history", "macro_series.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _series(indicator: str) -> dict[int, float]:
    return {int(r["year"]): float(r["value"]) for r in _rows() if r["indicator"] == indicator}


def _basis(indicator: str) -> dict[int, str]:
    return {int(r["year"]): r["basis"] for r in _rows() if r["indicator"] == indicator}


def test_every_government_bond_row_has_a_basis_a_source_and_says_why_when_judged() -> None:
    rows = [r for r in _rows() if r["indicator"] in NEW]
    assert {r["indicator"] for r in rows} == set(NEW)
    for r in rows:
        key = (r["indicator"], r["year"])
        assert r["basis"] in ("sourced", "derived", "judged"), key
        assert len(r["source"]) > 20, key
        assert r["unit"].startswith("bn CNY (current prices)"), key
        if r["basis"] == "judged":
            assert any(w in r["source"] for w in ("not verified", "not re-verified", "quota")), key
    # one row per indicator and year
    keys = [(r["indicator"], r["year"]) for r in rows]
    assert len(keys) == len(set(keys))


def test_net_financing_is_the_change_in_central_debt_plus_new_local_bonds() -> None:
    central, new = _series("central_government_debt"), _series("local_bond_new")
    net = _series("government_bond_net_financing")
    derived = [y for y, b in _basis("government_bond_net_financing").items() if b == "derived"]
    assert derived == list(range(2006, 2018))
    for year in derived:
        assert net[year] == pytest.approx(central[year] - central[year - 1] + new.get(year, 0.0), abs=0.05), year
    # 2007: the CIC special treasury bonds (1.55 trn) make up most of that year's central borrowing
    assert net[2007] - 1550.0 < 200.0


@pytest.mark.parametrize("year", [2018, 2019])
def test_the_rule_reproduces_mofs_sdds_bond_financing(year: int) -> None:
    """MOF's SDDS table (sourced) is financing net of swap bonds: it matches Δcentral + new local bonds."""
    assert _basis("government_bond_net_financing")[year] == "sourced"
    central, new = _series("central_government_debt"), _series("local_bond_new")
    rule = central[year] - central[year - 1] + new[year]
    assert _series("government_bond_net_financing")[year] == pytest.approx(rule, rel=0.01)


def test_with_swaps_adds_the_swap_bonds_and_they_sum_to_the_reported_programme() -> None:
    net, swap, incl = (
        _series("government_bond_net_financing"),
        _series("local_bond_swap"),
        _series("government_bond_net_financing_incl_swaps"),
    )
    assert set(incl) == set(swap) == {2015, 2016, 2017, 2018}
    for year in incl:
        assert incl[year] == pytest.approx(net[year] + swap[year], abs=0.05)
    # MOF (China Daily 26 Jan 2018): 10.9 trn swapped 2015-2017 (2015 counted to 11 Dec only)
    assert sum(swap[y] for y in (2015, 2016, 2017)) == pytest.approx(10900.0, rel=0.01)


def test_central_and_local_debt_add_up_to_the_published_government_totals() -> None:
    central, local = _series("central_government_debt"), _series("local_government_debt")
    assert central[2016] + local[2016] == pytest.approx(27330.0, rel=0.002)  # Xiao Jie, Mar 2017 (local rounded)
    assert central[2017] + local[2017] == pytest.approx(29950.0, abs=0.5)  # MOF via Yicai, Mar 2018
    assert _series("local_government_bonds")[2018] < local[2018]
    # the central series has no gaps 2005-2019 and rises every year
    assert sorted(central) == list(range(2005, 2020))
    assert all(central[y] > central[y - 1] for y in range(2006, 2020))


def test_credit_with_government_bonds_counts_each_bond_once() -> None:
    tsf, out = _series("tsf_flow"), _series("tsf_flow_incl_government_bonds")
    net, incl = _series("government_bond_net_financing"), _series("government_bond_net_financing_incl_swaps")
    special = _series("tsf_local_special_bonds")[2018]
    assert sorted(out) == list(range(2006, 2020))
    for year in range(2006, 2018):
        assert out[year] == pytest.approx(tsf[year] + incl.get(year, net[year]), abs=0.05), year
    # 2018: TSF already holds the local special bonds; 2019: TSF holds every government bond
    assert out[2018] == pytest.approx(tsf[2018] - special + incl[2018], abs=0.05)
    assert out[2019] == tsf[2019]
    # PBoC (Yicai 16 Jan 2020): 2019's 25.6 trn was 3.08 trn above 2018 on the all-bonds basis
    assert out[2018] == pytest.approx(tsf[2019] - 3080.0, rel=0.005)
