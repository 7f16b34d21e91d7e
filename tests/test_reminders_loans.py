"""Loans in reminders: the instalment in the meeting reminder, the day-before and overdue notices.

Loans are made through the ledger's own API; only the pay-out date is moved
to a fixed day so the calendar of the test is known.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select

import ledger
from groups.models import Group, Member
from ledger.models import Loan
from messaging.models import OutboxMessage
from outreach.loans import run_loan_notices
from outreach.planner import run_planner
from tests.ledger_fixtures import key, make_books
from tests.outreach_helpers import utc

if TYPE_CHECKING:
    from ledger.loans import Instalment
    from services import Services


def _borrower(services: Services, *, amount: int, term: int, unit: str, paid_out: dt.date) -> tuple[int, int]:
    """An SHG meeting on Mondays in Nairobi with one active loan; (loan id, borrower id)."""
    with services.db.transaction() as s:
        books = make_books(s, "LOAN1", "shg", n_members=2)
        saver, borrower = books.members
        for who in (saver, borrower):
            ledger.record_saving(s, books.group, who, key=key(), actor=books.treasurer)
        loan = ledger.request_loan(s, books.group, borrower, amount, purpose="trade", term=term, unit=unit,
                                   key=key())
        ledger.decide_loan(s, books.group, loan.ref, approve=True, actor=books.chair, key=key())
        ledger.disburse_loan(s, books.group, loan.ref, actor=books.treasurer, key=key())
        loan.disbursed_on = paid_out
        return loan.id, borrower.id


def _texts(services: Services, member_id: int | None = None) -> dict[str | None, str]:
    with services.db.transaction() as s:
        q = select(OutboxMessage.dedupe_key, OutboxMessage.text).where(OutboxMessage.kind == "reminder")
        if member_id:
            q = q.where(OutboxMessage.member_id == member_id)
        return dict(s.execute(q.order_by(OutboxMessage.id)).all())


def test_meeting_reminder_tells_the_borrower_her_instalment(services: Services) -> None:
    loan_id, borrower = _borrower(services, amount=40000, term=4, unit="week", paid_out=dt.date(2026, 11, 2))
    with services.db.transaction() as s:
        loan = s.get_one(Loan, loan_id)
        first = ledger.loans.loan_schedule(loan)[0]
    assert first.on == dt.date(2026, 11, 9)
    run_planner(services, utc(2026, 11, 5))  # plans Monday 9th; reminder Sunday 8th 18:00 EAT
    run_planner(services, utc(2026, 11, 8, 15))
    mine = _texts(services, borrower)
    assert len(mine) == 1
    (text,) = mine.values()
    assert "loan instalment KES 102" in text  # 40,800 / 4 = 10,200 cents = KES 102
    others = [t for k, t in _texts(services).items() if not (k or "").endswith(f":{borrower}")]
    assert others and all("loan" not in t for t in others)


def _meets(services: Services, loan_id: int) -> list[Instalment]:
    from groups.changes import meeting_days

    with services.db.transaction() as s:
        loan = s.get_one(Loan, loan_id)
        return ledger.loans.loan_schedule(loan, meeting_days(s, [loan.group_id])[loan.group_id])


def test_an_instalment_falls_on_a_meeting_day_then_one_overdue_notice(services: Services) -> None:
    loan_id, borrower = _borrower(services, amount=30000, term=2, unit="month", paid_out=dt.date(2026, 10, 15))
    with services.db.transaction() as s:
        first = ledger.loans.loan_schedule(s.get_one(Loan, loan_id))[0]
    assert first.on == dt.date(2026, 11, 15)  # a month after the pay-out is a Sunday: not a meeting day
    assert _meets(services, loan_id)[0].on == dt.date(2026, 11, 16)  # so it falls on Monday's meeting
    run_loan_notices(services, utc(2026, 11, 13, 12))  # schedules the daily checks
    run_loan_notices(services, utc(2026, 11, 14, 15, 5))  # Saturday 18:05 in Nairobi
    run_loan_notices(services, utc(2026, 11, 15, 15, 5))  # the evening before the meeting: its reminder says it
    assert _texts(services) == {}
    run_loan_notices(services, utc(2026, 11, 16, 15, 5))  # the meeting day itself: nothing
    assert _texts(services) == {}
    run_loan_notices(services, utc(2026, 11, 17, 15, 5))  # the day after, unpaid
    run_loan_notices(services, utc(2026, 11, 18, 15, 5))  # still unpaid: no second notice for it
    keys = list(_texts(services, borrower))
    assert keys == [f"rem:overdue:{loan_id}:2026-11-16:{borrower}"]


def test_a_paid_instalment_gets_no_overdue_notice(services: Services) -> None:
    loan_id, borrower = _borrower(services, amount=30000, term=2, unit="month", paid_out=dt.date(2026, 10, 15))
    with services.db.transaction() as s:
        loan = s.get_one(Loan, loan_id)
        group = s.get_one(Group, loan.group_id)
        treasurer = s.scalars(select(Member).where(Member.name == "Member 1")).one()  # make_books: treasurer first
        ledger.record_repayment(s, group, s.get_one(Member, borrower), ledger.loans.loan_schedule(loan)[0].amount,
                                key=key(), actor=treasurer)
    run_loan_notices(services, utc(2026, 11, 13, 12))
    run_loan_notices(services, utc(2026, 11, 17, 15, 5))  # the day after the meeting it fell on
    assert _texts(services) == {}
