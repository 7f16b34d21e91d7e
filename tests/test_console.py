"""The console through Flask's test client: accounts, scope, CSRF, audit, forms, import, exports.

The browser-driven tests are in test_console_browser.py.
"""
from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING, Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from console.accounts import create_staff
from console.models import AuditEntry, Staff
from groups.models import Coordinator, Group, Member, Membership, Status
from messaging.models import OutboxMessage
from tests.found import found

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask
    from flask.testing import FlaskClient, FlaskCliRunner
    from werkzeug.test import TestResponse

    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp

ADMIN = ("+254700000001", "correct horse battery")
COORD = ("+254712000099", "coordinator password")  # Joseph Otieno in the demo: UPENDO, region Kisumu


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app(CONSOLE_SECURE_COOKIES=False)


def add_staff(services: Services, phone: str, password: str, role: str, name: str = "Staff Member",
              **kw: Any) -> int:
    with services.db.transaction() as s:
        return create_staff(s, phone=phone, password=password, role=role, name=name, **kw).id


def client_from(app: Flask, addr: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    return client


def token(client: FlaskClient, path: str = "/console/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return found(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client: FlaskClient, phone: str, password: str) -> TestResponse:
    return client.post("/console/login", data={"phone": phone, "password": password,
                                               "csrf_token": token(client)})


def post(client: FlaskClient, path: str, data: Mapping[str, object], page: str | None = None,
         **kw: Any) -> TestResponse:
    return client.post(path, data={**data, "csrf_token": token(client, page or "/console/groups")}, **kw)


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


def group_id(services: Services, code: str) -> int:
    with services.db.transaction() as s:
        return s.scalars(select(Group.id).where(Group.code == code)).one()


def audit_actions(services: Services) -> list[tuple[str, Any, Any]]:
    with services.db.transaction() as s:
        return [(e.action, e.before, e.after) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


# -- accounts and sessions ---------------------------------------------------------

def test_cookies_are_secure_httponly_samesite_by_default(make_app: MakeApp, services: Services) -> None:
    client = make_app().test_client()
    resp = client.get("/console/login")
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_lands_on_the_dashboard_and_logout_ends_the_session(
        client: FlaskClient, services: Services) -> None:
    add_staff(services, *ADMIN, "admin")
    resp = login(client, *ADMIN)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/console/")
    assert client.get("/console/").status_code == 200
    assert "Max-Age" in resp.headers["Set-Cookie"] or "Expires" in resp.headers["Set-Cookie"]  # sessions expire
    post(client, "/console/logout", {}, page="/console/")
    assert client.get("/console/").status_code == 302


def test_the_password_is_stored_as_an_argon2id_hash(services: Services) -> None:
    add_staff(services, *ADMIN, "admin")
    with services.db.transaction() as s:
        stored = s.scalars(select(Staff.password_hash)).one()
    assert stored.startswith("$argon2id$") and ADMIN[1] not in stored


def test_a_new_password_ends_older_sessions(admin: FlaskClient, services: Services,
                                            make_app: MakeApp) -> None:
    other = services  # same app
    from console.accounts import set_password

    with other.db.transaction() as s:
        set_password(s, s.scalars(select(Staff)).one(), "another good password")
    assert admin.get("/console/").status_code == 302


def test_the_lock_counts_per_account_whatever_the_address(make_app: MakeApp, services: Services) -> None:
    app = make_app(CONSOLE_SECURE_COOKIES=False, CONSOLE_LOGIN_LIMIT="2 per 15 minutes")
    add_staff(services, *ADMIN, "admin")
    for addr in ("10.0.0.1", "10.0.0.2"):
        c = client_from(app, addr)
        assert login(c, ADMIN[0], "wrong wrong wrong").status_code == 401
    c = client_from(app, "10.0.0.3")
    assert login(c, *ADMIN).status_code == 429  # locked, even with the right password from a third address
    c2 = client_from(app, "10.0.0.3")
    add_staff(services, "+254700000002", "another good password", "admin")
    assert login(c2, "+254700000002", "another good password").status_code == 303  # other accounts still log in


def test_the_lock_counts_per_address_across_accounts(make_app: MakeApp, services: Services) -> None:
    app = make_app(CONSOLE_SECURE_COOKIES=False, CONSOLE_ADDRESS_LIMIT="3 per 15 minutes")
    add_staff(services, *ADMIN, "admin")
    c = client_from(app, "10.9.9.9")
    for n in range(3):
        assert login(c, f"+25470000010{n}", "guess guess guess").status_code == 401
    assert login(c, *ADMIN).status_code == 429


def test_staff_add_command(runner: FlaskCliRunner, services: Services) -> None:
    result = runner.invoke(args=["staff", "add", "0712000123", "Wanjiru", "--role", "coordinator",
                                 "--password", "long enough password", "--region", "Kisumu"])
    assert result.exit_code != 0 and "phone" in result.output  # a local number needs no country here: refused
    result = runner.invoke(args=["staff", "add", "+254712000123", "Wanjiru", "--role", "coordinator",
                                 "--password", "long enough password", "--region", "Kisumu"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["staff", "add", "+254712000124", "Short", "--role", "admin", "--password", "short"])
    assert result.exit_code != 0 and "10 characters" in result.output
    result = runner.invoke(args=["staff", "add", "+254712000125", "Prompted", "--role", "admin"],
                           input="prompted password\nprompted password\n")
    assert result.exit_code == 0, result.output
    with services.db.transaction() as s:
        coord = s.scalars(select(Coordinator).where(Coordinator.phone == "+254712000123")).one()
        assert coord.regions == ["Kisumu"]
        assert s.scalar(select(func.count(Staff.id))) == 2


# -- scope ---------------------------------------------------------------------------

def test_a_coordinator_sees_only_her_groups(coordinator: FlaskClient, services: Services) -> None:
    listing = coordinator.get("/console/groups").get_data(as_text=True)
    assert "Upendo Women Group" in listing and "BERDE1" not in listing
    assert coordinator.get(f"/console/groups/{group_id(services, 'UPENDO')}").status_code == 200
    other = group_id(services, "BERDE1")
    for path in (f"/console/groups/{other}", f"/console/groups/{other}/edit", f"/console/groups/{other}/import",
                 f"/console/export/members.csv?group_id={other}"):
        assert coordinator.get(path).status_code == 404, path
    assert coordinator.get("/console/staff").status_code == 404
    assert coordinator.get("/console/audit").status_code == 404
    resp = post(coordinator, f"/console/groups/{other}/members", {"phone": "+994501110077", "name": "X"})
    assert resp.status_code == 404


# -- CSRF ----------------------------------------------------------------------------

def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
        admin: FlaskClient, services: Services) -> None:
    gid = group_id(services, "UPENDO")
    resp = admin.post(f"/console/groups/{gid}/members", data={"phone": "+254712000555", "name": "No Token"})
    assert resp.status_code == 400
    with services.db.transaction() as s:
        assert s.scalar(select(Member).where(Member.phone == "+254712000555")) is None
    assert admin.post("/console/logout").status_code == 400


def test_webhooks_need_no_csrf_token(client: FlaskClient, demo: DemoPeople) -> None:
    resp = client.post("/ussd/africastalking", data={"sessionId": "s1", "phoneNumber": "+254712000003",
                                                      "serviceCode": "*384*123#", "text": ""})
    assert resp.get_data(as_text=True).startswith("CON ")


# -- groups ----------------------------------------------------------------------------

def test_groups_search_and_filters(admin: FlaskClient) -> None:
    assert "Upendo" in admin.get("/console/groups?q=upen").get_data(as_text=True)
    page = admin.get("/console/groups?kind=vsla").get_data(as_text=True)
    assert "BANPHO" in page and "UPENDO" not in page
    page = admin.get("/console/groups?region=Bərdə").get_data(as_text=True)
    assert "BERDE1" in page and "BANPHO" not in page
    partial = admin.get("/console/groups?q=upen", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in partial.get_data(as_text=True) and "UPENDO" in partial.get_data(as_text=True)


def test_create_a_group_refuses_bad_fields_then_creates_and_audits(
        admin: FlaskClient, services: Services) -> None:
    bad = post(admin, "/console/groups/new", {"code": "NEW1", "name": "", "kind": "shg", "currency": "KES",
                                              "country": "KE", "language": "en", "timezone": "Mars/Base",
                                              "meeting_weekday": "2", "meeting_time": "25:00",
                                              "meeting_every_weeks": "1", "reminder_days_before": "1",
                                              "reminder_time": "18:00", "shares_min": "1", "shares_max": "5",
                                              "max_active_loans": "1", "loan_limit_multiplier": "3",
                                              "saving_amount": "abc"}, page="/console/groups/new")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    for words in ("A group needs a name.", "Mars/Base is not a time zone", "HH:MM", "is not an amount"):
        assert words in text
    with services.db.transaction() as s:
        assert s.scalar(select(Group.id).where(Group.code == "NEW1")) is None
    good = post(admin, "/console/groups/new", {"code": "new1", "name": "New Hope", "kind": "shg",
                                               "currency": "KES", "country": "KE", "language": "sw",
                                               "timezone": "Africa/Nairobi", "region": "Kisumu",
                                               "meeting_weekday": "2", "meeting_time": "14:30",
                                               "meeting_every_weeks": "1", "reminder_days_before": "1",
                                               "reminder_time": "18:00", "shares_min": "1", "shares_max": "5",
                                               "max_active_loans": "1", "loan_limit_multiplier": "3",
                                               "saving_amount": "200", "social_fund_amount": "50"},
                page="/console/groups/new")
    assert good.status_code == 303
    with services.db.transaction() as s:
        g = s.scalars(select(Group).where(Group.code == "NEW1")).one()
        assert (g.saving_amount, g.social_fund_amount, g.service_charge_bp, g.language) == (20000, 5000, 200, "sw")
    assert audit_actions(services)[-1][0] == "group.create"
    again = post(admin, "/console/groups/new", {"code": "NEW1", "name": "Twice", "kind": "shg", "currency": "KES",
                                                "country": "KE", "language": "en", "timezone": "UTC",
                                                "meeting_weekday": "0", "meeting_time": "10:00",
                                                "meeting_every_weeks": "1", "reminder_days_before": "1",
                                                "reminder_time": "18:00", "shares_min": "1", "shares_max": "5",
                                                "max_active_loans": "1", "loan_limit_multiplier": "3"},
                 page="/console/groups/new")
    assert again.status_code == 400 and "The group code NEW1 is taken." in again.get_data(as_text=True)


def test_a_coordinators_new_group_is_hers(coordinator: FlaskClient, services: Services) -> None:
    resp = post(coordinator, "/console/groups/new", {
        "code": "MINE", "name": "Mine", "kind": "vsla", "currency": "KES", "country": "KE", "language": "en",
        "timezone": "Africa/Nairobi", "region": "Elsewhere", "meeting_weekday": "0", "meeting_time": "10:00",
        "meeting_every_weeks": "2", "reminder_days_before": "1", "reminder_time": "18:00", "shares_min": "1",
        "shares_max": "5", "max_active_loans": "1", "loan_limit_multiplier": "3", "share_value": "100"},
        page="/console/groups/new")
    assert resp.status_code == 303
    assert coordinator.get(resp.headers["Location"]).status_code == 200


def test_edit_a_group_audits_before_and_after_and_replans_reminders(
        admin: FlaskClient, services: Services) -> None:
    gid = group_id(services, "UPENDO")
    with services.db.transaction() as s:
        g = s.get_one(Group, gid)
        g.next_reminder_at = g.created_at
    form = admin.get(f"/console/groups/{gid}/edit").get_data(as_text=True)
    assert 'value="200"' in form  # the saving rule in major units
    fields = dict(name="Upendo Women Group", language="en", timezone="Africa/Nairobi", region="Kisumu",
                  meeting_weekday="4", meeting_time="14:00", meeting_place="Kondele church hall",
                  meeting_every_weeks="1", reminder_days_before="1", reminder_time="18:00", saving_amount="200",
                  share_value="", social_fund_amount="50", shares_min="1", shares_max="5", max_active_loans="1",
                  loan_limit_multiplier="3", service_charge="2")
    assert post(admin, f"/console/groups/{gid}/edit", fields).status_code == 303
    with services.db.transaction() as s:
        g = s.get_one(Group, gid)
        assert g.meeting_weekday == 4 and g.next_reminder_at is None and g.saving_amount == 20000
    action, before, after = audit_actions(services)[-1]
    assert action == "group.edit" and before == {"meeting_weekday": 1} and after == {"meeting_weekday": 4}
    page = admin.get("/console/audit").get_data(as_text=True)
    assert "Group changed: group UPENDO" in page and "meeting_weekday" in page
    rows = list(csv.reader(io.StringIO(admin.get("/console/export/audit.csv").get_data().decode("utf-8-sig"))))
    assert rows[1][1:4] == ["Amina Admin", "group.edit", "group UPENDO"]
    assert rows[1][4:6] == ['{"meeting_weekday": 1}', '{"meeting_weekday": 4}']


# -- members -------------------------------------------------------------------------

def test_add_edit_and_remove_a_member(admin: FlaskClient, services: Services) -> None:
    gid = group_id(services, "UPENDO")
    bad = post(admin, f"/console/groups/{gid}/members", {"phone": "12", "name": "Short", "role": "member"})
    assert bad.status_code == 303
    assert "Bad phone number 12" in admin.get(bad.headers["Location"]).get_data(as_text=True)
    ok = post(admin, f"/console/groups/{gid}/members", {"phone": "0712000777", "name": "Akinyi", "role": "member",
                                                        "language": "sw"})
    assert ok.status_code == 303
    with services.db.transaction() as s:
        m = s.scalars(select(Membership).join(Member).where(Member.phone == "+254712000777")).one()
        mid, number = m.id, m.number
    resp = post(admin, f"/console/groups/{gid}/members/{mid}/edit",
                {"name": "Akinyi Otieno", "number": str(number), "role": "treasurer", "language": "sw"})
    assert resp.status_code == 303
    taken = post(admin, f"/console/groups/{gid}/members/{mid}/edit",
                 {"name": "Akinyi Otieno", "number": "1", "role": "treasurer", "language": "sw"})
    assert taken.status_code == 400 and "Member number 1 is taken" in taken.get_data(as_text=True)
    assert post(admin, f"/console/groups/{gid}/members/{mid}/remove", {}).status_code == 303
    with services.db.transaction() as s:
        m = s.get_one(Membership, mid)
        assert (m.member.name, m.role.value, m.status) == ("Akinyi Otieno", "treasurer", Status.INACTIVE)
    assert [a for a, _b, _c in audit_actions(services)] == ["member.add", "member.edit", "member.remove"]


def test_member_page_and_pin_reset(admin: FlaskClient, services: Services) -> None:
    gid = group_id(services, "UPENDO")
    with services.db.transaction() as s:
        member = s.scalars(select(Member).where(Member.phone == "+254712000003")).one()
        member.pin_hash, member.pin_locked, mid = "x", True, member.id
    page = admin.get(f"/console/groups/{gid}/members/{mid}").get_data(as_text=True)
    assert "Faith Njeri" in page and "Locked after wrong tries." in page
    assert post(admin, f"/console/groups/{gid}/members/{mid}/reset-pin", {}).status_code == 303
    with services.db.transaction() as s:
        member = s.get_one(Member, mid)
        assert member.pin_hash is None and not member.pin_locked
        sms = s.scalars(select(OutboxMessage).where(OutboxMessage.member_id == mid)).one()
        assert "PIN was reset" in sms.text
    assert audit_actions(services)[-1][0] == "member.reset_pin"
    assert "PIN was reset" in admin.get(f"/console/groups/{gid}/members/{mid}").get_data(as_text=True)
    other = group_id(services, "BERDE1")
    assert admin.get(f"/console/groups/{other}/members/{mid}").status_code == 404  # not her group


# -- import ---------------------------------------------------------------------------

def _upload(client: FlaskClient, gid: int, name: str, data: bytes) -> TestResponse:
    return client.post(f"/console/groups/{gid}/import", data={
        "csrf_token": token(client, f"/console/groups/{gid}/import"), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def _members(services: Services, gid: int) -> int:
    with services.db.transaction() as s:
        return s.scalars(select(func.count(Membership.id)).where(Membership.group_id == gid)).one()


def test_import_previews_every_bad_row_and_writes_nothing_until_confirmed(
        admin: FlaskClient, services: Services) -> None:
    gid = group_id(services, "UPENDO")
    before = _members(services, gid)
    data = (b"phone,name,role\n0712000801,Amani,member\n0712,Too Short,member\n"
            b"0712000802,Baraka,boss\n0712000803,Chiku,\n")
    resp = _upload(admin, gid, "members.csv", data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "2 good rows, 2 bad rows" in page
    assert "Bad phone number 0712" in page and "The role boss is not one of" in page
    assert _members(services, gid) == before
    tok = found(r'name="token" value="([^"]+)"', page).group(1)
    refused = post(admin, f"/console/groups/{gid}/import/confirm", {"token": tok, "mode": "all"})
    assert refused.status_code == 303 and _members(services, gid) == before
    assert "Nothing was imported: 2 rows are bad" in admin.get(refused.headers["Location"]).get_data(as_text=True)
    done = post(admin, f"/console/groups/{gid}/import/confirm", {"token": tok, "mode": "skip"})
    assert done.status_code == 303 and _members(services, gid) == before + 2
    assert audit_actions(services)[-1][0] == "members.import"
    again = post(admin, f"/console/groups/{gid}/import/confirm", {"token": tok, "mode": "skip"})
    assert _members(services, gid) == before + 2  # a used preview cannot import twice
    assert "expired" in admin.get(again.headers["Location"]).get_data(as_text=True)


def test_import_from_xlsx(admin: FlaskClient, services: Services) -> None:
    gid = group_id(services, "UPENDO")
    book = Workbook()
    sheet = book.active
    sheet.append(["phone", "name", "role", "number"])
    sheet.append([254712000901, "Dalia", "secretary", 40])  # a phone typed as a number
    sheet.append(["+254712000902", "Eshe", None, None])
    buf = io.BytesIO()
    book.save(buf)
    page = _upload(admin, gid, "members.xlsx", buf.getvalue()).get_data(as_text=True)
    assert "2 good rows, 0 bad rows" in page
    tok = found(r'name="token" value="([^"]+)"', page).group(1)
    post(admin, f"/console/groups/{gid}/import/confirm", {"token": tok, "mode": "all"})
    with services.db.transaction() as s:
        m = s.scalars(select(Membership).join(Member).where(Member.phone == "+254712000901")).one()
        assert (m.number, m.role.value) == (40, "secretary")


def test_import_refuses_a_file_without_phone_and_name(admin: FlaskClient, services: Services) -> None:
    gid = group_id(services, "UPENDO")
    resp = _upload(admin, gid, "x.csv", b"who,what\n1,2\n")
    assert resp.status_code == 400 and "needs the columns name, phone" in resp.get_data(as_text=True)


# -- exports ---------------------------------------------------------------------------

def test_exports_open_as_csv_and_xlsx(admin: FlaskClient, services: Services) -> None:
    gid = group_id(services, "UPENDO")
    resp = admin.get(f"/console/export/members.csv?group_id={gid}")
    assert resp.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["No.", "Name", "Phone"] and len(rows) == 5
    assert ["1", "Grace Wanjiku", "+254712000001", "Treasurer"] == rows[1][:4]
    resp = admin.get("/console/export/groups.xlsx?kind=shg")
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Code" and sorted(r[0] for r in values[1:]) == ["BERDE1", "UPENDO"]
    assert admin.get("/console/export/nothing.csv").status_code == 404


def test_an_export_cannot_smuggle_a_formula(admin: FlaskClient, services: Services) -> None:
    gid = group_id(services, "UPENDO")
    post(admin, f"/console/groups/{gid}/members", {"phone": "0712000999", "name": "=HYPERLINK(1)", "role": "member"})
    text = admin.get(f"/console/export/members.csv?group_id={gid}").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    sheet = load_workbook(io.BytesIO(admin.get(f"/console/export/members.xlsx?group_id={gid}").get_data())).active
    cell = [c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(1)"][0]
    assert cell.data_type == "s"


# -- staff admin and language -------------------------------------------------------------

def test_admin_adds_a_coordinator_and_gives_her_a_group(admin: FlaskClient, services: Services) -> None:
    resp = post(admin, "/console/staff", {"phone": "+254712000321", "name": "Neema", "role": "coordinator",
                                          "regions": "", "language": "sw", "password": "neema password"},
                page="/console/staff")
    assert resp.status_code == 303
    with services.db.transaction() as s:
        sid = s.scalar(select(Staff.id).where(Staff.phone == "+254712000321"))
    resp = post(admin, f"/console/staff/{sid}", {"name": "Neema", "role": "coordinator", "language": "sw",
                                                 "regions": "", "groups": "BANPHO", "active": "1"},
                page="/console/staff")
    assert resp.status_code == 303
    other = admin.application.test_client()
    assert login(other, "+254712000321", "neema password").status_code == 303
    page = other.get("/console/groups").get_data(as_text=True)
    assert "BANPHO" in page and "UPENDO" not in page and "Vikundi" in page  # in her language
    post(admin, f"/console/staff/{sid}", {"name": "Neema", "role": "coordinator", "language": "sw",
                                          "regions": "", "groups": "BANPHO"}, page="/console/staff")
    assert other.get("/console/groups").status_code == 302  # switched off: her session ends
    actions = [a for a, _b, _c in audit_actions(services)]
    assert actions == ["staff.create", "staff.edit", "staff.edit"]


def test_an_admin_cannot_lock_herself_out(admin: FlaskClient, services: Services) -> None:
    with services.db.transaction() as s:
        sid = s.scalar(select(Staff.id))
    resp = post(admin, f"/console/staff/{sid}", {"name": "Amina", "role": "coordinator", "language": "en"},
                page="/console/staff")
    assert resp.status_code == 400


def test_the_language_is_kept_on_her_account(admin: FlaskClient, services: Services) -> None:
    post(admin, "/console/language", {"lang": "ru", "next": "/console/groups"})
    assert "Группы" in admin.get("/console/groups").get_data(as_text=True)
    with services.db.transaction() as s:
        assert s.scalar(select(Staff.language)) == "ru"


def test_a_session_ends_when_its_time_is_up(admin: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import itsdangerous.timed

    assert admin.get("/console/groups").status_code == 200
    later = int(time.time()) + 481 * 60  # CONSOLE_SESSION_MINUTES is 480
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: later)
    resp = admin.get("/console/groups")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]


def test_pages_are_small_and_their_assets_cached(admin: FlaskClient, services: Services) -> None:
    page = admin.get(f"/console/groups/{group_id(services, 'UPENDO')}")
    html = page.get_data(as_text=True)
    assert len(page.get_data()) < 30_000  # a slow phone link: one small HTML page ...
    for url in re.findall(r'(?:href|src)="(/console/static/[^"]+)"', html):
        assert "?v=" in url  # ... whose script and style are fetched once, then cached
        with admin.get(url) as asset:
            assert asset.headers["Cache-Control"] == "public, max-age=31536000"
    assert re.findall(r'src="(/console/static/vendor/htmx.min.js\?v=\d+)"', html)
