"""Issue 16, the service: echoed user text never breaks a response; exposed hosts; busy ports."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from nswn.serve.app import Settings, create_app  # noqa: E402
from nswn.serve.commands import allowed_hosts, port_in_use  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(Settings(firms=300, processes=0, warm=False))
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize(
    "body",
    [
        '{"base": "baseline", "overrides": {"levers.priorities.mode": "\\ud800"}}',
        '{"base": "\\udfff"}',
        '{"base": "baseline", "overrides": {"\\ud800x": 1}}',
        '{"base": "baseline", "name": "\\u4e2d\\u6587 \\ud800"}',
    ],
)
def test_lone_surrogates_are_answered_with_a_4xx_not_a_500(client: TestClient, body: str) -> None:
    for path in ("/api/simulate", "/api/scenario.yaml"):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:200])
        if response.headers["content-type"].startswith("application/json"):
            json.loads(response.text)  # valid JSON, surrogates escaped


def test_a_non_ascii_scenario_name_gives_an_ascii_file_name(client: TestClient) -> None:
    response = client.post("/api/scenario.yaml", json={"base": "baseline", "name": "政策 test"})
    assert response.status_code == 200
    assert 'filename="test.yaml"' in response.headers["content-disposition"]


def test_an_exposed_service_answers_only_known_hosts() -> None:
    hosts = allowed_hosts("0.0.0.0", loopback=False, extra=["sim.example.org"])
    assert hosts is not None and "sim.example.org" in hosts and "localhost" in hosts
    assert "0.0.0.0" not in hosts
    assert allowed_hosts("0.0.0.0", loopback=False, extra=["*"]) is None
    app = create_app(Settings(firms=300, processes=0, warm=False, allowed_hosts=hosts))
    with TestClient(app) as c:
        assert c.get("/api/health", headers={"host": "evil.example.com"}).status_code == 400
        assert c.get("/api/health", headers={"host": "sim.example.org"}).status_code == 200


def test_a_busy_port_is_found_before_the_url_is_announced() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert port_in_use("127.0.0.1", port)
    assert port_in_use("127.0.0.1", port) is None
