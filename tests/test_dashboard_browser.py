"""The dashboard in a real browser (Chromium via Playwright, tests/browser.py): after a treasurer's
SMS, run through the webhook and the real job path, its figures equal ``flask ledger summary``."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select

import ledger
from console.accounts import create_staff
from demo.groups import seed_demo
from groups.models import Group, Member
from ledger.models import Txn, TxnKind
from messaging.models import OutboxMessage, OutStatus
from tests.browser import console_login
from tests.found import found
from tests.smskit import run_jobs

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser import Live, LiveServer

ADMIN = ("+254700000001", "correct horse battery")
TREASURER, CHAIR, FAITH = "+254712000001", "+254712000002", "+254712000003"


def sms(live: Live, phone: str, text: str) -> None:
    """An SMS as Africa's Talking posts it; then the worker runs the queued jobs (command, replies)."""
    client = live.app.test_client()
    form = {"from": phone, "to": "12345", "text": text, "date": "2026-11-30 09:00:00",
            "id": f"ATX-{abs(hash((phone, text)))}", "linkId": "", "networkCode": "99999"}
    assert client.post("/sms/africastalking", data=form).status_code == 200
    run_jobs(live.services)


def summary_lines(live: Live) -> dict[str, str]:
    result = live.app.test_cli_runner().invoke(args=["ledger", "summary", "UPENDO"])
    assert result.exit_code == 0, result.output
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^  (.+?)\s{2,}(.+)$", result.output, re.M)}


def percent(text: str) -> float:
    return float(found(r"[\d.]+", text.replace(",", "")).group(0))


def test_dashboard_equals_ledger_summary_after_treasurer_sms(live_server: LiveServer, page: Page) -> None:
    live = live_server()
    services = live.services
    with services.db.transaction() as s:  # empty books: every figure comes from the SMS below
        seed_demo(s, history=False)
        create_staff(s, phone=ADMIN[0], password=ADMIN[1], role="admin", name="Amina Admin")
    sms(live, TREASURER, "SAVE 1 200 2 200 3 200 4 200")
    sms(live, TREASURER, "SOCIAL 3 50 4 50")
    sms(live, TREASURER, "FINE 3 late")
    sms(live, TREASURER, "FINE 4 15")
    with services.db.transaction() as s:  # Faith asks for a loan (as she would over USSD)
        group = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        faith = s.scalars(select(Member).where(Member.phone == FAITH)).one()
        loan = ledger.request_loan(s, group, faith, 30000, purpose="trade", term=4, unit="week", key="ussd:t1:loan")
        ref = loan.ref
    sms(live, CHAIR, f"APPROVE {ref}")
    sms(live, TREASURER, f"DISBURSE {ref}")
    sms(live, TREASURER, "REPAY 3 40")
    with services.db.transaction() as s:
        noise = s.scalars(select(Txn).where(Txn.kind == TxnKind.FINE).order_by(Txn.id.desc()).limit(1)).one()
        noise_ref = noise.ref
    sms(live, TREASURER, f"UNDO {noise_ref} typo")

    expected = summary_lines(live)
    with services.db.transaction() as s:
        group_id = s.scalar(select(Group.id).where(Group.code == "UPENDO"))
        sent = s.scalar(select(OutboxMessage.id).where(OutboxMessage.group_id == group_id).limit(1))
        sms_sent = len(list(s.scalars(select(OutboxMessage.id).where(
            OutboxMessage.group_id == group_id, OutboxMessage.status.in_((OutStatus.SENT, OutStatus.DELIVERED))))))
    assert sent is not None and sms_sent > 0

    console_login(page, live.url, *ADMIN)
    page.goto(f"{live.url}/console/?region=Kisumu")  # UPENDO is the one group in Kisumu
    row = page.locator('tr[data-currency="KES"]')

    def cell(figure: str) -> str:
        return row.locator(f'a[data-figure="{figure}"]').inner_text().strip()

    assert cell("savings") == expected["savings"]
    assert cell("social_fund") == expected["social fund"]
    assert expected["loans outstanding"].startswith(cell("loans_outstanding") + " in 1 loans")
    assert percent(cell("par30")) == percent(expected["PAR30"])
    assert round(percent(cell("repayment_rate")), 1) == round(percent(expected["repayment rate"]), 1)
    members = found(r"cycle \d+, (\d+) members", live.app.test_cli_runner().invoke(
        args=["ledger", "summary", "UPENDO"]).output).group(1)
    assert page.locator("#fig-members .value").inner_text() == members
    assert page.locator("#fig-groups .value").inner_text() == "1"
    assert page.locator("#fig-meetings .value").inner_text() == "1"
    assert page.locator("#fig-sms .value").inner_text() == str(sms_sent)
    assert page.locator("#charts svg").count() == 5  # savings, loans, PAR30 in KES; members; meetings

    # a figure opens the groups behind it
    with page.expect_navigation():
        row.locator('a[data-figure="loans_outstanding"]').click()
    assert page.locator("#figure-groups tbody tr").count() == 1
    assert "UPENDO" in page.locator("#figure-groups").inner_text()
