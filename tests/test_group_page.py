"""A group's console page stays cheap and right however large the group and the outbox grow.

- it runs the same few statements for a group of 10 members and one of 40 with
  a dozen loans and SMS (no statement per member or loan, no list of phones
  sent to the database);
- its books are the ledger's (``ledger.group_summary``), read from the
  dashboard's aggregates while they are current and from the ledger when not;
- a group's SMS show however many other SMS the outbox took since.
"""
from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import pytest
from sqlalchemy import event, insert, select, update

import ledger
from groups.models import Group, Member, Membership, Role, Status
from groups.service import add_member
from i18n import translator
from messaging.models import InboxMessage, OutboxMessage
from reports.maintain import SKIP
from reports.models import ReportGroup
from tests.found import found
from tests.ledger_fixtures import key
from tests.test_console import ADMIN, add_staff, login

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient
    from sqlalchemy import Connection, Table

    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp

#: The staff member, the group with its figures row and place path, and one UNION ALL of everything
#: else the page shows (members, loans, cycles, meetings, SMS, the place names, the moved and cancelled
#: meetings, the field visits, the size warning's count, the loan condition): a fixed number,
#: whatever the size of the group (it was 11 after the merges of orgs, field and cycle).
MAX_STATEMENTS = 3


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app(CONSOLE_SECURE_COOKIES=False)


@pytest.fixture
def admin(client: FlaskClient, services: Services) -> FlaskClient:
    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    assert login(client, *ADMIN).status_code == 303
    return client


def upendo(services: Services) -> int:
    with services.db.transaction() as s:
        return s.scalars(select(Group.id).where(Group.code == "UPENDO")).one()


def statements(services: Services, client: FlaskClient, path: str) -> tuple[str, list[str]]:
    """The page's HTML and every statement it sent to the database (BEGIN and the like left out)."""
    seen: list[str] = []

    def before(conn: Connection, cursor: object, statement: str, params: object, context: object,
               executemany: bool) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            seen.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", before)
    try:
        resp = client.get(path)
    finally:
        event.remove(services.db.engine, "before_cursor_execute", before)
    assert resp.status_code == 200
    return resp.get_data(as_text=True), seen


def grow(services: Services, group_id: int, members: int = 30, loans: int = 12) -> None:
    """``members`` more members who save, ``loans`` more loans paid out, and SMS both ways."""
    with services.db.transaction() as s:
        g = s.get_one(Group, group_id)
        people = dict(s.execute(select(Membership.role, Member).join(Member)
                                .where(Membership.group_id == g.id, Membership.status == Status.ACTIVE)).all())
        treasurer, chair = people[Role.TREASURER], people[Role.CHAIR]
        new = [add_member(s, g, phone=f"+2547130{i:05d}", name=f"Member {i}").member for i in range(members)]
        s.flush()
        for m in new:
            ledger.record_saving(s, g, m, amount=g.saving_amount or None, key=key(), actor=treasurer)
        for m in new[:loans]:
            loan = ledger.request_loan(s, g, m, g.saving_amount or 10_000, purpose=ledger.LOAN_PURPOSES[0][0],
                                       term=4, unit="week", key=key())
            ledger.decide_loan(s, g, loan.ref, approve=True, actor=chair, key=key())
            ledger.disburse_loan(s, g, loan.ref, actor=treasurer, key=key())
        for i, m in enumerate(new):
            s.add(InboxMessage(provider="test", provider_message_id=f"grow-{i}", from_phone=m.phone, text="BAL"))
            s.add(OutboxMessage(to_phone=m.phone, member_id=m.id, group_id=g.id, text=f"Balance {i}",
                                language="en", encoding="gsm7", segments=1, kind="reply"))


def test_the_group_page_runs_the_same_few_statements_whatever_the_size_of_the_group(
        admin: FlaskClient, services: Services, demo_books: DemoPeople) -> None:
    gid = upendo(services)
    admin.get(f"/console/groups/{gid}")  # warm: templates, catalogs
    _, small = statements(services, admin, f"/console/groups/{gid}")
    grow(services, gid)
    page, large = statements(services, admin, f"/console/groups/{gid}")
    sms = page.split('id="sms-table"')[1]
    assert "Member 29" in page and "+254713000029" in sms and sms.count("<tr>") == 1 + 10  # the grown group
    assert len(small) <= MAX_STATEMENTS, small
    assert large == small  # the same statements, word for word: nothing per member, loan or phone


def _books(page: str) -> dict[str, str]:
    section = page.split('id="books"')[1].split("</section>")[0]
    return {htmllib.unescape(dt_): htmllib.unescape(dd) for dt_, dd in
            re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", section)}


def _expected(services: Services, gid: int) -> dict[str, str]:
    t = translator("en")
    with services.db.transaction() as s:
        g = s.get_one(Group, gid)
        summary = ledger.group_summary(s, g)
    money = {"Savings": summary.savings, "Social fund": summary.social_fund, "Cash box": summary.cash_box,
             "Bank": summary.bank, "Loans outstanding": summary.loans_outstanding,
             "Service charges earned": summary.service_charges, "Fines": summary.fines}
    assert summary.savings and summary.loans_outstanding and summary.par30_bp  # the demo's past: an overdue loan
    return {"Cycle": str(summary.cycle), **{k: t.money(v, g.currency) for k, v in money.items()},
            "PAR30": f"{summary.par30_bp / 100:.1f}%", "Repayment rate": f"{summary.repayment_rate_bp / 100:.1f}%"}


def test_the_books_on_the_group_page_are_the_ledgers(
        admin: FlaskClient, services: Services, demo_books: DemoPeople) -> None:
    gid = upendo(services)
    expected = _expected(services, gid)
    assert _books(admin.get(f"/console/groups/{gid}").get_data(as_text=True)) == expected
    grow(services, gid, members=3, loans=2)  # postings since: the aggregates moved with them
    expected = _expected(services, gid)
    assert _books(admin.get(f"/console/groups/{gid}").get_data(as_text=True)) == expected


@pytest.mark.parametrize("stale", ["past its refresh time", "no row"])
def test_the_books_come_from_the_ledger_when_the_aggregates_are_not_current(
        admin: FlaskClient, services: Services, demo_books: DemoPeople, stale: str) -> None:
    gid = upendo(services)
    expected = _expected(services, gid)
    with services.db.transaction() as s:
        s.info[SKIP] = True  # change the row behind the commit hooks' back
        table = cast("Table", ReportGroup.__table__)  # the figures' columns: added by name, read off the table
        if stale == "no row":
            s.execute(table.delete().where(ReportGroup.group_id == gid))
        else:  # yesterday's row: its date-dependent figures are out of date (here: every figure)
            s.execute(update(ReportGroup).where(ReportGroup.group_id == gid).values(
                refresh_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1), savings=table.c.savings + 1,
                par30=0))
    assert _books(admin.get(f"/console/groups/{gid}").get_data(as_text=True)) == expected


