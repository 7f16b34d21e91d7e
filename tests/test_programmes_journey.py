"""One beneficiary from enrolment to her business check-ins, through the HTTP endpoints only
(SMS and USSD webhooks; the programme staff's part is set up as the console would).

Faith (Upendo Women Group, member 3) is enrolled with her group; her group's rule says a loan
only after training. She is refused a loan; the trainer records two sessions by SMS; she gets
the completion SMS; she confirms her grant over USSD; her loan request now goes to the chair;
her business check-in is asked in two months (the clock moved with time-machine); the report
shows all of it.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypedDict

import pytest
import time_machine
from sqlalchemy import func, select

import ledger
from groups.models import Group, Member
from ledger.books import group_today
from ledger.models import Loan, LoanStatus
from orgs.models import FieldRole, FieldWorker
from programmes import service
from programmes.models import CheckIn, Enrolment, Grant, GrantStatus, Programme, StageReached, Trade, Trend
from programmes.reports import programme_report
from tests.smskit import at_sms, texts_to
from tests.test_ussd import CHAIR, MEMBER, TREASURER, give_pin
from tests.ussd_phone import Phone

if TYPE_CHECKING:
    from flask.testing import FlaskClient
    from sqlalchemy.orm import Session

    from services import Services
    from tests.fixture_types import DemoPeople

TRAINER = "+254712000050"
OUTSIDER = "+254712000004"  # Esther, a member, not the trainer


class Journey(TypedDict):
    programme: int
    first: int
    second: int
    today: dt.date


@pytest.fixture
def setup(services: Services, demo: DemoPeople) -> Journey:
    """The programme as staff set it up: trades, a course of two sessions, the trainer, Faith's savings."""
    with services.db.transaction() as s:
        service.load_trades(s)
        group = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        group.loans_after_training = True
        faith = s.scalars(select(Member).where(Member.phone == MEMBER)).one()
        treasurer = s.scalars(select(Member).where(Member.phone == TREASURER)).one()
        today = group_today(group)
        for weeks in (3, 2, 1):
            ledger.record_saving(s, group, faith, key=f"t-save-{weeks}", actor=treasurer,
                                 on=today - dt.timedelta(weeks=weeks))
        programme = service.create_programme(s, code="HIH", name="Hand in Hand Kisumu", currency="KES",
                                             trades=["tailoring", "poultry", "bakery"])
        course = service.add_course(s, programme, "SIYB1", "Start Your Business", sessions=2)
        trainer = FieldWorker(phone=TRAINER, name="Peter Trainer", role=FieldRole.TRAINER)
        s.add(trainer)
        s.flush()
        first = service.add_session(s, course, today - dt.timedelta(days=2), group_id=group.id,
                                    trainer_id=trainer.id, venue="Church hall")
        second = service.add_session(s, course, today - dt.timedelta(days=1), group_id=group.id,
                                     trainer_id=trainer.id, venue="Church hall")
        service.enrol_group(s, programme, group, today - dt.timedelta(days=7))
        ids: Journey = dict(programme=programme.id, first=first.id, second=second.id, today=today)
    for number, pin in ((MEMBER, "2580"), (CHAIR, "1357")):
        give_pin(services, number, pin)
    return ids


def _faith_enrolment(s: Session, programme_id: int) -> Enrolment:
    faith = s.scalars(select(Member).where(Member.phone == MEMBER)).one()
    return s.scalars(select(Enrolment).where(Enrolment.member_id == faith.id,
                                             Enrolment.programme_id == programme_id)).one()


def _ask_loan(client: FlaskClient) -> str:
    faith = Phone(client, MEMBER)
    faith.dial()
    return faith.choose("Ask for a loan")


