"""Browser-test fixtures: Kassa served by a real server thread on 127.0.0.1, driven by
Playwright through Debian's /usr/bin/chromium (no browser is ever downloaded).

- ``browser``: one Chromium for the whole session.
- ``live_server``: ``live_server(**config)`` starts the app (``make_app``'s services:
  a fresh database and Redis per test) on a free port in 5300-5399 and returns a
  :class:`Live` (``.url``, ``.app``, ``.services``); stopped after the test.
- ``page``: a new browser context (no cookies) and page per test; when the test
  fails, a full-page screenshot is saved to ``tests/screenshots/<test>.png``.
- ``console_login(page, base, phone, password)``: logs in through the form.

conftest.py imports these so every test module can ask for them.
"""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import pytest

from tests.ports import free_port, worker_range

if TYPE_CHECKING:
    from flask import Flask
    from playwright.sync_api import Browser, Page

    from services import Services
    from tests.fixture_types import MakeApp

CHROMIUM = "/usr/bin/chromium"
PORTS = range(5300, 5400)
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def _free_port() -> int:
    port = free_port(PORTS.start, PORTS.stop)  # this xdist worker's share of the range
    if port is None:
        raise RuntimeError(f"no free port in {worker_range(PORTS.start, PORTS.stop)}")
    return port


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver (.ci/run does)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@dataclass
class Live:
    url: str
    app: Flask

    @property
    def services(self) -> Services:
        return cast("Services", self.app.extensions["kassa"])


LiveServer: TypeAlias = Callable[..., Live]
"""``live_server(**config)``: the app served on a free port."""


@pytest.fixture
def live_server(make_app: MakeApp) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    servers = []

    def start(**config: Any) -> Live:
        config.setdefault("CONSOLE_SECURE_COOKIES", False)
        app = make_app(**config)
        port = _free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return Live(f"http://127.0.0.1:{port}", app)

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
        item: pytest.Item,
        call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 800}, accept_downloads=True)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    failed = any(getattr(request.node, f"rep_{when}", None) is not None
                 and getattr(request.node, f"rep_{when}").failed for when in ("setup", "call"))
    if failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        try:
            pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        except Exception as exc:  # a dead page must not hide the test's own failure
            print(f"screenshot failed: {exc}")
    context.close()


def console_login(page: Page, base: str, phone: str, password: str) -> None:
    """Log in through the console's form (and wait for the page it lands on)."""
    page.goto(f"{base}/console/login")
    page.fill("#phone", phone)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
