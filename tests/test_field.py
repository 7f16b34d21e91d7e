"""Field staff, visits, visit plans, referrals to outside lenders and group kinds (issue 18, the field half).

The end-to-end test drives everything people do through the HTTP endpoints (console,
SMS webhook, USSD); the project, its places, groups and lender are set up with the
foundation's functions (their console pages belong to the organisations work).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, cast

import pytest
import time_machine
from sqlalchemy import select

import ledger
from console.accounts import create_staff
from field.models import LenderBranch, Referral, ReferralStatus, Visit, VisitPlan
from groups.models import Group, GroupKind, Member
from groups.service import add_member, create_group
from messaging.models import OutboxMessage
from orgs.conditions import CONDITIONS, condition
from orgs.metrics import METRICS
from orgs.models import (
    FieldWorker,
    Organisation,
    OrgKind,
    PlaceLevel,
    Project,
    ProjectGroup,
    ProjectOrganisation,
    ProjectPlace,
    ProjectTarget,
)
from orgs.places import add_place
from outreach.models import Broadcast, BroadcastStatus
from security.pins import set_pin
from tests.found import found
from tests.smskit import at_sms, texts_to
from tests.ussd_phone import Phone

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask
    from flask.testing import FlaskClient, FlaskCliRunner
    from sqlalchemy import Table
    from sqlalchemy.orm import Session
    from werkzeug.test import TestResponse

    from services import Services
    from tests.fixture_types import MakeApp

ADMIN = ("+254700000001", "correct horse battery")
MOBILISER = "+254722000100"
PEPPER = "test-pepper"
# Group A (Kisumu East) and group B (Kisumu West): treasurer, chair, member each.
A_TREASURER, A_CHAIR, A_MEMBER = "+254712100001", "+254712100002", "+254712100003"
B_TREASURER, B_CHAIR, B_MEMBER = "+254712200001", "+254712200002", "+254712200003"
LENDER_PHONE = "+254733000500"


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app(CONSOLE_SECURE_COOKIES=False, VISIT_ALERT_WEEKS=4)


def token(client: FlaskClient, path: str = "/console/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return found(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client: FlaskClient, phone: str, password: str) -> TestResponse:
    return client.post("/console/login", data={"phone": phone, "password": password, "csrf_token": token(client)})


def post(client: FlaskClient, path: str, data: Mapping[str, object], page: str = "/console/") -> TestResponse:
    return client.post(path, data={**data, "csrf_token": token(client, page)})


@pytest.fixture
def world(services: Services) -> dict[str, int]:
    """A project over two districts of Kisumu, a group in a village of each, a lender with a target."""
    with services.db.transaction() as s:
        ke = add_place(s, "Kenya", PlaceLevel.COUNTRY)
        kisumu = add_place(s, "Kisumu", PlaceLevel.REGION, ke)
        east = add_place(s, "Kisumu East", PlaceLevel.DISTRICT, kisumu)
        west = add_place(s, "Kisumu West", PlaceLevel.DISTRICT, kisumu)
        v_east = add_place(s, "Kajulu", PlaceLevel.VILLAGE, east)
        v_west = add_place(s, "Otonglo", PlaceLevel.VILLAGE, west)
        groups = {}
        for code, village, people in (("KISA", v_east, (A_TREASURER, A_CHAIR, A_MEMBER)),
                                      ("KISB", v_west, (B_TREASURER, B_CHAIR, B_MEMBER))):
            g = create_group(s, code=code, name=f"Group {code}", kind="shg", currency="KES", country="KE",
                             timezone="Africa/Nairobi", region="Kisumu", place_id=village.id, saving_amount=0)
            for phone, role, name in zip(people, ("treasurer", "chair", "member"),
                                         (f"{code} Treasurer", f"{code} Chair", f"{code} Member"), strict=True):
                add_member(s, g, phone=phone, name=name, role=role)
            groups[code] = g
        lender = Organisation(name="Kisumu Microfinance", kind=OrgKind.LENDER, country="KE")
        s.add(lender)
        project = Project(code="P1", name="Women's savings, Kisumu")
        s.add(project)
        s.flush()
        s.add_all([ProjectPlace(project_id=project.id, place_id=east.id),
                   ProjectPlace(project_id=project.id, place_id=west.id),
                   ProjectGroup(project_id=project.id, group_id=groups["KISA"].id),
                   ProjectGroup(project_id=project.id, group_id=groups["KISB"].id),
                   ProjectOrganisation(project_id=project.id, organisation_id=lender.id, role=OrgKind.LENDER),
                   ProjectTarget(project_id=project.id, metric="referrals", target=2)])
        create_staff(s, phone=ADMIN[0], password=ADMIN[1], role="admin", name="Amina Admin")
        for phone in (B_MEMBER, B_CHAIR, A_MEMBER):
            set_pin(s, s.scalars(select(Member).where(Member.phone == phone)).one(), "2580", PEPPER)
        return dict(project=project.id, lender=lender.id, east=east.id, west=west.id, west_village=v_west.id,
                    a=groups["KISA"].id, b=groups["KISB"].id)


def test_a_mobiliser_visits_a_group_the_other_is_flagged_and_a_referral_counts_against_the_target(
        client: FlaskClient, services: Services, world: dict[str, int]) -> None:
    five_weeks_on = dt.datetime.now(dt.UTC) + dt.timedelta(weeks=5)
    with time_machine.travel(five_weeks_on, tick=True):
        assert login(client, *ADMIN).status_code == 303
        # The admin adds a mobiliser and gives her group A; adds the lender's branch in Kisumu West.
        r = post(client, "/console/field", {"phone": MOBILISER, "name": "Akinyi Mobiliser", "role": "mobiliser",
                                            "language": "en"}, page="/console/field")
        assert r.status_code == 303
        with services.db.transaction() as s:
            worker_id = s.scalar(select(FieldWorker.id).where(FieldWorker.phone == MOBILISER))
        post(client, f"/console/field/{worker_id}/groups", {"group_id": str(world["a"])}, page="/console/field")
        r = post(client, f"/console/lenders/{world['lender']}/branches",
                 {"name": "Kisumu Town", "phone": LENDER_PHONE, "address": "Oginga Odinga St",
                  "place_id": str(world["west"])}, page="/console/lenders")
        assert r.status_code == 303

        # She logs a visit by SMS; the same message again is one visit; group B is not hers.
        at_sms(client, MOBILISER, "VISIT kisa met the chair, books fine", msg_id="AT-visit-1")
        at_sms(client, MOBILISER, "VISIT kisa met the chair, books fine", msg_id="AT-visit-1")
        at_sms(client, MOBILISER, "VISIT KISB passing by", msg_id="AT-visit-2")
        replies = texts_to(services, MOBILISER)
        assert replies[0].startswith("VISIT: your visit to Group KISA (KISA) is recorded (V")
        assert replies[1] == "Group KISB is not one of your groups. Nothing was recorded."
        assert len(replies) == 2
        with services.db.transaction() as s:
            visits = list(s.scalars(select(Visit)))
        assert [(v.group_id, v.note, v.channel) for v in visits] == [(world["a"], "met the chair, books fine", "sms")]

        # Group B, unvisited for five weeks (more than VISIT_ALERT_WEEKS=4), is flagged; A is not.
        page = client.get("/console/visits").get_data(as_text=True)
        flagged = re.findall(r'<tr class="flagged" data-group="(\w+)"', page)
        assert flagged == ["KISB"]
        assert "1 group not visited lately" in client.get("/console/").get_data(as_text=True)
        group_b = client.get(f"/console/groups/{world['b']}").get_data(as_text=True)
        assert "Nobody has visited this group in 4 weeks." in group_b
        assert 'id="visit-flag"' not in client.get(f"/console/groups/{world['a']}").get_data(as_text=True)

        # Her treasurer records a saving; she may borrow 3 x 500 and asks for 5,000 over USSD.
        at_sms(client, B_TREASURER, "SAVE 3 500", msg_id="AT-save-1")
        member = Phone(client, B_MEMBER)
        member.dial()
        assert "How much?" in member.choose("Ask for a loan")
        offer = member.send("5000")
        assert offer.startswith("CON That is above your limit of KES")
        assert "Kisumu Microfinance" in offer
        confirm = member.choose("Kisumu Microfinance")
        assert "Ask to be sent to Kisumu Microfinance for KES" in confirm and "Enter your PIN" in confirm
        done = member.send("2580")
        assert done == ("END Request F1 is sent to your chair. You will get an SMS with the lender's contact.")
        chair_sms = texts_to(services, B_CHAIR)[-1]
        assert "asks to be sent to Kisumu Microfinance" in chair_sms and "APPROVE F1" in chair_sms

        # Nothing counts before the chair confirms; she confirms by SMS; the member gets the branch.
        with services.db.transaction() as s:
            assert METRICS["referrals"].count(s, world["project"], None) == 0
        at_sms(client, B_CHAIR, "APPROVE F1", msg_id="AT-approve-1")
        assert texts_to(services, B_CHAIR)[-1].startswith("APPROVE: referral F1 confirmed")
        contact = texts_to(services, B_MEMBER)[-1]
        assert "you are sent to Kisumu Microfinance" in contact
        assert "Branch: Kisumu Town, Oginga Odinga St. Phone: " + LENDER_PHONE in contact

        # The referral counts in the project's metrics against its target of 2, under Kisumu West only.
        with services.db.transaction() as s:
            target = s.scalar(select(ProjectTarget.target).where(ProjectTarget.project_id == world["project"],
                                                                 ProjectTarget.metric == "referrals"))
            assert (METRICS["referrals"].count(s, world["project"], None), target) == (1, 2)
            assert METRICS["referrals"].count(s, world["project"], [world["west"]]) == 1
            assert METRICS["referrals"].count(s, world["project"], [world["east"]]) == 0
            assert METRICS["visits"].count(s, world["project"], None) == 1
            # Outside the group's books: no loan, no posting for her.
            assert ledger.pending_loans(s, s.get_one(Group, world["b"])) == []

        # Staff record what the lender did: approved, then repaid (still counted).
        with services.db.transaction() as s:
            referral_id = s.scalar(select(Referral.id))
        assert post(client, f"/console/referrals/{referral_id}", {"status": "repaid"},
                    page="/console/referrals").status_code == 303
        assert "cannot move to that status" in client.get("/console/referrals").get_data(as_text=True)
        post(client, f"/console/referrals/{referral_id}", {"status": "approved"}, page="/console/referrals")
        post(client, f"/console/referrals/{referral_id}", {"status": "repaid"}, page="/console/referrals")
        with services.db.transaction() as s:
            assert s.get_one(Referral, referral_id).status == ReferralStatus.REPAID
            assert METRICS["referrals"].count(s, world["project"], None) == 1


def test_field_worker_ussd_journey_logs_a_visit_with_a_set_or_typed_note(
        client: FlaskClient, services: Services, world: dict[str, int]) -> None:
    with services.db.transaction() as s:
        from field.workers import add_worker, assign

        worker = add_worker(s, phone=MOBILISER, name="Akinyi", role="trainer")
        assign(s, worker, [world["a"], world["b"]])
    phone = Phone(client, MOBILISER)
    assert phone.dial().startswith("CON 1. Log a visit")
    assert "Which group did you visit?" in phone.choose("Log a visit")
    assert "Note:" in phone.choose("KISB Group KISB")
    assert phone.choose("Gave a training").startswith("END Your visit to KISB is recorded (V1).")
    phone.dial()
    phone.choose("Log a visit")
    phone.choose("KISA Group KISA")
    assert "Type a short note:" in phone.choose("Type a note")
    assert phone.send("").startswith("CON Please type a short note.")
    assert phone.send("chair ill, treasurer kept the box").startswith("END Your visit to KISA")
    with services.db.transaction() as s:
        assert [(v.group_id, v.note, v.channel) for v in s.scalars(select(Visit).order_by(Visit.id))] == [
            (world["b"], "training", "ussd"), (world["a"], "chair ill, treasurer kept the box", "ussd")]


def test_a_promoted_member_logs_visits_from_her_own_menu_and_help_lists_visit(
        client: FlaskClient, services: Services, world: dict[str, int]) -> None:
    with services.db.transaction() as s:
        from field.workers import assign, promote

        worker = promote(s, s.scalars(select(Member).where(Member.phone == A_MEMBER)).one(), "crp")
        assign(s, worker, [world["b"]])
    phone = Phone(client, A_MEMBER)
    phone.dial()
    phone.choose("Log a visit")
    phone.choose("KISB Group KISB")
    assert phone.choose("Attended the meeting").startswith("END Your visit to KISB is recorded")
    at_sms(client, A_MEMBER, "HELP")
    assert "VISIT" in texts_to(services, A_MEMBER)[-1]


def test_chair_confirms_a_referral_on_ussd_and_a_late_decline_changes_nothing(
        client: FlaskClient, services: Services, world: dict[str, int]) -> None:
    with services.db.transaction() as s:
        from field.referrals import add_branch

        add_branch(s, s.get_one(Organisation, world["lender"]), name="Kisumu Town", phone=LENDER_PHONE)
        group = s.get_one(Group, world["b"])
        her, treasurer = (s.scalars(select(Member).where(Member.phone == p)).one() for p in (B_MEMBER, B_TREASURER))
        ledger.record_saving(s, group, her, amount=50000, key="t-save", actor=treasurer)
    member = Phone(client, B_MEMBER)
    member.dial()
    member.choose("Ask for a loan")
    member.send("20000")
    member.choose("Kisumu Microfinance")
    assert member.send("2580").startswith("END Request F1")
    chair = Phone(client, B_CHAIR)
    chair.dial()
    with services.db.transaction() as s:
        set_pin(s, s.scalars(select(Member).where(Member.phone == B_CHAIR)).one(), "1357", PEPPER)
    assert "F1 KISB Member" in chair.choose("Referrals")
    chair.choose(next(line[3:] for line in chair.screen[4:].split("\n") if line.startswith("1. ")))
    assert chair.choose("Confirm").startswith("CON Confirm F1?")
    assert chair.send("1357") == "END Referral F1 confirmed. KISB Member gets an SMS."
    assert "Branch: Kisumu Town. Phone: " + LENDER_PHONE in texts_to(services, B_MEMBER)[-1]
    # Decided once: the SMS answer says so and changes nothing.
    at_sms(client, B_CHAIR, "DECLINE F1", msg_id="AT-decline-late")
    assert texts_to(services, B_CHAIR)[-1] == "Referral F1 is already decided."


def test_a_referral_below_the_limit_is_not_offered_and_a_loan_still_works(
        client: FlaskClient, services: Services, world: dict[str, int]) -> None:
    with services.db.transaction() as s:
        group = s.get_one(Group, world["b"])
        her, treasurer = (s.scalars(select(Member).where(Member.phone == p)).one() for p in (B_MEMBER, B_TREASURER))
        ledger.record_saving(s, group, her, amount=50000, key="t-save", actor=treasurer)
    member = Phone(client, B_MEMBER)
    member.dial()
    member.choose("Ask for a loan")
    assert member.send("100").startswith("CON What is it for?")


def test_no_lender_means_the_old_refusal_above_the_limit(
        client: FlaskClient, services: Services, world: dict[str, int]) -> None:
    with services.db.transaction() as s:
        s.execute(cast("Table", ProjectOrganisation.__table__).delete())
        group = s.get_one(Group, world["b"])
        her, treasurer = (s.scalars(select(Member).where(Member.phone == p)).one() for p in (B_MEMBER, B_TREASURER))
        ledger.record_saving(s, group, her, amount=50000, key="t-save", actor=treasurer)
    member = Phone(client, B_MEMBER)
    member.dial()
    member.choose("Ask for a loan")
    assert member.send("5000").startswith("CON That is above your limit of KES")
    assert "Type a smaller amount" in member.screen and "Kisumu Microfinance" not in member.screen


def test_an_unregistered_condition_is_refused_clearly_and_a_registered_one_applies(
        client: FlaskClient, services: Services, world: dict[str, int]) -> None:
    assert login(client, *ADMIN).status_code == 303
    r = post(client, f"/console/lenders/{world['lender']}/condition", {"condition": "training_completed_typo"},
             page="/console/lenders")
    assert r.status_code == 303
    assert "There is no condition called" in client.get("/console/lenders").get_data(as_text=True)
    with services.db.transaction() as s:
        from field.models import LoanCondition

        assert s.scalar(select(LoanCondition)) is None
        # A condition stored, then no longer registered (a feature switched off): refused, never met.
        s.add(LoanCondition(organisation_id=world["lender"], condition="gone_feature"))
        group = s.get_one(Group, world["b"])
        her, treasurer = (s.scalars(select(Member).where(Member.phone == p)).one() for p in (B_MEMBER, B_TREASURER))
        ledger.record_saving(s, group, her, amount=50000, key="t-save", actor=treasurer)
    member = Phone(client, B_MEMBER)
    member.dial()
    member.choose("Ask for a loan")
    member.send("20000")
    member.choose("Kisumu Microfinance")
    assert member.send("2580") == "END This loan needs a condition Kassa cannot check yet. Ask your coordinator."

    @condition("test_never", "No condition")
    def _never(session: Session, member_id: int) -> bool:
        return False
    try:
        post(client, f"/console/groups/{world['b']}/loan-condition", {"condition": "test_never"},
             page=f"/console/groups/{world['b']}")
        member.dial()
        assert member.choose("Ask for a loan").startswith("END This loan is only for members who meet:")
    finally:
        CONDITIONS.pop("test_never")
    with services.db.transaction() as s:
        assert s.scalar(select(Referral)) is None


def test_a_visit_plan_announces_the_visit_in_each_members_language_at_its_time(
        client: FlaskClient, services: Services, world: dict[str, int]) -> None:
    from field.plans import announce_due

    with services.db.transaction() as s:
        s.scalars(select(Member).where(Member.phone == B_MEMBER)).one().language = "sw"
    assert login(client, *ADMIN).status_code == 303
    visit_on = dt.date.today() + dt.timedelta(days=10)
    r = post(client, "/console/visit-plans", {"team": "Legal aid", "place_id": str(world["west_village"]),
                                              "visit_on": visit_on.isoformat(),
                                              "announce_at": f"{dt.date.today() + dt.timedelta(days=3)}T08:00",
                                              "sender": "Hand in Hand"}, page="/console/visit-plans")
    assert r.status_code == 303
    with services.db.transaction() as s:
        plan = s.scalars(select(VisitPlan)).one()
        b = s.get_one(Broadcast, plan.broadcast_id)
        assert b.status == BroadcastStatus.DRAFT and b.recipients == 3  # group B's three members
        texts = {t.language: t.text for t in b.texts if not t.plain}
        assert "Legal aid" in texts["en"] and "Visit: " in texts["en"] and "Otonglo" in texts["en"]
        assert texts["sw"] != texts["en"]
        assert announce_due(s, dt.datetime.now(dt.UTC)) == []  # not yet
        assert announce_due(s, dt.datetime.now(dt.UTC) + dt.timedelta(days=4)) == [plan.id]
        assert b.status == BroadcastStatus.SENDING  # type: ignore[comparison-overlap]  # announce_due() moved it
    from outreach.broadcast import fan_out_batch

    with services.db.transaction() as s:
        fan_out_batch(s, plan.broadcast_id)
    with services.db.transaction() as s:
        sent = {m.to_phone: m.text for m in s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "broadcast"))}
    assert set(sent) == {B_TREASURER, B_CHAIR, B_MEMBER}
    assert sent[B_MEMBER] == texts["sw"] and sent[B_CHAIR] == texts["en"]


def test_a_plan_for_a_place_without_groups_or_in_the_past_is_refused(
        client: FlaskClient, services: Services, world: dict[str, int]) -> None:
    assert login(client, *ADMIN).status_code == 303
    r = post(client, "/console/visit-plans", {"team": "Legal aid", "place_id": str(world["west_village"]),
                                              "visit_on": "2020-01-01", "announce_at": "2019-12-30T08:00"},
             page="/console/visit-plans")
    assert r.status_code == 303
    assert "That day has already passed." in client.get("/console/visit-plans").get_data(as_text=True)
    with services.db.transaction() as s:
        assert s.scalar(select(VisitPlan)) is None and s.scalar(select(Broadcast)) is None


def test_flexible_group_saves_any_amount_on_any_day_and_warns_outside_its_size(
        client: FlaskClient, services: Services, runner: FlaskCliRunner) -> None:
    with services.db.transaction() as s:
        g = create_group(s, code="TANTH", name="Thôn 9 Tân Thịnh", kind="flexible", currency="VND", country="VN",
                         language="vi", timezone="Asia/Ho_Chi_Minh", meeting_weekday=0)
        add_member(s, g, phone="+84912300001", name="Lan", role="treasurer", language="en")
        add_member(s, g, phone="+84912300002", name="Hoa", role="member", language="en")
        assert g.kind == GroupKind.FLEXIBLE
    # Any amount, any day (not only Monday meetings), twice the same day: receipts and postings.
    at_sms(client, "+84912300001", "SAVE 2 37000", msg_id="AT-flex-1")
    at_sms(client, "+84912300001", "SAVE 2 12500", msg_id="AT-flex-2")
    receipts = texts_to(services, "+84912300002")
    assert len(receipts) == 2 and all("Receipt R" in r for r in receipts)
    with services.db.transaction() as s:
        group = s.scalars(select(Group).where(Group.code == "TANTH")).one()
        hoa = s.scalars(select(Member).where(Member.phone == "+84912300002")).one()
        assert ledger.member_position(s, group, hoa, dt.date.today()).savings == 49500
    result = runner.invoke(args=["members", "add", "TANTH", "+84912300003", "Mai"])
    assert result.exit_code == 0
    assert "This group has 3 members; groups of its kind have 10 to 25." in result.output


def test_flask_field_add_promote_and_list(runner: FlaskCliRunner, services: Services,
                                          world: dict[str, int]) -> None:
    result = runner.invoke(args=["field", "add", MOBILISER, "Akinyi", "--role", "mobiliser", "--groups", "kisa,KISB"])
    assert result.exit_code == 0, result.output
    assert "2 groups" in result.output
    result = runner.invoke(args=["field", "add", A_MEMBER, "--role", "crp", "--member"])
    assert result.exit_code == 0, result.output
    assert "KISA Member" in result.output
    again = runner.invoke(args=["field", "add", MOBILISER, "Other", "--role", "coach"])
    assert again.exit_code != 0 and "already a field worker" in again.output
    listed = runner.invoke(args=["field", "list"]).output
    assert "KISA,KISB" in listed and "crp" in listed
    with services.db.transaction() as s:
        assert s.scalar(select(LenderBranch)) is None


def test_a_coordinator_declines_by_sms_another_groups_chair_cannot_and_the_member_is_told(
        client: FlaskClient, services: Services, world: dict[str, int]) -> None:
    from groups.models import Coordinator, CoordinatorGroup

    coordinator_phone = "+254712999001"
    with services.db.transaction() as s:
        from field.referrals import add_branch

        add_branch(s, s.get_one(Organisation, world["lender"]), name="Kisumu Town", phone=LENDER_PHONE)
        c = Coordinator(phone=coordinator_phone, name="Joseph", language="en")
        s.add(c)
        s.flush()
        s.add(CoordinatorGroup(coordinator_id=c.id, group_id=world["b"]))
        group = s.get_one(Group, world["b"])
        her, treasurer = (s.scalars(select(Member).where(Member.phone == p)).one() for p in (B_MEMBER, B_TREASURER))
        ledger.record_saving(s, group, her, amount=50000, key="t-save", actor=treasurer)
    member = Phone(client, B_MEMBER)
    member.dial()
    member.choose("Ask for a loan")
    member.send("20000")
    member.choose("Kisumu Microfinance")
    assert member.send("2580").startswith("END Request F1")
    assert "Reply APPROVE F1 or DECLINE F1." in texts_to(services, coordinator_phone)[-1]
    at_sms(client, A_CHAIR, "APPROVE F1", msg_id="AT-wrong-chair")
    assert texts_to(services, A_CHAIR)[-1] == "There is no referral F1 for you to decide."
    at_sms(client, coordinator_phone, "DECLINE F1 too much for now", msg_id="AT-coord-decline")
    assert texts_to(services, coordinator_phone)[-1] == "DECLINE: referral F1 declined."
    told = texts_to(services, B_MEMBER)[-1]
    assert "was declined" in told and told.endswith("too much for now")
    with services.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        assert referral.status == ReferralStatus.DECLINED and referral.decided_by_coordinator_id is not None
        assert METRICS["referrals"].count(s, world["project"], None) == 0
    # Loans keep their references: APPROVE L... still goes to the loan commands.
    at_sms(client, coordinator_phone, "APPROVE L99", msg_id="AT-coord-loan")
    assert "L99" in texts_to(services, coordinator_phone)[-1]
