"""Messages (outbox/inbox search, history, resend) and the phone simulator, through the test client."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from console.models import AuditEntry
from messaging.models import InboxMessage, OutboxMessage, OutStatus
from support.models import SupportRequest
from tests.found import found
from tests.smskit import run_commands
from tests.test_console import ADMIN, COORD, add_staff, login, post
from text.plain import Letters

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient
    from werkzeug.test import TestResponse

    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp

FAITH = "+254712000003"
TREASURER = "+254712000001"
BERDE = "+994501110001"


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app(CONSOLE_SECURE_COOKIES=False, WEBHOOK_TOKEN="hook-secret")


def ussd(client: FlaskClient, phone: str, text: str, session: str = "s1",
         token: str = "hook-secret") -> TestResponse:
    return client.post("/ussd/africastalking", query_string={"token": token},
                       data={"sessionId": session, "phoneNumber": phone, "serviceCode": "*384*123#", "text": text})


def hop(client: FlaskClient, phone: str, answer: str = "", session_id: str = "", text: str = "",
        dial: bool = False) -> str:
    data = {"phone": phone, "answer": answer, "session_id": session_id, "text": text}
    if dial:
        data["dial"] = "1"
    r = post(client, "/console/simulator/ussd", data, page="/console/simulator")
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


def hidden(html: str, name: str) -> str:
    import re

    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    return m.group(1) if m else ""


def test_simulator_drives_the_real_ussd_endpoint_with_its_token(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    login(client, *ADMIN)
    assert ussd(client, FAITH, "", token="wrong").status_code == 403  # the webhook still wants its token
    html = hop(client, FAITH, dial=True)
    assert 'id="answer"' in html and "Ask for help" in html  # the main menu, a CON screen
    sid = hidden(html, "session_id")
    assert sid.startswith("sim-")
    # walk to "Ask for help" -> Legal aid -> yes, whatever the menu's numbers are

    def pick(html: str, word: str) -> str:
        return found(rf"(\d+)\. ?{word}", html).group(1)

    html = hop(client, FAITH, pick(html, "Ask for help"), sid, "")
    text = hidden(html, "text")
    html = hop(client, FAITH, pick(html, "Legal aid"), sid, text)
    text = hidden(html, "text")
    html = hop(client, FAITH, "1", sid, text)
    assert 'data-ended="1"' in html and "is sent" in html
    with services.db.transaction() as s:
        req = s.scalars(select(SupportRequest)).one()
        assert req.member.phone == FAITH
        assert "simulator.dial" in list(s.scalars(select(AuditEntry.action)))
    inbox = client.get(f"/console/simulator/inbox?phone={FAITH}").get_data(as_text=True)
    assert req.ref in inbox


def test_simulator_sms_goes_through_the_inbound_webhook(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    login(client, *ADMIN)
    r = post(client, "/console/simulator/sms", {"phone": TREASURER, "text": "SAVE 1 200"}, page="/console/simulator")
    assert r.status_code == 200
    with services.db.transaction() as s:
        row = s.scalars(select(InboxMessage)).one()
        assert row.from_phone == TREASURER and row.text == "SAVE 1 200"
    run_commands(services)
    html = client.get(f"/console/simulator/inbox?phone={TREASURER}").get_data(as_text=True)
    assert "200" in html and 'class="sms"' in html


def test_simulator_scope_for_a_coordinator(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    add_staff(services, *COORD, "coordinator", name="Joseph Otieno")
    login(client, *COORD)
    assert client.get("/console/simulator").status_code == 200
    assert FAITH in client.get("/console/simulator").get_data(as_text=True)
    r = post(client, "/console/simulator/sms", {"phone": BERDE, "text": "SAVE 1 200"}, page="/console/simulator")
    assert r.status_code == 404  # another programme's member
    assert client.get(f"/console/simulator/inbox?phone={BERDE}").status_code == 404
    assert client.get("/console/simulator/inbox?phone=%2B254799999999").status_code == 200  # a stranger
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(InboxMessage)) == 0


def test_simulator_is_for_staff_only(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    assert client.get("/console/simulator").status_code == 302
    r = client.post("/console/simulator/ussd", data={"phone": FAITH, "dial": "1"})
    assert r.status_code in (302, 400)  # no session: the login page (or the CSRF refusal)


def test_messages_search_history_and_resend(client: FlaskClient, services: Services,
                                            demo: DemoPeople) -> None:
    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    login(client, *ADMIN)
    r = post(client, "/console/simulator/sms", {"phone": TREASURER, "text": "SAVE 1 200"}, page="/console/simulator")
    run_commands(services)
    with services.db.transaction() as s:
        rows = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert rows
        failed = rows[0]
        failed.status, failed.attempts, failed.provider, failed.provider_id = \
            OutStatus.FAILED, 3, "africastalking", "ATPid_1"
        failed.last_error = "DeliveryFailure"
        failed_id, phone = failed.id, failed.to_phone
    page = client.get(f"/console/messages?phone={phone}&status=failed").get_data(as_text=True)
    assert f'data-id="{failed_id}"' in page and 'data-status="failed"' in page
    assert f'data-id="{failed_id}"' not in client.get("/console/messages?status=delivered").get_data(as_text=True)
    assert 'data-id=' not in client.get("/console/messages?group=BERDE1").get_data(as_text=True)
    assert f'data-id="{failed_id}"' in client.get("/console/messages?group=upendo&since=2000-01-01").get_data(
        as_text=True)
    inbox = client.get(f"/console/messages/inbox?phone={TREASURER}").get_data(as_text=True)
    assert "SAVE 1 200" in inbox
    history = client.get(f"/console/messages/{failed_id}").get_data(as_text=True)
    assert "ATPid_1" in history and "DeliveryFailure" in history and 'id="resend"' in history
    r = post(client, f"/console/messages/{failed_id}/resend", {}, page=f"/console/messages/{failed_id}")
    assert r.status_code == 303
    with services.db.transaction() as s:
        new = s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"resend:{failed_id}:1")).one()
        assert new.text == failed.text and new.to_phone == phone and new.status == OutStatus.PENDING
        assert s.get_one(OutboxMessage, failed_id).status == OutStatus.FAILED
        assert "message.resend" in list(s.scalars(select(AuditEntry.action)))
    # a message that did not fail is not sent again
    r = post(client, f"/console/messages/{new.id}/resend", {}, page=f"/console/messages/{failed_id}")
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.dedupe_key.like("resend:%"))) == 1


def test_messages_scope_for_a_coordinator(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    add_staff(services, *COORD, "coordinator", name="Joseph Otieno")
    with services.db.transaction() as s:
        from groups.models import Group
        from messaging.outbox import queue_sms

        berde = s.scalars(select(Group).where(Group.code == "BERDE1")).one()
        other = queue_sms(s, letters=Letters.FULL, to=BERDE, text="Salam", language="az", kind="notice", group_id=berde.id).id
    login(client, *COORD)
    assert f'data-id="{other}"' not in client.get("/console/messages").get_data(as_text=True)
    assert client.get(f"/console/messages/{other}").status_code == 404