def test_a_groups_sms_show_however_many_sms_the_outbox_took_since(
        admin: FlaskClient, services: Services, demo: DemoPeople) -> None:
    gid = upendo(services)
    with services.db.transaction() as s:
        s.add(OutboxMessage(to_phone="+254712000001", group_id=gid, text="Meeting moved to Friday", language="en",
                            encoding="gsm7", segments=1, kind="notice", status="sent"))
    with services.db.transaction() as s:  # a national broadcast to other groups since: 25,000 SMS
        s.execute(insert(OutboxMessage), [dict(to_phone=f"+2547{i:08d}", group_id=100_000 + i // 15,
                                               text="Vaccination day", language="en", encoding="gsm7",
                                               segments=1, kind="broadcast") for i in range(25_000)])
    page = admin.get(f"/console/groups/{gid}").get_data(as_text=True)
    sms = page.split('id="sms-table"')[1]
    assert "Meeting moved to Friday" in sms and "Sent" in sms
    assert "Vaccination day" not in sms


def test_the_group_page_shows_its_cycle_and_its_six_latest_meetings_newest_first(
        admin: FlaskClient, services: Services, demo_books: DemoPeople) -> None:
    from ledger.models import Meeting

    gid = upendo(services)
    t = translator("en")
    with services.db.transaction() as s:
        days = list(s.scalars(select(Meeting.on).where(Meeting.group_id == gid).order_by(Meeting.on.desc())))
    assert len(days) == 8  # the demo's eight weeks
    page = admin.get(f"/console/groups/{gid}").get_data(as_text=True)
    held = htmllib.unescape(found(r">Held: ([^<]+)</p>", page).group(1))
    assert held.split(" · ") == [t.date(d, "d MMM") for d in days[:6]]
    assert "Cycle 1: open. Start date:" in page and "This cycle" in page


def test_what_the_page_reads_in_its_one_statement_is_what_the_separate_reads_give(
        app: Flask, admin: FlaskClient, services: Services, demo_books: DemoPeople) -> None:
    """The place names, the moved and cancelled meetings, the field visits, the size count and the
    loan condition the page folds into its UNION ALL are the same as those read one by one."""
    from console.field import field_panel
    from console.groups import page_lists
    from field.models import LoanCondition, Visit
    from groups.changes import MeetingChange, meeting_days
    from groups.schedule import meeting_day_for, rhythm_of
    from orgs.conditions import NONE
    from orgs.models import Place
    from orgs.places import place_for_region, place_names, set_group_place

    gid = upendo(services)
    with services.db.transaction() as s:
        g = s.get_one(Group, gid)
        set_group_place(s, g, place_for_region(s, "KE", "Nakuru"))
        today = dt.date.today()
        for i in range(12):  # more than the page lists: the ten newest, the newest one its last visit
            s.add(Visit(group_id=gid, visited_on=today - dt.timedelta(days=3 * i + (i % 2)), note=f"note {i}",
                        channel="console", key=f"visit-{i}"))
        s.add(MeetingChange(group_id=gid, regular_on=today - dt.timedelta(days=20), cancelled=True))
        s.add(MeetingChange(group_id=gid, regular_on=today + dt.timedelta(days=9), new_on=today + dt.timedelta(days=10),
                            new_time=dt.time(15, 30)))
        s.add(LoanCondition(group_id=gid, condition=NONE))
    with app.test_request_context("/console/"):
        with services.db.transaction() as s:
            g = s.get_one(Group, gid)
            lists = page_lists(s, gid)
            known = {"visits": lists.visits, "active_members": lists.active_members, "condition": lists.condition}
            folded_panel = field_panel(g, known)  # reads nothing
            path = s.scalars(select(Place.path).where(Place.id == g.place_id)).one()
            ids = [int(x) for x in path.strip("/").split("/") if x]
            assert [lists.places[i] for i in ids] == place_names(s, path) == ["Kenya", "Nakuru"]
            folded = meeting_day_for(rhythm_of(g), lists.changes or None)
            separate = meeting_days(s, [gid])[gid]
            days = [today + dt.timedelta(days=d) for d in range(-60, 60)]
            assert [folded(d) for d in days] == [separate(d) for d in days]
        assert folded_panel == field_panel(cast("Group", SimpleNamespace(id=gid)))  # its own reads, in its own transaction
    assert len(lists.changes) == 2 and lists.condition == NONE
    assert lists.active_members == len([m for m in lists.members if m.status == Status.ACTIVE]) >= 1
    assert len(lists.visits) == 10 and lists.visits[0][0] == today and folded_panel["last"] == today
