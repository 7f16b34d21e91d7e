"""Loan instalments in reminders: what a borrower owes at a meeting, from the ledger.

The ledger (``ledger/``) owns loans; this module only asks it. Until the
ledger's loans are on this branch there are no borrowers to find.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class LoanDue:
    """A member's instalment owed at or before a meeting (minor units)."""

    group_id: int
    member_id: int
    phone: str
    language: str
    plain: bool
    amount: int
    due_on: dt.date


def instalments_for_meetings(session: Session, meetings: dict[int, dt.date]) -> list[LoanDue]:
    """Borrowers of the groups in ``meetings`` (group id -> meeting date) with an instalment due by then."""
    return []
