"""Who decides a loan, and loans that must not stay stuck.

Maker-checker, so that nobody approves her own loan:

- the chair decides, never on her own loan;
- when the borrower is the chair, or the group has no active chair, another
  officer (a secretary, else a treasurer) decides, or a coordinator of the group;
- a coordinator may always decide (the caller checks she follows the group).

An approved loan the cash box cannot pay does not wait for ever: whoever may
decide it can withdraw it (``ledger.loans.withdraw_loan``: status ``cancelled``), and it
lapses by itself after ``group.loan_expiry_meetings`` meetings have taken place
since its approval (``expire_loans``: status ``expired``; 0 turns that off).
Functions flush, never commit.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.models import Group, Member, Membership, Role, Status
from groups.schedule import MOVE_WINDOW, Changes, effective_start, meeting_on_or_after, rhythm_of
from ledger import errors
from ledger.models import Loan, LoanStatus

OFFICER_ORDER = (Role.SECRETARY, Role.TREASURER)


@dataclass(frozen=True)
class Deciders:
    """Who is asked to decide a loan: ``tier`` is ``chair``, ``officer``, ``coordinator`` or ``none``;
    ``members`` the officers to tell (empty for the coordinator tier)."""

    tier: str
    members: list[Member]


def _officers(session: Session, group: Group) -> list[tuple[Role, Member]]:
    return [(role, member) for role, member in session.execute(
        select(Membership.role, Member).join(Member, Member.id == Membership.member_id).where(
            Membership.group_id == group.id, Membership.status == Status.ACTIVE, Member.status == Status.ACTIVE,
            Membership.role != Role.MEMBER).order_by(Membership.number)).all()]


def deciders(session: Session, group: Group, borrower_id: int, *, has_coordinator: bool) -> Deciders:
    """Who decides a loan of ``borrower_id``: her chair; else a secretary; else the coordinator
    (``has_coordinator``: the group has one); else a treasurer; else nobody."""
    officers = [(role, m) for role, m in _officers(session, group) if m.id != borrower_id]
    chairs = [m for role, m in officers if role == Role.CHAIR]
    if chairs:
        return Deciders("chair", chairs)
    secretaries = [m for role, m in officers if role == Role.SECRETARY]
    if secretaries:
        return Deciders("officer", secretaries)
    if has_coordinator:
        return Deciders("coordinator", [])
    treasurers = [m for role, m in officers if role == Role.TREASURER]
    return Deciders("officer", treasurers) if treasurers else Deciders("none", [])


def check_decider(session: Session, group: Group, loan: Loan, actor: Member | None,
                  coordinator_id: int | None) -> None:
    """Refuse (``not_allowed`` / ``own_loan``) anyone who may not decide ``loan``."""
    if coordinator_id is not None:
        return
    if actor is None:
        raise errors.not_allowed()
    roles = {role: [m for r, m in _officers(session, group) if r == role] for role in Role}
    mine = {role for role, members in roles.items() if any(m.id == actor.id for m in members)}
    if not mine:
        raise errors.not_allowed()
    if loan.member_id == actor.id:
        raise errors.own_loan()
    if Role.CHAIR in mine:
        return
    other_chairs = [m for m in roles[Role.CHAIR] if m.id != loan.member_id]
    if mine & set(OFFICER_ORDER) and not other_chairs:
        return
    raise errors.not_allowed()


def meetings_since(group: Group, since: dt.datetime, now: dt.datetime, changes: Changes | None = None) -> int:
    """How many of the group's meetings (moved ones at their new time, cancelled ones not)
    started after ``since`` and by ``now``."""
    rhythm = rhythm_of(group)
    day = meeting_on_or_after(rhythm, since.astimezone(rhythm.tz).date() - MOVE_WINDOW)
    last = now.astimezone(rhythm.tz).date() + MOVE_WINDOW
    count = 0
    while day <= last:
        start = effective_start(rhythm, day, changes)
        if start is not None and since < start <= now:
            count += 1
        day = meeting_on_or_after(rhythm, day + dt.timedelta(days=1))
    return count


def expire_loans(session: Session, group: Group, now: dt.datetime, changes: Changes | None = None) -> list[Loan]:
    """Approved loans not paid out within ``group.loan_expiry_meetings`` meetings become ``expired``."""
    if group.loan_expiry_meetings <= 0:
        return []
    expired = []
    for loan in session.scalars(select(Loan).where(Loan.group_id == group.id, Loan.status == LoanStatus.APPROVED)
                                .order_by(Loan.id).with_for_update()):
        decided = loan.decided_at or now
        if decided.tzinfo is None:  # SQLite hands back naive UTC
            decided = decided.replace(tzinfo=dt.UTC)
        if meetings_since(group, decided, now, changes) >= group.loan_expiry_meetings:
            loan.status = LoanStatus.EXPIRED
            expired.append(loan)
    session.flush()
    return expired
