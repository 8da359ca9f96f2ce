"""Fixtures for the browser tests: Debian's Chromium through Playwright, a live service.

Every test here is marked ``browser`` and skips cleanly when /usr/bin/chromium (or the
playwright package) is missing. Screenshots go under the test's tmp dir and, when the
environment names one with ``NSWN_SCREENSHOTS=DIR``, are copied there too.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


class Console:
    """Console errors and uncaught exceptions of one page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """``new_page()`` → (page, console) in a fresh browser context (no shared storage)."""
    contexts = []

    def make() -> tuple[Any, Console]:
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        return page, Console(page)

    yield make
    for context in contexts:
        context.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(browser: Any) -> Iterator[str]:
    """The service with its interactive defaults, on a loopback port, in a thread."""
    import uvicorn

    from nswn import api
    from nswn.serve.app import LOOPBACK_HOSTS, Settings, create_app

    # compile the engine's kernels once before any page waits on them (a fresh checkout has no
    # numba cache: the first page update would otherwise pay the whole compile inside a test's wait)
    base = api.load_scenario("baseline")
    api.simulate(base, seed=0, firms=200, end_year=base.years.start + 2)
    # a small population keeps the UI tests fast; the page's own default is the whole real population
    app = create_app(Settings(threads=2, allowed_hosts=LOOPBACK_HOSTS, firms=3000))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="nswn-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


@pytest.fixture
def screenshot(tmp_path: Path) -> Any:
    """``screenshot(page, name)``: save a full-page PNG under tmp_path (and NSWN_SCREENSHOTS)."""

    def take(page: Any, name: str) -> Path:
        path = tmp_path / name
        page.screenshot(path=str(path), full_page=True)
        target = os.environ.get("NSWN_SCREENSHOTS")
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(target) / name)
        return path

    return take