@pytest.mark.one_backend
def test_one_beneficiary_from_enrolment_to_business_check_ins(
        client: FlaskClient, services: Services, setup: Journey) -> None:
    pid = setup["programme"]
    # 1. Before training: the loan is refused, clearly, and nothing is asked.
    assert _ask_loan(client) == "END You can ask for a loan once you have completed your business training."

    # 2. Attendance by SMS: only the session's trainer; idempotent; clear errors.
    at_sms(client, OUTSIDER, f"ATT {setup['first']} 3")
    assert texts_to(services, OUTSIDER)[-1] == "Sorry, only a coordinator / the trainer can send ATT."
    at_sms(client, TRAINER, "ATT 999 3")
    assert texts_to(services, TRAINER)[-1] == "There is no training session 999."
    at_sms(client, TRAINER, f"ATT {setup['first']} 3 77")
    assert texts_to(services, TRAINER)[-1] == ("ATT: item 2 (77): no such member in this session's group. "
                                               "Nothing was recorded.")
    at_sms(client, TRAINER, f"ATT {setup['first']} 3 {OUTSIDER}")
    assert texts_to(services, TRAINER)[-1] == "Session {} (Start Your Business): 2 recorded, 0 already recorded.".format(
        setup["first"])
    at_sms(client, TRAINER, f"ATT {setup['first']} 3")
    assert texts_to(services, TRAINER)[-1].endswith(": 0 recorded, 1 already recorded.")
    assert not any("completed the training" in t for t in texts_to(services, MEMBER))
    at_sms(client, TRAINER, f"att {setup['second']} 3")
    assert texts_to(services, TRAINER)[-1].endswith("Completed the training: Faith Njeri.")
    assert texts_to(services, MEMBER)[-1] == ("Well done, Faith Njeri: you have completed the training of "
                                              "Hand in Hand Kisumu.")
    at_sms(client, TRAINER, f"ATT {setup['second']} 3")  # again: no second SMS
    assert sum("completed the training" in t for t in texts_to(services, MEMBER)) == 1

    # 3. A grant (given by the programme); she confirms it at the start of her next USSD session.
    with services.db.transaction() as s:
        trade = s.scalars(select(Trade).where(Trade.code == "tailoring")).one()
        service.give_grant(s, _faith_enrolment(s, pid), trade, "Sewing machine", 2500000, setup["today"])
    faith = Phone(client, MEMBER)
    assert faith.dial() == "CON Did you receive Sewing machine (KES 25,000)?\n1. Yes\n2. No\n0. Back"
    assert faith.send("1").startswith("CON Thank you: we have noted that you received it.\n")
    with services.db.transaction() as s:
        assert s.scalar(select(Grant.status)) == GrantStatus.CONFIRMED
    assert "Did you receive" not in Phone(client, MEMBER).dial()  # asked no more

    # 4. After training the loan request goes through (a business purpose, her PIN).
    faith = Phone(client, MEMBER)
    faith.dial()
    assert faith.choose("Ask for a loan").startswith("CON You can borrow up to")
    faith.send("1000")
    faith.choose("Sewing and crafts")
    faith.choose("3 months")
    assert "sent to your chair" in faith.send("2580")
    with services.db.transaction() as s:
        loan = s.scalars(select(Loan)).one()
        assert (loan.status, loan.purpose) == (LoanStatus.REQUESTED, "crafts")
        trade = s.scalars(select(Trade).where(Trade.code == "tailoring")).one()
        service.start_business(s, s.get_one(Programme, pid), trade, setup["today"], enrolment=_faith_enrolment(s, pid))

    # 5. Two monthly check-ins: asked at the start of a session, once a month.
    first_month = dt.datetime.combine(setup["today"].replace(day=1) + dt.timedelta(days=40),
                                      dt.time(9), tzinfo=dt.UTC).replace(day=5)
    with time_machine.travel(first_month, tick=True):
        faith = Phone(client, MEMBER)
        assert faith.dial().startswith("CON How is your business doing this month?\n1. Better\n2. The same")
        assert faith.choose("Better").startswith("CON About how much does it earn in a month?\n1. Up to KES 5,000")
        assert faith.choose("KES 5,000 to KES 15,000") == ("END Thank you. Your answer helps the programme "
                                                           "support your business.")
        assert "How is your business" not in Phone(client, MEMBER).dial()  # once a month
    second_month = first_month + dt.timedelta(days=31)
    with time_machine.travel(second_month, tick=True):
        faith = Phone(client, MEMBER)
        assert faith.dial().startswith("CON How is your business doing this month?")
        faith.choose("The same")
        faith.choose("Up to KES 5,000")
    with services.db.transaction() as s:
        answers = [(c.trend, c.income_band) for c in s.scalars(select(CheckIn).order_by(CheckIn.month))]
        assert answers == [(Trend.BETTER, 1), (Trend.SAME, 0)]
        stages = dict(s.execute(select(StageReached.stage, StageReached.source)
                                .where(StageReached.enrolment_id == _faith_enrolment(s, pid).id)).all())
        assert set(stages) == {"mobilised", "trained", "financed", "growing"}

        # 6. All of it in the report (the whole group: 4 enrolled, 2 started training, Faith the rest).
        report = programme_report(s, pid, by="region", today=second_month.date())
        assert report.total == dict(enrolled=4, trained=2, completed=1, equipped=1, confirmed=1, started=1,
                                    active_6m=0, active_12m=0)
        assert report.rows == [("Kisumu", report.total)]
        assert report.stages == {"mobilised": 4, "trained": 1, "financed": 1, "growing": 1}
        assert report.trades[0]["trade"] == "Tailoring and sewing" and report.trades[0]["confirmed"] == 1
        assert s.scalar(select(func.count()).select_from(CheckIn)) == 2
