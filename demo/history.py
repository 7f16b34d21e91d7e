"""Eight weeks of a demo group's past, posted through the ledger's own functions.

So that "My savings", the mini-statement, the loan screens and ``flask ledger
summary`` show real numbers on a fresh ``make run``. For each demo group, at
each of its last eight meetings (all before today, in its timezone):

- every member saves the group's amount (a VSLA: two shares) and pays the
  social fund; someone is fined (late at the third meeting, absent at the sixth);
- at the second meeting a member borrows 5 meetings' savings over 4 weeks and
  repays only the first instalment: that loan is **overdue**;
- at the fourth meeting another member borrows 10 meetings' savings over 8
  weeks and repays every instalment since: **on time**;
- each meeting is closed by the treasurer after it;
- one member asks for help (business advice): a support request with its SMS;
- the cycle's share-out is set for twelve days from now.

Every posting carries a key ``demo:<group>:...``, so running it again posts
nothing twice; a group that already has books is left as it is (its past is
not rewritten when the dates move on).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from groups.models import Group, Member, Membership, Role, Status
from ledger.books import group_today
from ledger.models import Txn

MEETINGS = 8
SHARE_OUT_IN = dt.timedelta(days=12)  # the cycle's share-out: soon, within the next two meetings
OVERDUE_AT, ON_TIME_AT = 2, 4  # meeting numbers (1 = the oldest) at which the two loans are paid out
FINES = {3: "late", 6: "absent"}


def meeting_dates(group: Group, n: int = MEETINGS) -> list[dt.date]:
    """The group's last ``n`` meeting days before today (its timezone), oldest first."""
    today = group_today(group)
    last = today - dt.timedelta(days=(today.weekday() - group.meeting_weekday) % 7 or 7)
    return [last - dt.timedelta(weeks=k) for k in reversed(range(n))]


def seed_history(session: Session, group: Group) -> bool:
    """Post the group's eight weeks; False (nothing done) when it already has books."""
    if session.scalar(select(Txn.id).where(Txn.group_id == group.id).limit(1)) is not None:
        return False
    people = _people(session, group)
    treasurer, chair = people[Role.TREASURER][0], people[Role.CHAIR][0]
    borrowers = people[Role.MEMBER]
    everyone = [m for role in people.values() for m in role]
    per_meeting = group.saving_amount or 2 * group.share_value
    code = group.code
    loans: dict[str, ledger.Loan] = {}
    for number, day in enumerate(meeting_dates(group), start=1):
        for member in everyone:
            key = f"demo:{code}:{day}:{member.id}"
            if group.saving_amount:
                ledger.record_saving(session, group, member, key=f"{key}:save", actor=treasurer, on=day)
            else:
                ledger.record_saving(session, group, member, shares=2, key=f"{key}:save", actor=treasurer, on=day)
            if group.social_fund_amount:
                ledger.record_social(session, group, member, key=f"{key}:social", actor=treasurer, on=day)
        if number in FINES and group.fine_types:
            fined = borrowers[-1]
            ledger.record_fine(session, group, fined, fine_type=FINES[number], key=f"demo:{code}:{day}:fine",
                               actor=treasurer, on=day)
        if number == OVERDUE_AT:
            loans["overdue"] = _lend(session, group, borrowers[-1], 5 * per_meeting, 4, day, chair, treasurer, "overdue")
        if number == ON_TIME_AT:
            loans["on_time"] = _lend(session, group, borrowers[0], 10 * per_meeting, 8, day, chair, treasurer,
                                     "on-time")
        if number == OVERDUE_AT + 1:  # the overdue loan's first instalment, and nothing after
            _repay(session, group, loans["overdue"], day, treasurer)
        if number > ON_TIME_AT:
            _repay(session, group, loans["on_time"], day, treasurer)
        ledger.close_meeting(session, group, actor=treasurer, on=day)
    _ask_for_help(session, group, borrowers[0])
    if group.share_out_on is None:
        group.share_out_on = group_today(group) + SHARE_OUT_IN
    return True


def _people(session: Session, group: Group) -> dict[Role, list[Member]]:
    rows = session.execute(select(Membership.role, Member).join(Member, Member.id == Membership.member_id)
                           .where(Membership.group_id == group.id, Membership.status == Status.ACTIVE)
                           .order_by(Membership.number)).all()
    out: dict[Role, list[Member]] = {role: [] for role in Role}
    for role, member in rows:
        out[Role(role)].append(member)
    return out


def _lend(session: Session, group: Group, member: Member, amount: int, weeks: int, day: dt.date,
          chair: Member, treasurer: Member, name: str) -> ledger.Loan:
    key = f"demo:{group.code}:loan:{name}"
    loan = ledger.request_loan(session, group, member, amount, purpose=ledger.LOAN_PURPOSES[0][0], term=weeks,
                               unit="week", key=key, on=day)
    ledger.decide_loan(session, group, loan.ref, approve=True, actor=chair, key=f"{key}:approve")
    ledger.disburse_loan(session, group, loan.ref, actor=treasurer, key=f"{key}:pay", on=day)
    return loan


def _repay(session: Session, group: Group, loan: ledger.Loan, day: dt.date, treasurer: Member) -> None:
    instalment = loan.total // loan.term
    member = session.get(Member, loan.member_id)
    assert member is not None
    ledger.record_repayment(session, group, member, min(instalment, loan.outstanding),
                            key=f"demo:{group.code}:{day}:repay:{loan.id}", actor=treasurer, on=day)


def _ask_for_help(session: Session, group: Group, member: Member) -> None:
    from support.models import Category
    from support.service import open_request

    open_request(session, group, member, Category.BUSINESS, key=f"demo:{group.code}:help")
