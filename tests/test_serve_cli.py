"""``nswn serve`` as a user starts it: a real uvicorn process with its worker processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from nswn.cli import app
from nswn.serve.commands import _is_loopback


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    nswn = Path(sys.executable).with_name("nswn")
    process = subprocess.Popen(
        [str(nswn), "serve", "--port", str(port), "--processes", "1", "--firms", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            if process.poll() is not None:
                pytest.fail(f"nswn serve exited: {process.stdout.read() if process.stdout else ''}")
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("nswn serve did not answer within 60 s")
    yield url, process
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_serve_answers_on_loopback_and_runs_in_worker_processes(server: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = server
    response = httpx.post(f"{url}/api/simulate", json={"end_year": 2028, "macro_columns": ["year", "gdp"]}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["manifest"]["firms"] == 300
    assert body["macro_year"]["year"] == [2024, 2025, 2026, 2027, 2028]
    page = httpx.get(url + "/", timeout=10)
    assert page.status_code == 200 and "nswn policy simulator" in page.text
    assert httpx.get(url + "/openapi.json", timeout=10).json()["info"]["title"] == "nswn policy simulator"


def test_serve_refuses_foreign_host_headers_on_loopback(server: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = server
    assert httpx.get(f"{url}/api/health", headers={"host": "attacker.example"}, timeout=10).status_code == 400


def test_serve_prints_where_it_listens(server: tuple[str, subprocess.Popen[str]]) -> None:
    _, process = server
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("nswn policy simulator: http://127.0.0.1:")


def test_serve_help_names_the_safety_default() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "127.0.0.1" in result.output


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("10.0.0.5", False)],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback
