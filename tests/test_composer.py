"""The broadcast composer in the console (Flask test client): target, texts, preview, confirm, progress, scope."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from rq import Queue
from sqlalchemy import func, select

from console.models import AuditEntry
from messaging.models import OutboxMessage, OutStatus
from outreach import broadcast as bc
from outreach.models import Broadcast
from tests.smskit import run_jobs
from tests.test_console import ADMIN, COORD, add_staff, group_id, login, post

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app(CONSOLE_SECURE_COOKIES=False)


@pytest.fixture
def admin(client: FlaskClient, services: Services, demo: DemoPeople) -> FlaskClient:
    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    assert login(client, *ADMIN).status_code == 303
    return client


@pytest.fixture
def coordinator(client: FlaskClient, services: Services, demo: DemoPeople) -> FlaskClient:
    add_staff(services, *COORD, "coordinator", name="Joseph Otieno")
    assert login(client, *COORD).status_code == 303
    return client


def _broadcast(services: Services, bid: int) -> tuple[str, int, dict[str, str]]:
    with services.db.transaction() as s:
        b = s.get_one(Broadcast, bid)
        return b.status.value, b.recipients, dict(b.messages)


def test_the_recipient_count_and_one_text_box_per_language_before_anything_is_made(
        admin: FlaskClient, services: Services) -> None:
    page = "/console/broadcasts/new"
    html = admin.get(page).get_data(as_text=True)
    assert 'id="composer"' in html and "UPENDO" in html
    found = post(admin, "/console/broadcasts/recipients", {"everyone": "1"}, page=page).get_data(as_text=True)
    assert 'id="recipient-count">13<' in found
    assert {m for m in re.findall(r'name="text_(\w+)"', found)} == {"en", "az", "vi"}
    only_az = post(admin, "/console/broadcasts/recipients", {"everyone": "1", "language": "az"},
                   page=page).get_data(as_text=True)
    assert 'id="recipient-count">5<' in only_az and re.findall(r'name="text_(\w+)"', only_az) == ["az"]
    chairs = post(admin, "/console/broadcasts/recipients", {"group": str(group_id(services, "UPENDO")),
                                                            "role": "chair"}, page=page).get_data(as_text=True)
    assert 'id="recipient-count">1<' in chairs
    with services.db.transaction() as s:
        assert s.scalar(select(func.count(Broadcast.id))) == 0  # counting made nothing


def test_text_preview_shows_letters_encoding_segments_and_the_plain_saving(
        admin: FlaskClient, services: Services) -> None:
    page = "/console/broadcasts/new"
    shape = post(admin, "/console/broadcasts/text-preview", {"lang": "vi", "text_vi": "Họp vào thứ Sáu lúc 8 giờ."},
                 page=page).get_data(as_text=True)
    assert "UCS2" in shape and "plain letters: GSM7" in shape
    en = post(admin, "/console/broadcasts/text-preview", {"lang": "en", "text_en": "x" * 200},
              page=page).get_data(as_text=True)
    assert "GSM7" in en and "2 SMS" in en and "plain letters" not in en


def test_a_missing_language_is_refused_and_nothing_is_made(admin: FlaskClient, services: Services) -> None:
    r = post(admin, "/console/broadcasts", {"everyone": "1", "text_en": "Hello", "nonce": "n1"},
             page="/console/broadcasts/new")
    assert r.status_code == 400 and "Write the message in Azərbaycanca too." in r.get_data(as_text=True)
    with services.db.transaction() as s:
        assert s.scalar(select(func.count(Broadcast.id))) == 0


def test_compose_preview_with_cost_confirm_and_follow_to_the_end(
        admin: FlaskClient, services: Services) -> None:
    texts = {"text_en": "Training on Friday.", "text_az": "Cümə günü təlim var.", "text_vi": "Thứ Sáu có tập huấn."}
    r = post(admin, "/console/broadcasts", {"everyone": "1", "nonce": "n2", **texts}, page="/console/broadcasts/new")
    assert r.status_code == 302
    bid = int(r.headers["Location"].rsplit("/", 1)[1])
    again = post(admin, "/console/broadcasts", {"everyone": "1", "nonce": "n2", **texts},
                 page="/console/broadcasts/new")  # a double click: the same draft
    assert again.headers["Location"].endswith(f"/{bid}")
    assert _broadcast(services, bid)[0] == "draft" and Queue("default", connection=services.redis).job_ids == []
    html = admin.get(f"/console/broadcasts/{bid}").get_data(as_text=True)
    assert 'id="preview-recipients">13<' in html
    assert 'data-currency="KES"' in html and 'data-currency="AZN"' in html  # a cost in each group currency
    assert "Cümə günü təlim var." in html and 'id="confirm-broadcast"' in html

    post(admin, f"/console/broadcasts/{bid}/confirm", {}, page=f"/console/broadcasts/{bid}")
    assert _broadcast(services, bid)[0] == "sending"
    run_jobs(services)  # the fan-out and the sends, as the worker would
    progress = admin.get(f"/console/broadcasts/{bid}/progress").get_data(as_text=True)
    assert 'id="progress-percent">100%<' in progress and 'id="fig-delivered">13<' in progress
    assert "hx-trigger" not in progress  # done: the page stops polling
    with services.db.transaction() as s:
        sent = dict(s.execute(select(OutboxMessage.language, OutboxMessage.text)
                              .where(OutboxMessage.kind == "broadcast")).all())
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.target == f"B{bid}")))
    assert sent["az"].endswith("Cümə günü təlim var.") and sent["vi"].endswith("Thứ Sáu có tập huấn.")
    assert actions == ["broadcast.draft", "broadcast.confirm"]


def test_a_failed_broadcast_is_resumed_from_the_console(admin: FlaskClient, services: Services) -> None:
    r = post(admin, "/console/broadcasts", {"group": str(group_id(services, "UPENDO")), "nonce": "n3",
                                            "text_en": "Hi"}, page="/console/broadcasts/new")
    bid = int(r.headers["Location"].rsplit("/", 1)[1])
    post(admin, f"/console/broadcasts/{bid}/confirm", {}, page=f"/console/broadcasts/{bid}")
    run_jobs(services)
    with services.db.transaction() as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "broadcast").limit(1)).one()
        row.status, row.last_error = OutStatus.FAILED, "provider gave up"
    assert 'id="fig-failed">1<' in admin.get(f"/console/broadcasts/{bid}/progress").get_data(as_text=True)
    post(admin, f"/console/broadcasts/{bid}/resume", {}, page=f"/console/broadcasts/{bid}")
    run_jobs(services)
    progress = admin.get(f"/console/broadcasts/{bid}/progress").get_data(as_text=True)
    assert 'id="fig-failed">0<' in progress and 'id="fig-delivered">4<' in progress


def test_a_coordinator_sends_only_to_her_groups_and_sees_only_her_broadcasts(
        coordinator: FlaskClient, services: Services, client: FlaskClient) -> None:
    page = "/console/broadcasts/new"
    html = coordinator.get(page).get_data(as_text=True)
    assert "UPENDO" in html and "BERDE1" not in html
    mine = post(coordinator, "/console/broadcasts/recipients", {"everyone": "1"}, page=page).get_data(as_text=True)
    assert 'id="recipient-count">4<' in mine  # her one group, not the 13 of every group
    other = post(coordinator, "/console/broadcasts", {"group": str(group_id(services, "BERDE1")), "nonce": "x",
                                                      "text_az": "Salam"}, page=page)
    assert other.status_code == 400
    with services.db.transaction() as s:
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(everyone=True), key="admin-one", message="Hi")
        admins = b.id
    assert coordinator.get(f"/console/broadcasts/{admins}").status_code == 404
    assert post(coordinator, f"/console/broadcasts/{admins}/confirm", {}, page=page).status_code == 404
