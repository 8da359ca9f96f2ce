"""The policy-simulator page in a real browser: levers, charts, the share link, languages."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

import nswn
from nswn.scenario import io

pytestmark = pytest.mark.browser

BUDGET = "levers.central_budget.share_of_gdp"
BUDGET_INPUT = "#c-levers-central_budget-share_of_gdp"
MODE_INPUT = "#c-levers-priorities-mode"
TIMEOUT = 60_000


def wait_ready(page: Any, previous_hash: str | None = None) -> str:
    """Wait until the page shows results (different from ``previous_hash``); return their hash."""
    condition = "document.getElementById('results').dataset.state === 'ready'"
    if previous_hash is not None:
        condition += f" && document.getElementById('results').dataset.scenarioHash !== '{previous_hash}'"
    page.wait_for_function(condition, timeout=TIMEOUT)
    return str(page.get_attribute("#results", "data-scenario-hash"))


def traces(page: Any, chart: str) -> dict[str, list[Any]]:
    """The y values of a chart's traces, split into this scenario and the (dashed) baseline."""
    return page.evaluate(
        """(id) => {
            const data = document.getElementById(id).data;
            const dashed = (t) => (t.line || {}).dash === 'dash';
            const pick = (want) => data.filter((t) => t.y && t.y[0] !== null && dashed(t) === want).map((t) => t.y);
            return {scenario: pick(false), baseline: pick(true)};
        }""",
        chart,
    )


def test_lever_change_redraws_the_charts_and_the_link_reproduces_it(
    live_server: str, new_page: Any, screenshot: Any
) -> None:
    page, console = new_page()
    page.goto(live_server + "/")
    first_hash = wait_ready(page)

    # levers and assumptions are separate panels; each control has its range, unit and help
    assert page.locator("section.levers .control").count() >= 9
    assert page.locator("section.assumptions .control").count() >= 6
    for control in page.locator("section.levers .control[data-path], section.assumptions .control").all():
        assert control.locator(".help").first.inner_text().strip()
    assert "share of GDP" not in page.locator(f"{BUDGET_INPUT} ~ .meta").inner_text()  # shown as %
    assert "% of GDP" in page.locator(f"{BUDGET_INPUT} ~ .meta").inner_text()
    assert "firms" in page.locator("#notice").inner_text() and "cache" in page.locator("#notice").inner_text()

    before = traces(page, "chart-parity")
    assert before["scenario"] and len(before["baseline"]) == len(before["scenario"])  # baseline drawn beside
    assert before["scenario"] == before["baseline"]  # no changes yet

    page.locator(BUDGET_INPUT).fill("0.03")
    changed_hash = wait_ready(page, first_hash)
    after = traces(page, "chart-parity")
    assert after["scenario"] != before["scenario"]
    assert after["baseline"] == before["baseline"]
    assert page.locator(f".control[data-path='{BUDGET}']").get_attribute("class").split().count("changed") == 1
    screenshot(page, "page-after-lever-change.png")

    # the URL holds the package version and the changed lever only
    query = parse_qs(urlparse(page.url).query)
    assert query == {"v": [nswn.__version__], BUDGET: ["0.03"]}
    assert page.input_value("#share-link") == page.url

    fresh, fresh_console = new_page()
    fresh.goto(page.url)
    assert wait_ready(fresh) == changed_hash
    assert fresh.input_value(BUDGET_INPUT) == "0.03"
    assert fresh.input_value(MODE_INPUT) == page.input_value(MODE_INPUT)
    assert traces(fresh, "chart-parity") == after
    assert console.errors == [] and fresh_console.errors == []


def test_choices_and_the_export_control_yard_change_the_scenario(live_server: str, new_page: Any) -> None:
    page, console = new_page()
    page.goto(live_server + "/")
    start = wait_ready(page)
    page.select_option(MODE_INPUT, "shortlist")
    shortlist = wait_ready(page, start)
    page.select_option("#export-yard", "stranglehold")
    yard = wait_ready(page, shortlist)
    query = parse_qs(urlparse(page.url).query)
    assert query["levers.priorities.mode"] == ["shortlist"]
    assert query["export.yard"] == ["stranglehold"]
    # the instrument shares stay a split of 100 %
    first = page.locator("[data-control='instruments'] input[type=range]").first
    first.fill("0.2")
    wait_ready(page, yard)
    shares = page.evaluate(
        "[...document.querySelectorAll(\"[data-control='instruments'] input[type=range]\")].map((e) => +e.value)"
    )
    assert sum(shares) == pytest.approx(1.0, abs=1e-6)
    assert shares[0] == pytest.approx(0.2)
    assert console.errors == []


def test_downloaded_yaml_is_a_scenario_nswn_run_accepts(live_server: str, new_page: Any, tmp_path: Path) -> None:
    page, console = new_page()
    page.goto(live_server + "/?v=" + nswn.__version__ + "&levers.priorities.mode=shortlist&seed=4")
    shown = wait_ready(page)
    with page.expect_download() as download:
        page.click("#download")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".yaml"
    scenario = nswn.load_scenario(path)
    assert scenario.levers.priorities.mode == "shortlist"
    catalog = page.evaluate("fetch('/api/catalog').then((r) => r.json())")
    sized = nswn.api.with_overrides(scenario, firms=catalog["interactive"]["firms"], end_year=2050)
    assert io.scenario_hash(sized) == shown
    assert "--seed 4" in path.read_text(encoding="utf-8")
    assert console.errors == []


def test_language_toggle_switches_labels_to_chinese_and_back(live_server: str, new_page: Any) -> None:
    page, console = new_page()
    page.goto(live_server + "/")
    wait_ready(page)
    page.click("#lang")
    assert page.inner_text("h1") == "新型举国体制政策模拟器"
    assert page.inner_text("section.levers h2") == "政策杠杆"
    assert "中央科技预算" in page.inner_text("section.levers")
    assert "卡脖子" in page.inner_text("#kpis")
    page.click("#lang")
    assert page.inner_text("h1") == "nswn policy simulator"
    assert console.errors == []


def test_a_link_with_an_invalid_value_shows_the_field_and_the_range(live_server: str, new_page: Any) -> None:
    page, _ = new_page()
    page.goto(f"{live_server}/?v={nswn.__version__}&{BUDGET}=0.9")
    page.wait_for_function("document.getElementById('results').dataset.state === 'error'", timeout=TIMEOUT)
    errors = page.inner_text("#errors")
    assert BUDGET in errors and "0.05" in errors


def test_a_link_from_another_version_warns(live_server: str, new_page: Any) -> None:
    page, console = new_page()
    page.goto(f"{live_server}/?v=0.0.0-old&levers.no_such.lever=1")
    wait_ready(page)
    notes = page.inner_text("#link-notes")
    assert "0.0.0-old" in notes and "levers.no_such.lever" in notes
    assert console.errors == []
