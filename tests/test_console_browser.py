"""The console in a real browser (Chromium driven by Playwright): see tests/browser.py."""
from __future__ import annotations

from console.accounts import create_staff
from tests.browser import console_login

ADMIN = ("+254700000001", "correct horse battery")


def add_staff(services, phone=ADMIN[0], password=ADMIN[1], role="admin", name="Amina Admin", **kw):
    with services.db.transaction() as s:
        return create_staff(s, phone=phone, password=password, role=role, name=name, **kw)


def test_log_in_and_out(live_server, page):
    live = live_server()
    add_staff(live.services)
    page.goto(f"{live.url}/console/")
    assert "/console/login" in page.url  # not logged in: to the login page
    console_login(page, live.url, *ADMIN)
    assert page.url.rstrip("/").endswith("/console")
    assert page.locator(".who").inner_text() == "Amina Admin"
    with page.expect_navigation():
        page.click("#logout")
    assert "/console/login" in page.url
    page.goto(f"{live.url}/console/")
    assert "/console/login" in page.url  # the session is gone


def test_wrong_password_then_the_lock(live_server, page):
    live = live_server(CONSOLE_LOGIN_LIMIT="3 per 15 minutes")
    add_staff(live.services)
    for _ in range(3):
        console_login(page, live.url, ADMIN[0], "wrong password!")
        assert page.locator(".flash.error").inner_text() == "Wrong phone number or password."
    console_login(page, live.url, *ADMIN)  # the right password, but the account is locked now
    assert "/console/login" in page.url
    assert "locked" in page.locator(".flash.error").inner_text()
    page.goto(f"{live.url}/console/")
    assert "/console/login" in page.url
