"""Approved loans the cash box never paid out lapse after the group's number of meetings.

The scheduler runs ``jobs.schedule.expire_loans`` every few minutes: for each group with an
approved loan waiting (few groups at any time: one indexed query finds them), loans
approved more than ``group.loan_expiry_meetings`` meetings ago (moved meetings at
their new time, cancelled ones not counted) become ``expired`` and the borrower is
told once (the outbox key ``loan_expired:L17``). Safe to run twice.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.changes import group_changes
from groups.models import Group, Member, Status
from ledger.approvals import expire_loans
from ledger.models import Loan, LoanStatus
from outreach.loan_news import tell_withdrawn

if TYPE_CHECKING:
    pass


def expire_due_loans(session: Session, now: dt.datetime) -> list[str]:
    """Expire what is due in every group; the loan refs expired (flushes, the caller commits)."""
    group_ids = session.scalars(select(Loan.group_id).where(Loan.status == LoanStatus.APPROVED).distinct()).all()
    done = []
    for group in session.scalars(select(Group).where(Group.id.in_(group_ids), Group.status == Status.ACTIVE,
                                                     Group.loan_expiry_meetings > 0)):
        for loan in expire_loans(session, group, now, group_changes(session, group, now)):
            borrower = session.get(Member, loan.member_id)
            if borrower is not None:
                tell_withdrawn(session, group, loan, borrower, expired=True)
            done.append(loan.ref)
    return done
