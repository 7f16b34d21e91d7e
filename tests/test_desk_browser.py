"""The support desk, the phone simulator and the messages search in a real browser (Chromium via
Playwright, tests/browser.py): a member asks for legal help on the simulated phone, the admin
assigns it to a lawyer, the lawyer (logged in) closes it with an outcome, and the member's phone
shows both SMS.

``KASSA_DOCS_SCREENSHOTS=1`` also saves the README's screenshots (docs/desk*.png, docs/simulator.png,
docs/messages.png).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from console.accounts import create_staff
from demo.groups import seed_demo
from groups.models import Group
from orgs.models import Centre, CentrePlace, PlaceLevel
from orgs.places import add_place
from support.models import Outcome, RequestStatus, SupportRequest
from tests.browser import console_login
from tests.found import found
from text.plain import Letters

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser import Live, LiveServer

ADMIN = ("+254700000001", "correct horse battery")
LAWYER = ("+254711000001", "lawyer password 1")
FAITH = "+254712000003"
DOCS = Path(__file__).resolve().parent.parent / "docs"


def shot(page: Page, name: str) -> None:
    if os.environ.get("KASSA_DOCS_SCREENSHOTS"):
        page.screenshot(path=str(DOCS / name), full_page=True)


def setup(live: Live) -> None:
    with live.services.db.transaction() as s:
        seed_demo(s, history=False)
        ke = add_place(s, "Kenya", PlaceLevel.COUNTRY)
        kisumu = add_place(s, "Kisumu", PlaceLevel.REGION, ke)
        centre = Centre(name="Kisumu Community Resource Centre", target_days=7)
        s.add(centre)
        s.flush()
        s.add(CentrePlace(centre_id=centre.id, place_id=kisumu.id))
        s.scalars(select(Group).where(Group.code == "UPENDO")).one().place_id = kisumu.id
        create_staff(s, phone=ADMIN[0], password=ADMIN[1], role="admin", name="Amina Admin")
        create_staff(s, phone=LAWYER[0], password=LAWYER[1], role="lawyer", name="Lydia Wanjiru",
                     centre_id=centre.id)


def answer(page: Page, choice_word: str | None = None, value: str | None = None) -> None:
    """Answer the USSD screen on the simulated phone: the number of ``choice_word``, or ``value``."""
    if value is None:
        screen = page.locator("#ussd-text").inner_text()
        assert choice_word is not None
        value = found(rf"(\d+)\. ?{re.escape(choice_word)}", screen).group(1)
    page.fill("#answer", "")
    for key in value:  # on the drawn keypad, as a member would
        page.click(f'.key[data-key="{key}"]')
    before = page.locator("#ussd-text").inner_text()
    page.click("#send-answer")
    page.wait_for_function("b => { const e = document.querySelector('#ussd-text');"
                           " return e && e.innerText !== b; }", arg=before)


def logout(page: Page) -> None:
    with page.expect_navigation():
        page.click("#logout")


def test_legal_help_from_the_simulator_to_closed_with_both_sms(live_server: LiveServer, page: Page) -> None:
    live = live_server(WEBHOOK_TOKEN="browser-hook-token")
    setup(live)

    # 1. the member asks for legal aid on the simulated phone (the admin drives it)
    console_login(page, live.url, *ADMIN)
    page.goto(f"{live.url}/console/simulator?phone=%2B254712000003")
    assert page.locator("#sim-phone").inner_text() == FAITH
    page.click("#dial")
    page.wait_for_selector("#answer")
    assert "Ask for help" in page.locator("#ussd-text").inner_text()
    answer(page, "Ask for help")
    answer(page, "Legal aid")
    answer(page, value="1")
    assert "is sent" in page.locator("#ussd-text").inner_text()
    with live.services.db.transaction() as s:
        req = s.scalars(select(SupportRequest)).one()
        ref = req.ref
    page.wait_for_function(f"() => document.querySelector('#sms-list').innerText.includes('{ref}')")
    shot(page, "simulator.png")

    # 2. the admin assigns it to the lawyer from the desk
    page.goto(f"{live.url}/console/desk")
    row = page.locator(f'tr[data-ref="{ref}"]')
    assert "Legal aid" in row.inner_text() and "Faith" in row.inner_text()
    shot(page, "desk.png")
    with page.expect_navigation():
        row.locator("a").first.click()
    page.select_option("#assign-to", label="Lydia Wanjiru (Lawyer)")
    with page.expect_navigation():
        page.click("#assign")
    assert page.locator("#assigned").inner_text() == "Lydia Wanjiru"
    assert page.locator("#status").get_attribute("data-status") == "assigned"
    logout(page)

    # 3. the lawyer finds it under "my requests", adds a note and closes it with an outcome
    console_login(page, live.url, *LAWYER)
    page.goto(f"{live.url}/console/desk?mine=1")
    with page.expect_navigation():
        page.locator(f'tr[data-ref="{ref}"] a').first.click()
    with page.expect_navigation():
        page.click("#start")
    page.fill("#note-text", "Called her: inheritance case, referred to the legal aid clinic on Friday.")
    with page.expect_navigation():
        page.click("#add-note")
    page.select_option("#outcome-pick", "referred")
    shot(page, "desk-request.png")
    with page.expect_navigation():
        page.click("#close")
    assert page.locator("#status").get_attribute("data-status") == "closed"
    assert page.locator("#outcome").inner_text() == "Referred to another service"
    assert "inheritance case" in page.locator("#notes").inner_text()
    with live.services.db.transaction() as s:
        req = s.scalars(select(SupportRequest)).one()
        assert req.status == RequestStatus.CLOSED and req.outcome == Outcome.REFERRED
    response = page.goto(f"{live.url}/console/simulator")
    assert response is not None and response.status == 404  # the simulator is not a lawyer's
    logout(page)

    # 4. the member's phone shows both SMS (polled from the outbox), without the kind of help
    console_login(page, live.url, *ADMIN)
    page.goto(f"{live.url}/console/simulator?phone=%2B254712000003")
    page.wait_for_function("() => { const t = document.querySelector('#sms-list').innerText;"
                           " return t.includes('has been taken up') && t.includes('is closed'); }")
    sms = page.locator("#sms-list").inner_text()
    assert f"your request {ref} has been taken up" in sms and f"your request {ref} is closed" in sms
    assert "legal" not in sms.lower()


def test_messages_search_in_the_browser(live_server: LiveServer, page: Page) -> None:
    live = live_server()
    setup(live)
    from messaging.models import OutStatus
    from messaging.outbox import queue_sms

    with live.services.db.transaction() as s:
        upendo = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        for i in range(3):
            queue_sms(s, letters=Letters.FULL, to=FAITH, text=f"Reminder {i}", language="en", kind="reminder", group_id=upendo.id)
        failed = queue_sms(s, letters=Letters.FULL, to="+254712000004", text="Your loan L7 is approved.", language="en", kind="notice",
                           group_id=upendo.id)
        failed.status, failed.attempts, failed.provider_id, failed.last_error = \
            OutStatus.FAILED, 2, "ATPid_9", "DeliveryFailure"
    console_login(page, live.url, *ADMIN)
    page.goto(f"{live.url}/console/messages")
    page.fill('#message-search input[name="phone"]', "0712000004")
    page.select_option('#message-search select[name="status"]', "failed")
    with page.expect_navigation():
        page.click("#search")
    rows = page.locator("#messages-table tbody tr")
    assert rows.count() == 1 and "approved" in rows.first.inner_text()
    shot(page, "messages.png")
    with page.expect_navigation():
        rows.first.locator("a").click()
    assert page.locator("#provider-id").inner_text() == "ATPid_9"
    assert page.locator("#report").inner_text() == "DeliveryFailure"
    with page.expect_navigation():
        page.click("#resend")
    assert page.locator("#message-status").get_attribute("data-status") == "pending"
    page.goto(f"{live.url}/console/messages?group=UPENDO")
    assert page.locator("#messages-table tbody tr").count() == 5
