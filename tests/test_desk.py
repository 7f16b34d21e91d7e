"""The support desk: centres, assigning, closing with an outcome, the member's SMS, notes,
scope, walk-ins and the monthly counts (equal to the rows behind them)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from console import casework as desk
from console.accounts import create_staff
from console.models import AuditEntry, Staff
from groups.models import Group, Member
from messaging.models import OutboxMessage
from orgs.models import Centre, CentrePlace, PlaceLevel
from orgs.places import add_place
from support.centres import centre_for_group
from support.models import Category, Outcome, RequestStatus, SupportNote, SupportRequest
from support.service import open_request
from tests.test_console import ADMIN, COORD, login, post

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp

LAWYER = ("+254711000001", "lawyer password 1")
PSYCH = ("+254711000002", "psychologist pw 2")
FAITH = "+254712000003"


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app(CONSOLE_SECURE_COOKIES=False)


@pytest.fixture
def centres(services: Services, demo: DemoPeople) -> dict[str, int]:
    """Kenya > Kisumu (region) > Kisumu East (district), covered by the Kisumu centre; a second centre
    (Nairobi) covers nothing. UPENDO meets in Kisumu East."""
    with services.db.transaction() as s:
        ke = add_place(s, "Kenya", PlaceLevel.COUNTRY)
        kisumu = add_place(s, "Kisumu", PlaceLevel.REGION, ke)
        east = add_place(s, "Kisumu East", PlaceLevel.DISTRICT, kisumu)
        nairobi = Centre(name="Nairobi centre", target_days=3)
        kis = Centre(name="Kisumu centre", target_days=5)
        s.add_all([nairobi, kis])
        s.flush()
        s.add(CentrePlace(centre_id=kis.id, place_id=kisumu.id))
        s.scalars(select(Group).where(Group.code == "UPENDO")).one().place_id = east.id
        return {"kisumu": kis.id, "nairobi": nairobi.id}


def ask(services: Services, phone: str = FAITH, category: Category = Category.LEGAL, key: str = "k1") -> str:
    with services.db.transaction() as s:
        member = s.scalars(select(Member).where(Member.phone == phone)).one()
        group = member.memberships[0].group
        return open_request(s, group, member, category, key=key).request.ref


def texts_to(services: Services, phone: str) -> list[str]:
    with services.db.transaction() as s:
        return list(s.scalars(select(OutboxMessage.text).where(OutboxMessage.to_phone == phone)
                              .order_by(OutboxMessage.id)))


def staff(services: Services, phone: str, password: str, role: str, name: str,
          centre_id: int | None = None) -> int:
    with services.db.transaction() as s:
        return create_staff(s, phone=phone, password=password, role=role, name=name, centre_id=centre_id).id


def test_a_request_goes_to_the_centre_covering_her_group_else_the_first(
        services: Services, centres: dict[str, int]) -> None:
    ref = ask(services)
    with services.db.transaction() as s:
        req = s.scalars(select(SupportRequest).where(SupportRequest.ref == ref)).one()
        assert req.centre_id == centres["kisumu"] and req.status == RequestStatus.NEW
        # BERDE1 has no place: the first active centre (by id) takes it
        centre = centre_for_group(s, s.scalars(select(Group).where(Group.code == "BERDE1")).one())
        assert centre is not None and centre.id == centres["nairobi"]


def test_assign_and_close_tell_her_by_sms_once_in_her_language_without_the_category(
        services: Services, centres: dict[str, int]) -> None:
    lawyer_id = staff(services, *LAWYER, "lawyer", "Lydia Lawyer", centres["kisumu"])
    ref = ask(services)
    before = len(texts_to(services, FAITH))
    with services.db.transaction() as s:
        req = s.scalars(select(SupportRequest).where(SupportRequest.ref == ref)).one()
        lawyer = s.get_one(Staff, lawyer_id)
        assert desk.assign(s, req, lawyer) is True
        assert desk.assign(s, req, lawyer) is False  # the same again: nothing
        assert req.status == RequestStatus.ASSIGNED
        desk.add_note(s, req, lawyer, "Land dispute with her brother-in-law; call after 5pm.")
        desk.start(s, req)
        assert req.status == RequestStatus.IN_PROGRESS  # type: ignore[comparison-overlap]  # desk.start() moved it
    texts = texts_to(services, FAITH)[before:]
    assert texts == [f"Kassa: your request {ref} has been taken up. Someone will contact you soon."]
    psych_id = staff(services, *PSYCH, "psychologist", "Pat", centres["kisumu"])
    with services.db.transaction() as s:
        req = s.scalars(select(SupportRequest).where(SupportRequest.ref == ref)).one()
        desk.assign(s, req, s.get_one(Staff, psych_id))  # re-assigned: she is not told again
        assert desk.close(s, req, Outcome.RESOLVED) is True
        assert desk.close(s, req, Outcome.REFERRED) is False  # closed stays closed
        assert req.outcome == Outcome.RESOLVED and req.closed_at is not None
        with pytest.raises(desk.DeskError):
            desk.assign(s, req, s.get_one(Staff, lawyer_id))
    texts = texts_to(services, FAITH)[before:]
    assert len(texts) == 2 and texts[1] == f"Kassa: your request {ref} is closed. Thank you. Ask again at any time."
    for text in texts:  # never the category, never the note
        assert "legal" not in text.lower() and "Land" not in text
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(SupportNote)) == 1


def test_the_sms_is_in_her_language(services: Services, centres: dict[str, int]) -> None:
    with services.db.transaction() as s:
        member = s.scalars(select(Member).where(Member.phone == FAITH)).one()
        member.language = "sw"
    ref = ask(services)
    lawyer_id = staff(services, *LAWYER, "lawyer", "Lydia Lawyer", centres["kisumu"])
    with services.db.transaction() as s:
        desk.assign(s, s.scalars(select(SupportRequest).where(SupportRequest.ref == ref)).one(), s.get_one(Staff, lawyer_id))
        msg = s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"support:{ref}:taken")).one()
    assert msg.language == "sw" and ref in msg.text and "Kassa" in msg.text
    assert msg.text != f"Kassa: your request {ref} has been taken up. Someone will contact you soon."


# -- the console ----------------------------------------------------------------------

def test_console_assign_take_close_and_scope(client: FlaskClient, app: Flask, services: Services,
                                             centres: dict[str, int]) -> None:
    staff(services, *ADMIN, "admin", "Amina Admin")
    lawyer_id = staff(services, *LAWYER, "lawyer", "Lydia Lawyer", centres["kisumu"])
    staff(services, *PSYCH, "psychologist", "Nora Nairobi", centres["nairobi"])
    ref = ask(services)
    other = ask(services, phone="+254712000004", category=Category.BUSINESS, key="k2")

    lawyer = app.test_client()
    assert login(lawyer, *LAWYER).status_code == 303
    page = lawyer.get("/console/desk").get_data(as_text=True)
    assert ref in page and other in page
    # a lawyer may not assign to others, but may take an unassigned request herself
    r = post(lawyer, f"/console/desk/{ref}/assign", {"staff_id": lawyer_id}, page="/console/desk")
    assert r.status_code == 404
    r = post(lawyer, f"/console/desk/{ref}/assign", {"take": "1"}, page="/console/desk")
    assert r.status_code == 303
    mine = lawyer.get("/console/desk?mine=1").get_data(as_text=True)
    assert ref in mine and other not in mine

    nairobi = app.test_client()
    assert login(nairobi, *PSYCH).status_code == 303
    assert ref not in nairobi.get("/console/desk").get_data(as_text=True)
    assert nairobi.get(f"/console/desk/{ref}").status_code == 404
    assert post(nairobi, f"/console/desk/{ref}/note", {"text": "x"}, page="/console/desk").status_code == 404

    # the admin re-assigns the other one to the lawyer; only then may the lawyer close it
    assert login(client, *ADMIN).status_code == 303
    r = post(client, f"/console/desk/{other}/assign", {"staff_id": lawyer_id}, page="/console/desk")
    assert r.status_code == 303
    r = post(lawyer, f"/console/desk/{other}/close", {"outcome": "nonsense"}, page="/console/desk")
    assert r.status_code == 303
    with services.db.transaction() as s:
        assert s.scalar(select(SupportRequest.status).where(SupportRequest.ref == other)) == RequestStatus.ASSIGNED
    r = post(lawyer, f"/console/desk/{other}/close", {"outcome": "referred", "note": "Sent to the SACCO"},
             page="/console/desk")
    assert r.status_code == 303
    html = lawyer.get(f"/console/desk/{other}").get_data(as_text=True)
    assert "Referred to another service" in html and "Sent to the SACCO" in html
    with services.db.transaction() as s:
        actions = [a for a in s.scalars(select(AuditEntry.action).order_by(AuditEntry.id))]
    assert actions.count("support.assign") == 2 and "support.close" in actions


def test_coordinator_sees_her_groups_requests(client: FlaskClient, services: Services,
                                              centres: dict[str, int]) -> None:
    staff(services, *COORD, "coordinator", "Joseph Otieno")
    ref = ask(services)
    with services.db.transaction() as s:
        berde = s.scalars(select(Member).join(Member.memberships).where(
            Member.phone.like("+994%")).limit(1)).one()
        phone = berde.phone
    far = ask(services, phone=phone, key="k3")
    assert login(client, *COORD).status_code == 303
    page = client.get("/console/desk").get_data(as_text=True)
    assert ref in page and far not in page


def test_overdue_requests_are_highlighted(client: FlaskClient, services: Services,
                                          centres: dict[str, int]) -> None:
    staff(services, *ADMIN, "admin", "Amina Admin")
    old, new = ask(services), ask(services, key="k9")
    with services.db.transaction() as s:
        s.scalars(select(SupportRequest).where(SupportRequest.ref == old)).one().created_at = \
            dt.datetime.now(dt.UTC) - dt.timedelta(days=6)  # Kisumu's target: 5 days
    login(client, *ADMIN)
    html = client.get("/console/desk").get_data(as_text=True)
    assert f'data-ref="{old}" class="overdue"' in html
    assert f'data-ref="{new}" class="overdue"' not in html and f'data-ref="{new}"' in html


def test_walk_in_without_and_with_a_phone(client: FlaskClient, services: Services,
                                          centres: dict[str, int]) -> None:
    staff(services, *ADMIN, "admin", "Amina Admin")
    login(client, *ADMIN)
    form = {"name": "Grace Walk-in", "phone": "", "language": "sw", "category": "psychological",
            "centre_id": centres["kisumu"], "note": "Came with her sister"}
    r = post(client, "/console/desk/walk-in", form, page="/console/desk/walk-in")
    assert r.status_code == 303
    with services.db.transaction() as s:
        req = s.scalars(select(SupportRequest).where(SupportRequest.group_id.is_(None))).one()
        assert req.member.phone is None and req.member.name == "Grace Walk-in"
        assert req.centre_id == centres["kisumu"] and req.category == Category.PSYCHOLOGICAL
        count = s.scalar(select(func.count()).select_from(OutboxMessage))
    # a bad number: a clear answer, nothing written
    r = post(client, "/console/desk/walk-in", {**form, "phone": "12"}, page="/console/desk/walk-in")
    assert r.status_code == 400 and "Bad phone number" in r.get_data(as_text=True)
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(SupportRequest)) == 1
    # with a phone: she gets her reference by SMS; a known number is that person
    r = post(client, "/console/desk/walk-in", {**form, "name": "Someone", "phone": FAITH},
             page="/console/desk/walk-in")
    assert r.status_code == 303
    with services.db.transaction() as s:
        req = s.scalars(select(SupportRequest).order_by(SupportRequest.id.desc()).limit(1)).one()
        assert req.member.phone == FAITH and req.member.name != "Someone"
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == count + 1
    assert texts_to(services, FAITH)[-1].startswith(f"Kassa: your request {req.ref} is received.")


# -- the counts ------------------------------------------------------------------------

def test_monthly_counts_equal_the_rows_behind_them(
        client: FlaskClient, services: Services, centres: dict[str, int]) -> None:
    staff(services, *ADMIN, "admin", "Amina Admin")
    rng = random.Random(14)
    with services.db.transaction() as s:
        faith = s.scalars(select(Member).where(Member.phone == FAITH)).one()
        upendo = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        for i in range(120):
            s.add(SupportRequest(ref=f"T{i:04d}", member_id=faith.id, group_id=upendo.id,
                                 centre_id=rng.choice([centres["kisumu"], centres["nairobi"], None]),
                                 category=rng.choice(list(Category)),
                                 created_at=dt.datetime(2026, rng.randint(1, 12), rng.randint(1, 28),
                                                        rng.randint(0, 23), tzinfo=dt.UTC)))
        s.add(SupportRequest(ref="TLAST", member_id=faith.id, group_id=upendo.id, centre_id=centres["kisumu"],
                             category=Category.LEGAL, created_at=dt.datetime(2025, 12, 31, 23, 59, tzinfo=dt.UTC)))
    with services.db.transaction() as s:
        rows = [(r.created_at.strftime("%Y-%m"), r.centre_id, r.category) for r in s.scalars(select(SupportRequest))]
        counts = desk.monthly_counts(s)
        year = desk.monthly_counts(s, year=2026, centre_id=centres["kisumu"])
    expected: dict[tuple[str, int | None, Category], int] = {}
    for key in rows:
        expected[key] = expected.get(key, 0) + 1
    got = {(r.month, r.centre_id, c): n for r in counts for c, n in r.counts.items() if n}
    assert got == expected
    assert sum(r.total for r in counts) == len(rows) == 121
    assert sum(r.total for r in year) == sum(1 for m, c, _ in rows if m.startswith("2026") and c == centres["kisumu"])

    login(client, *ADMIN)
    html = client.get("/console/desk/figures").get_data(as_text=True)
    assert 'id="desk-chart"' in html and "<svg" in html
    data = client.get("/console/export/desk_counts.csv").get_data(as_text=True)
    table = list(csv.DictReader(io.StringIO(data.lstrip("\ufeff"))))
    assert sum(int(r["Total"]) for r in table) == 121
    legal = sum(int(r["Legal aid"]) for r in table)
    assert legal == sum(1 for _m, _c, cat in rows if cat == Category.LEGAL)
    assert client.get("/console/export/desk_counts.xlsx").status_code == 200
