"""The broadcast composer in a real browser (Chromium via Playwright, see tests/browser.py)."""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from playwright.sync_api import expect
from sqlalchemy import func, select

from console.accounts import create_staff
from demo.groups import seed_demo
from groups.models import Group
from messaging.models import OutboxMessage
from outreach.models import Broadcast, BroadcastStatus
from tests.browser import console_login
from tests.smskit import run_jobs

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser import Live, LiveServer

ADMIN = ("+254700000001", "correct horse battery")


def test_a_broadcast_in_two_languages_is_previewed_with_its_cost_confirmed_and_followed_to_100(
        live_server: LiveServer, page: Page) -> None:
    live = live_server(SMS_SEGMENT_PRICES="AZN=0.04")
    with live.services.db.transaction() as s:
        seed_demo(s, history=False)
        create_staff(s, phone=ADMIN[0], password=ADMIN[1], role="admin", name="Amina Admin")
        ids = dict(s.execute(select(Group.code, Group.id)).all())
    console_login(page, live.url, *ADMIN)
    page.click("nav >> text=Announcements")
    page.click("#new-broadcast")
    page.select_option("#t-groups", [str(ids["UPENDO"]), str(ids["BERDE1"])])
    expect(page.locator("#recipient-count")).to_have_text("9")  # 4 in Kisumu (English), 5 in Bərdə (Azerbaijani)
    page.fill("#text-en", "Training on Friday at 10.")
    page.fill("#text-az", "Cümə günü saat 10-da təlim var.")
    expect(page.locator("#shape-az")).to_contain_text("UCS2")
    expect(page.locator("#shape-az")).to_contain_text("plain letters: GSM7")
    expect(page.locator("#shape-en")).to_contain_text("GSM7")
    page.click("#preview-button")

    expect(page.locator("#preview-recipients")).to_have_text("9")
    kes = page.locator("tr.total[data-currency=KES] .cost").inner_text()
    azn = page.locator("tr.total[data-currency=AZN] .cost").inner_text()
    assert re.search(r"3\.20", kes) and "KES" in kes  # 4 people x 1 SMS x 0.80 KES
    assert re.search(r"0\.[0-9]{2}", azn)  # 5 people in AZN at 0.04 a segment
    if os.environ.get("KASSA_DOC_SCREENSHOTS"):
        page.screenshot(path="docs/composer.png", full_page=True)
    page.click("#confirm-broadcast")
    expect(page.locator("#broadcast-status")).to_have_text("Sending")
    run_jobs(live.services)  # the worker: fan-out, then the sends (console backend: delivered)
    expect(page.locator("#progress-percent")).to_have_text("100%")
    expect(page.locator("#fig-delivered")).to_have_text("9")
    expect(page.locator("#fig-failed")).to_have_text("0")
    assert page.locator("#progress-bar").get_attribute("value") == "100"


def _handled(live: Live, count: int) -> None:
    """Wait until the simulated phone's SMS reached the inbox, then run its command as the worker would."""
    import time

    from messaging.models import InboxMessage
    from tests.smskit import run_commands

    for _ in range(100):
        with live.services.db.transaction() as s:
            if s.scalars(select(func.count(InboxMessage.id))).one() >= count:
                break
        time.sleep(0.1)
    run_commands(live.services)


def test_bc_by_sms_on_the_simulated_phone_waits_for_yes(live_server: LiveServer, page: Page) -> None:
    live = live_server(WEBHOOK_TOKEN="browser-hook-token")
    with live.services.db.transaction() as s:
        seed_demo(s, history=False)
        create_staff(s, phone=ADMIN[0], password=ADMIN[1], role="admin", name="Amina Admin")
    console_login(page, live.url, *ADMIN)
    page.goto(f"{live.url}/console/simulator?phone=%2B254712000099")  # Joseph, the coordinator
    page.fill("#sms-text", "BC UPENDO Training moved to Friday 10:00")
    page.click("#send-sms")
    _handled(live, 1)
    expect(page.locator("#sms-list")).to_contain_text("Reply YES within 10 minutes to send it.")
    with live.services.db.transaction() as s:
        assert s.scalar(select(Broadcast.status)) == BroadcastStatus.DRAFT
        assert s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "broadcast")) == 0
    page.fill("#sms-text", "YES")
    page.click("#send-sms")
    _handled(live, 2)
    expect(page.locator("#sms-list")).to_contain_text("Announcement B1 is being sent to 4 people.")
    with live.services.db.transaction() as s:
        assert s.scalar(select(Broadcast.status)) == BroadcastStatus.SENDING
