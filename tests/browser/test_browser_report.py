"""The HTML report opens in a real browser offline, draws every chart and logs no errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import nswn
from nswn.report import build_report
from nswn.storage.store import ResultsStore

pytestmark = pytest.mark.browser


def test_report_opens_offline_without_console_errors(
    new_page: Any, screenshot: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    results = tmp_path_factory.mktemp("results")
    store = ResultsStore(results)
    for seed in (0, 1, 2):
        store.write(nswn.simulate("baseline", seed=seed, firms=500))
    store.write(nswn.simulate("shortlist5", seed=0, firms=500))
    report = build_report(results, tmp_path_factory.mktemp("report") / "report.html")

    page, console = new_page()
    requests: list[str] = []

    def only_the_file(route: Any) -> None:
        requests.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_the_file)
    page.goto(Path(report).resolve().as_uri())
    page.wait_for_function(
        "document.querySelectorAll('.plotly-graph-div').length >= 8 && "
        "[...document.querySelectorAll('.plotly-graph-div')].every((d) => d.classList.contains('js-plotly-plot'))",
        timeout=60_000,
    )
    plots = page.evaluate("[...document.querySelectorAll('.js-plotly-plot')].map((d) => d.data.length)")
    assert all(count > 0 for count in plots)
    screenshot(page, "report.png")
    assert console.errors == []
    assert requests == [Path(report).resolve().as_uri()]
