"""The policy-simulator page in a real browser: levers, charts, the share link, languages,
paired seeds (bands, paired intervals, "no clear effect"), the modified baseline and the
capability attribution."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

import nswn
from nswn.scenario import io
from nswn.serve.schemas import Settings

pytestmark = pytest.mark.browser

BUDGET = "levers.central_budget.share_of_gdp"
BUDGET_INPUT = "#c-levers-central_budget-share_of_gdp"
MODE_INPUT = "#c-levers-priorities-mode"
EMULATION_INPUT = "#c-assumptions-innovation-emulation_rate"
# a page update runs 2 × page_seeds runs of ~4 000 agents; the shared test machine can be slow
TIMEOUT = 300_000


def wait_ready(page: Any, previous_hash: str | None = None) -> str:
    """Wait until the page shows results (different from ``previous_hash``); return their hash."""
    condition = "document.getElementById('results').dataset.state === 'ready'"
    if previous_hash is not None:
        condition += f" && document.getElementById('results').dataset.scenarioHash !== '{previous_hash}'"
    page.wait_for_function(condition, timeout=TIMEOUT)
    return str(page.get_attribute("#results", "data-scenario-hash"))


def wait_update(page: Any, previous: str) -> str:
    """Wait for the next finished update after the one counted ``previous``; return its count."""
    page.wait_for_function(
        "document.getElementById('results').dataset.state === 'ready'"
        f" && document.getElementById('results').dataset.updates !== '{previous}'",
        timeout=TIMEOUT,
    )
    return str(page.get_attribute("#results", "data-updates"))


def traces(page: Any, chart: str) -> dict[str, list[Any]]:
    """The median lines of a chart, split into this scenario and the (dashed) comparison."""
    return page.evaluate(
        """(id) => {
            const data = document.getElementById(id).data;
            const pick = (want) => data.filter((t) => t.meta === want).map((t) => t.y);
            return {scenario: pick('scenario'), baseline: pick('comparison')};
        }""",
        chart,
    )


def bands(page: Any, chart: str) -> int:
    """How many 90 % bands (filled traces) or error bars a chart draws."""
    return int(
        page.evaluate(
            """(id) => document.getElementById(id).data.filter((t) =>
                t.fill === 'tonexty' || (t.error_x && t.error_x.array) || (t.error_y && t.error_y.array)).length""",
            chart,
        )
    )


def card(page: Any, name: str) -> dict[str, Any]:
    """A headline card: its effect (up / down / none), interval bounds, text and arrow."""
    return dict(
        page.evaluate(
            """(name) => {
                const card = document.querySelector(`.kpi[data-kpi='${name}']`);
                const diff = card.querySelector('.kpi-diff');
                return {
                    effect: card.dataset.effect, low: Number(card.dataset.low), high: Number(card.dataset.high),
                    text: card.innerText, arrow: getComputedStyle(diff, '::before').content,
                };
            }""",
            name,
        )
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


CHARTS = (
    "chart-parity",
    "chart-capability",
    "chart-layers",
    "chart-share",
    "chart-exports",
    "chart-gdp",
    "chart-mfg",
    "chart-debt",
    "chart-funding",
    "chart-hhi",
    "chart-parity-years",
    "chart-why",
)


def test_doubling_the_budget_shows_bands_and_a_positive_paired_interval(
    live_server: str, new_page: Any, screenshot: Any
) -> None:
    """Acceptance: 0.50 % → 1.00 % of GDP, at the page's resolution and default paired seeds, raises
    the stranglehold parity count in 2050 with a 90 % interval above 0 (measured at the page's 12 seeds,
    0–11, 3 654 agents, after round 6 of the history fixes: +1.00 [+0.27, +1.73]; at 16 seeds after
    round 5 +1.19 [+0.35, +2.02]; docs/page.md)."""
    page, console = new_page()
    page.goto(live_server + "/")
    count = wait_update(page, "")
    assert f"{Settings().page_seeds} paired seeds" in page.inner_text("#status")
    assert "resolution 0.125" in page.inner_text("#notice")
    page.locator(BUDGET_INPUT).fill("0.01")
    wait_update(page, count)
    for chart in CHARTS:
        assert bands(page, chart) >= 2, f"{chart} draws no 90 % band for both arms"
    parity = card(page, "parity_end")
    assert parity["effect"] == "up" and parity["low"] > 0
    assert "Δ +" in parity["text"] and "[" in parity["text"] and "no clear effect" not in parity["text"]
    assert "▲" in parity["arrow"]
    screenshot(page, "page-budget-doubled.png")
    assert console.errors == []


def test_a_tiny_budget_change_shows_an_arrow_only_when_its_interval_excludes_zero(
    live_server: str, new_page: Any, screenshot: Any
) -> None:
    """0.50 % → 0.51 % of GDP: every card shows an arrow exactly when its 90 % paired interval
    excludes 0, and "no clear effect" otherwise.

    Whether the parity count's interval covers 0 here is the model's and the seeds' business,
    not the test's: measured at the page's 3 654 agents and 12 seeds (after round 6 of the history
    fixes), seeds 0–11 give a chance arrow, +0.67 [+0.03, +1.30] ▲, while 12–23 give +0.00
    [−1.23, +1.23] and 24–35 +0.67 [−0.63, +1.96] (a change with no effect shows an arrow on
    about one card in ten at a 90 % level; docs/page.md).
    The deterministic "no clear effect" state is pinned below with no change."""
    page, console = new_page()
    page.goto(live_server + "/")
    count = wait_update(page, "")
    page.locator(BUDGET_INPUT).fill("0.0051")  # the slider reaches 0.51 % (its step is 0.01 % of GDP)
    wait_update(page, count)
    assert page.locator(BUDGET_INPUT).evaluate("(i) => i.closest('.control').querySelector('output').textContent") == (
        "0.51 %"
    )
    assert parse_qs(urlparse(page.url).query)[BUDGET] == ["0.0051"]
    for node in page.locator(".kpi").all():
        low, high = float(node.get_attribute("data-low")), float(node.get_attribute("data-high"))
        effect = node.get_attribute("data-effect")
        assert (effect == "none") == (low <= 0 <= high), (node.get_attribute("data-kpi"), low, high, effect)
        arrow = node.locator(".kpi-diff").evaluate("(d) => getComputedStyle(d, '::before').content")
        assert ("▲" in arrow or "▼" in arrow) == (effect != "none")
        if effect == "none":
            assert "no clear effect" in node.inner_text()
    screenshot(page, "page-budget-tiny-change.png")
    assert console.errors == []


def test_no_lever_change_shows_no_clear_effect_and_no_arrow(live_server: str, new_page: Any) -> None:
    """With nothing changed the scenario is its own comparison: every paired difference is 0,
    every card says "no clear effect" and none shows an arrow."""
    page, console = new_page()
    page.goto(f"{live_server}/?v={nswn.__version__}")
    wait_update(page, "")
    parity = card(page, "parity_end")
    assert parity["effect"] == "none" and parity["low"] == 0 == parity["high"]
    assert "no clear effect" in parity["text"]
    assert "▲" not in parity["arrow"] and "▼" not in parity["arrow"]
    assert console.errors == []


def test_after_an_assumption_change_the_comparison_is_the_base_under_that_assumption(
    live_server: str, new_page: Any, screenshot: Any
) -> None:
    page, console = new_page()
    page.goto(live_server + "/")
    count = wait_update(page, "")
    default = traces(page, "chart-parity")
    page.locator(EMULATION_INPUT).fill("0.15")
    count = wait_update(page, count)
    modified = traces(page, "chart-parity")
    assert page.get_attribute("#results", "data-comparison") == "modified"
    # the dashed comparison moved with the assumption; with no lever changed it is the scenario itself
    assert modified["baseline"] != default["baseline"]
    assert modified["baseline"] == modified["scenario"]
    assert all(card(page, name)["effect"] == "none" for name in ("parity_end", "gdp_end", "tfp_end"))
    screenshot(page, "page-modified-baseline.png")

    # the toggle brings back the default-assumption baseline (and says so in the link)
    page.select_option("#compare", "default")
    wait_update(page, count)
    shown = traces(page, "chart-parity")
    assert shown["baseline"] == default["baseline"]
    assert shown["scenario"] == modified["scenario"]
    assert parse_qs(urlparse(page.url).query)["cmp"] == ["default"]
    assert console.errors == []


def test_the_attribution_chart_explains_a_chosen_technology(live_server: str, new_page: Any, screenshot: Any) -> None:
    page, console = new_page()
    page.goto(live_server + "/")
    wait_update(page, "")
    page.select_option("#why-tech", "high_end_chips")
    page.wait_for_function("document.getElementById('chart-why').dataset.technology === 'high_end_chips'")
    labels = page.evaluate("document.getElementById('chart-why').data[1].y")
    for label in ("emulation of the frontier (own R&D)", "own innovation", "frontier's own growth (−)", "total change"):
        assert label in labels
    assert any(label.startswith("subsidies: ") for label in labels)
    assert page.input_value("#tech") == "high_end_chips"  # the capability chart follows the choice
    note = page.inner_text("#why-note")
    assert "High-end chips" in note and "add up" in note
    # every seed's channels add up to its change of log relative capability
    errors = page.evaluate(
        """() => fetch('/api/ensemble', {method: 'POST', headers: {'content-type': 'application/json'},
                 body: JSON.stringify({base: 'baseline', overrides: {}, first_seed: 0,
                                       comparison: 'modified'})})
               .then((r) => r.json()).then((d) => Object.values(d.attribution.by_technology)
               .flatMap((x) => [x.scenario.max_sum_error, x.comparison.max_sum_error]).filter((e) => e !== null))"""
    )
    assert errors and max(errors) <= 1e-9
    # the technologies the priority mode weighted, with the reason
    rows = page.locator("#selection tbody tr")
    assert rows.count() > 0
    assert "broad" in page.inner_text("#selection")
    assert page.locator("#selection tbody tr[data-technology='lithography_machines']").count() == 1
    screenshot(page, "page-attribution.png")
    assert console.errors == []
