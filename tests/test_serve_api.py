"""The policy-simulator API through FastAPI's TestClient: results, validation, limits, safety."""

from __future__ import annotations

import json
import re
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import nswn
from nswn.scenario import io
from nswn.serve import controls
from nswn.serve.app import LOOPBACK_HOSTS, Settings, create_app
from nswn.serve.runner import Runner
from nswn.serve.scenarios import expand_overrides
from nswn.serve.schemas import ServiceProblem

with warnings.catch_warnings():
    # starlette deprecates its httpx-based client in favour of httpx2; the API is the same
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

FIRMS = 300
END = 2030
SMALL = {"firms": FIRMS, "end_year": END}
BUDGET = "levers.central_budget.share_of_gdp"


def make_client(**changes: Any) -> TestClient:
    return TestClient(create_app(Settings(warm=False, threads=4, **changes)))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client() as test_client:
        yield test_client


def simulate(client: TestClient, **body: Any) -> Any:
    return client.post("/api/simulate", json={**SMALL, **body})


# ---------------------------------------------------------------- documents


def test_health_reports_version_and_cache(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["version"] == nswn.__version__
    assert set(body["cache"]) >= {"cached_runs", "cache_size", "hits", "misses"}


def test_scenarios_lists_every_shipped_scenario_with_its_values(client: TestClient) -> None:
    listed = {s["name"]: s for s in client.get("/api/scenarios").json()}
    assert set(listed) == set(io.shipped_scenarios())
    baseline = listed["baseline"]
    assert baseline["hash"] == io.scenario_hash(io.load("baseline"))
    assert baseline["values"][BUDGET] == io.load("baseline").levers.central_budget.share_of_gdp
    assert set(baseline["values"]) == {p["path"] for p in controls.parameters()}


def test_catalog_keeps_levers_and_assumptions_apart_with_units_ranges_and_help(client: TestClient) -> None:
    catalog = client.get("/api/catalog").json()
    assert catalog["version"] == nswn.__version__
    sections = {p["section"] for p in catalog["parameters"]}
    assert sections == {"levers", "assumptions"}
    paths = {p["path"]: p for p in catalog["parameters"]}
    for section in ("levers", "assumptions"):
        curated = catalog["controls"][section]
        assert len(curated) >= 5
        for control in curated:
            for key in ("label_en", "label_zh", "help_en", "help_zh"):
                assert control[key].strip(), (control, key)
            if control.get("path"):
                param = paths[control["path"]]
                assert param["section"] == section
                assert (control["lo"], control["hi"], control["unit"]) == (param["lo"], param["hi"], param["unit"])
    lever_ids = {c["id"] for c in catalog["controls"]["levers"]}
    assert {"levers.priorities.mode", "levers.priorities.shortlist_size", BUDGET, "instruments"} <= lever_ids
    assert {"levers.local_allocation.centralisation", "export_controls", "levers.patent_reform.inventor_share"} <= (
        lever_ids
    )
    assert any("keep" in i for i in lever_ids)
    assumption_ids = {c["id"] for c in catalog["controls"]["assumptions"]}
    assert {"assumptions.environment.frontier_growth_scale", "assumptions.innovation.emulation_rate"} <= assumption_ids
    assert {t["group"] for t in catalog["technologies"]} >= {"stranglehold", "bottleneck"}


def test_every_reference_parameter_has_a_range_from_the_schema() -> None:
    for param in controls.parameters():
        if param["kind"] in ("number", "integer"):
            assert param["lo"] is not None and param["hi"] is not None, param["path"]
            assert param["lo"] < param["hi"]
        if param["kind"] == "choice":
            assert param["choices"], param["path"]


# ---------------------------------------------------------------- simulate


def test_simulate_returns_the_same_tables_as_the_library(client: TestClient) -> None:
    response = simulate(client, seed=3, overrides={BUDGET: 0.01})
    assert response.status_code == 200
    body = response.json()
    direct = nswn.simulate(
        {"base": "baseline", "levers": {"central_budget": {"share_of_gdp": 0.01}}}, seed=3, firms=FIRMS, end_year=END
    )
    assert body["manifest"]["scenario_hash"] == direct.manifest["scenario_hash"]
    assert body["manifest"]["run_id"] == direct.run_id
    tech = body["technology_year"]
    assert tech["relative_capability"] == pytest.approx(direct.technology_year["relative_capability"].tolist())
    assert tech["technology_id"] == direct.technology_year["technology_id"].tolist()
    assert body["macro_year"]["gdp"] == pytest.approx(direct.macro_year["gdp"].tolist())
    # NaN (no parity yet) travels as null
    assert None in tech["first_parity_year"]


def test_a_lever_changes_the_results(client: TestClient) -> None:
    base = simulate(client).json()
    more = simulate(client, overrides={BUDGET: 0.03}).json()
    assert base["manifest"]["scenario_hash"] != more["manifest"]["scenario_hash"]
    assert base["technology_year"]["relative_capability"] != more["technology_year"]["relative_capability"]


def test_repeated_requests_come_from_the_cache(client: TestClient) -> None:
    first = simulate(client, seed=11)
    second = simulate(client, seed=11)
    assert first.json()["cached"] is False
    assert second.json()["cached"] is True
    assert first.json()["technology_year"] == second.json()["technology_year"]


def test_override_paths_may_be_dotted_or_nested(client: TestClient) -> None:
    dotted = simulate(client, overrides={BUDGET: 0.02}).json()
    nested = simulate(client, overrides={"levers": {"central_budget": {"share_of_gdp": 0.02}}}).json()
    assert dotted["manifest"]["scenario_hash"] == nested["manifest"]["scenario_hash"]


def test_columns_can_be_chosen_with_a_prefix_wildcard(client: TestClient) -> None:
    body = simulate(client, technology_columns=["year", "funding_*"], macro_columns=["gdp"]).json()
    assert body["technology_year"]["year"]
    assert all(c == "year" or c.startswith("funding_") for c in body["technology_year"])
    assert "funding_total" in body["technology_year"]
    assert list(body["macro_year"]) == ["gdp"]


def test_interactive_defaults_come_from_the_settings() -> None:
    with make_client(firms=250, max_end_year=2031) as small:
        manifest = small.post("/api/simulate", json={}).json()["manifest"]
    assert (manifest["firms"], manifest["start_year"], manifest["end_year"]) == (250, 2024, 2031)


# ---------------------------------------------------------------- validation


def detail(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    return response.json()["detail"]


def test_unknown_parameter_is_422_with_its_path(client: TestClient) -> None:
    (problem,) = detail(simulate(client, overrides={"levers.central_budget.share_of_gpd": 0.01}))
    assert problem["loc"] == ["body", "overrides", "levers.central_budget.share_of_gpd"]
    assert "share_of_gdp" in problem["msg"]  # the suggestion


def test_out_of_range_value_names_the_allowed_range(client: TestClient) -> None:
    (problem,) = detail(simulate(client, overrides={BUDGET: 0.5}))
    assert problem["loc"] == ["body", "overrides", BUDGET]
    assert "0.05" in problem["msg"] and problem["input"] == 0.5


def test_every_problem_is_reported_at_once(client: TestClient) -> None:
    problems = detail(
        simulate(
            client,
            overrides={"levers.priorities.mode": "everything", BUDGET: -1, "assumptions.nope.x": 1},
        )
    )
    locs = {tuple(p["loc"]) for p in problems}
    assert ("body", "overrides", "levers.priorities.mode") in locs
    assert ("body", "overrides", BUDGET) in locs
    assert any("assumptions" in loc[2] for loc in locs if len(loc) > 2)


@pytest.mark.parametrize(
    "key",
    ["years.end", "firms", "base", "name", "../../etc/passwd", "levers..x", "Levers.priorities.mode"],
)
def test_overrides_may_only_change_levers_and_assumptions(client: TestClient, key: str) -> None:
    problems = detail(simulate(client, overrides={key: 1}))
    assert problems[0]["loc"][:2] == ["body", "overrides"]


@pytest.mark.parametrize("base", ["/etc/passwd", "../scenarios/baseline.yaml", "baseline.yaml", "nope"])
def test_base_must_be_a_shipped_scenario_never_a_path(client: TestClient, base: str) -> None:
    (problem,) = detail(simulate(client, base=base))
    assert problem["loc"] == ["body", "base"]


def test_unknown_request_fields_are_refused(client: TestClient) -> None:
    (problem,) = detail(simulate(client, path="/etc/passwd"))
    assert problem["loc"] == ["body", "path"]


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"firms": 40_001}, "firms", "40000"),
        ({"firms": 99}, "firms", "100"),
        ({"end_year": 2051}, "end_year", "2050"),
        ({"start_year": 1999}, "start_year", "2000"),
        ({"seed": -1}, "seed", "0"),
    ],
)
def test_run_size_limits_are_422_naming_the_limit(
    client: TestClient, body: dict[str, Any], field: str, limit: str
) -> None:
    (problem,) = detail(client.post("/api/simulate", json=body))
    assert problem["loc"] == ["body", field]
    assert limit in problem["msg"] and "limit" in problem["msg"]


def test_years_must_be_in_order(client: TestClient) -> None:
    problems = detail(client.post("/api/simulate", json={"start_year": 2040, "end_year": 2030}))
    assert "after" in problems[0]["msg"]


def test_strings_and_booleans_are_not_numbers(client: TestClient) -> None:
    assert detail(client.post("/api/simulate", json={"firms": "3000"}))[0]["loc"] == ["body", "firms"]
    assert detail(client.post("/api/simulate", json={"seed": True}))[0]["loc"] == ["body", "seed"]


def test_unknown_column_is_422(client: TestClient) -> None:
    (problem,) = detail(simulate(client, macro_columns=["gdp", "happiness"]))
    assert problem["loc"] == ["body", "macro_columns", 1]


def test_body_size_is_capped_with_413() -> None:
    with make_client(max_body_bytes=2048) as small:
        response = small.post("/api/simulate", json={"overrides": {f"levers.x{i}": i for i in range(300)}})
        assert response.status_code == 413
        assert "2048 bytes" in response.json()["detail"]

        def chunks() -> Iterator[bytes]:
            yield b'{"overrides": {'
            for i in range(400):
                yield f'"levers.a{i}": {i},'.encode()
            yield b'"levers.b": 1}}'

        streamed = small.post("/api/simulate", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413


def test_invalid_json_is_400(client: TestClient) -> None:
    response = client.post("/api/simulate", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code in (400, 422)


def test_run_time_is_capped() -> None:
    with make_client(run_seconds=1e-6) as slow:
        (problem,) = detail(slow.post("/api/simulate", json=SMALL))
    assert problem["type"] == "run_time_limit"
    assert "run-time limit" in problem["msg"] and "1e-06 s" in problem["msg"]


def test_too_many_waiting_runs_is_429() -> None:
    with make_client(max_pending=0) as busy:
        response = busy.post("/api/simulate", json=SMALL)
    assert response.status_code == 429
    assert "limit" in response.json()["detail"]
    assert response.headers["retry-after"]


def test_host_header_is_checked_when_serving_loopback() -> None:
    with make_client(allowed_hosts=LOOPBACK_HOSTS) as local:
        assert local.get("/api/health", headers={"host": "127.0.0.1:8000"}).status_code == 200
        assert local.get("/api/health", headers={"host": "evil.example"}).status_code == 400


# ---------------------------------------------------------------- concurrency and the cache


def test_concurrent_requests_do_not_share_state(client: TestClient) -> None:
    budgets = [0.004, 0.006, 0.008, 0.012, 0.004, 0.006, 0.008, 0.012]
    results: dict[int, Any] = {}

    def call(i: int) -> None:
        results[i] = simulate(client, seed=5, overrides={BUDGET: budgets[i]}, macro_columns=["gdp", "debt_to_gdp"])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(budgets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.status_code == 200 for r in results.values())
    for i, budget in enumerate(budgets):
        alone = nswn.simulate(
            {"base": "baseline", "levers": {"central_budget": {"share_of_gdp": budget}}},
            seed=5,
            firms=FIRMS,
            end_year=END,
        )
        assert results[i].json()["macro_year"]["debt_to_gdp"] == pytest.approx(alone.macro_year["debt_to_gdp"].tolist())


def test_identical_concurrent_runs_are_computed_once() -> None:
    runner = Runner(threads=4)
    scenario = nswn.load_scenario("baseline").model_dump(mode="json")
    scenario.update(firms=FIRMS, years={"start": 2024, "end": 2027})
    futures = [runner.submit(scenario, 1)[0] for _ in range(6)]
    tables = {id(f.result(timeout=60)) for f in futures}
    runner.close()
    assert len(tables) == 1
    assert runner.stats()["misses"] == 1


def test_cached_values_are_immutable_and_evicted_least_recently_used() -> None:
    runner = Runner(threads=1, cache_size=2)
    scenario = nswn.load_scenario("baseline").model_dump(mode="json")
    scenario.update(firms=FIRMS, years={"start": 2024, "end": 2026})
    first = runner.submit(scenario, 1)[0].result(timeout=60)
    with pytest.raises(TypeError):
        first.macro_year["gdp"] = "[]"  # type: ignore[index]
    with pytest.raises(TypeError):
        first.manifest["seed"] = 9  # type: ignore[index]
    runner.submit(scenario, 2)[0].result(timeout=60)
    assert runner.submit(scenario, 1)[1] is True  # touched: now the most recent
    runner.submit(scenario, 3)[0].result(timeout=60)  # evicts seed 2
    assert runner.submit(scenario, 1)[1] is True
    assert runner.submit(scenario, 2)[1] is False
    runner.close()
    assert runner.stats()["cached_runs"] <= 2


def test_cache_key_ignores_descriptions_and_key_order() -> None:
    a = {"name": "a", "firms": 1, "years": {"start": 1, "end": 2}, "description": "x"}
    b = {"years": {"end": 2, "start": 1}, "firms": 1, "name": "a", "description": "y"}
    assert Runner.key(a, 0) == Runner.key(b, 0)
    assert Runner.key(a, 0) != Runner.key(a, 1)
    assert Runner.key(a, 0) != Runner.key({**a, "name": "b"}, 0)  # the name is part of the run id


def test_expand_overrides_builds_nested_changes_and_rejects_overlaps() -> None:
    assert expand_overrides({"levers.a.b": 1, "levers.a.c": 2}) == {"levers": {"a": {"b": 1, "c": 2}}}
    with pytest.raises(ServiceProblem) as raised:
        expand_overrides({"levers.a": 1, "levers.a.b": 2})
    assert raised.value.status == 422


# ---------------------------------------------------------------- scenario files


def test_scenario_yaml_reproduces_the_run_with_nswn_run(client: TestClient, tmp_path: Path) -> None:
    overrides = {BUDGET: 0.012, "levers.priorities.mode": "shortlist"}
    ran = simulate(client, seed=2, overrides=overrides).json()
    response = client.post(
        "/api/scenario.yaml", json={**SMALL, "seed": 2, "overrides": overrides, "name": "my shortlist"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert 'filename="my-shortlist.yaml"' in response.headers["content-disposition"]
    data = yaml.safe_load(response.text)
    assert data["base"] == "baseline"
    assert data["levers"] == {"central_budget": {"share_of_gdp": 0.012}, "priorities": {"mode": "shortlist"}}
    assert "assumptions" not in data  # only what changed
    path = tmp_path / "my-shortlist.yaml"
    path.write_text(response.text, encoding="utf-8")
    loaded = nswn.load_scenario(path)
    sized = nswn.api.with_overrides(loaded, firms=FIRMS, end_year=END)
    assert io.scenario_hash(sized) == ran["manifest"]["scenario_hash"]
    # the command written in the file's header runs it
    command = next(line for line in response.text.splitlines() if "nswn run" in line and "--seed" in line)
    args = command.split("nswn run", 1)[1].split()
    args[0] = str(path)
    from nswn.cli import app

    out = tmp_path / "results"
    result = CliRunner().invoke(app, ["run", *args, "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    store = nswn.open_results(out)
    assert store.runs()["scenario_hash"].tolist() == [ran["manifest"]["scenario_hash"]]
    stored = store.technology_year().sort_values(["technology_id", "year"])
    served = pd.DataFrame(ran["technology_year"]).sort_values(["technology_id", "year"])
    assert stored["relative_capability"].tolist() == pytest.approx(served["relative_capability"].tolist())


def test_scenario_yaml_validates_like_simulate(client: TestClient) -> None:
    response = client.post("/api/scenario.yaml", json={"overrides": {BUDGET: 9}})
    assert detail(response)[0]["loc"] == ["body", "overrides", BUDGET]
    response = client.post("/api/scenario.yaml", json={"name": "../../etc/passwd"})
    assert detail(response)[0]["loc"] == ["body", "name"]


# ---------------------------------------------------------------- the page and the document


def test_openapi_document_states_the_limits(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert {"/api/simulate", "/api/scenarios", "/api/catalog", "/api/health", "/api/scenario.yaml"} <= set(
        document["paths"]
    )
    request = document["components"]["schemas"]["SimulateRequest"]["properties"]
    firms = next(option for option in request["firms"]["anyOf"] if option.get("type") == "integer")
    assert firms["maximum"] == 40_000
    assert request["base"]["enum"] == list(io.shipped_scenarios())
    assert set(document["paths"]["/api/simulate"]["post"]["responses"]) >= {"200", "413", "422", "429"}


def test_page_and_its_assets_are_served_without_external_urls(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = ["/static/app.js", "/static/i18n.js", "/static/style.css"]
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert "http://" not in response.text and "https://" not in response.text, asset
    assert "http://" not in page.text and "https://" not in page.text
    plotly_js = client.get("/vendor/plotly.min.js")
    assert plotly_js.status_code == 200 and "plotly" in plotly_js.text[:2000].lower()
    assert client.get("/static/../app.py").status_code == 404


def test_curated_labels_exist_in_both_languages() -> None:
    i18n = (Path(controls.__file__).parent / "static" / "i18n.js").read_text(encoding="utf-8")
    english = i18n.split("zh: {")[0]
    chinese = i18n.split("zh: {")[1]
    keys = set(re.findall(r"^    ([a-z_0-9]+):", english, flags=re.MULTILINE))
    assert len(keys) > 40
    for key in keys:
        assert re.search(rf"^    {key}:", chinese, flags=re.MULTILINE), key
    json.dumps(controls.curated_controls(), ensure_ascii=False)  # JSON-ready
