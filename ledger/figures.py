"""A group's headline figures, for many groups at once, from the ledger's cached balances.

The dashboard never sums the ledger when someone opens it: ``reports`` keeps a
row of these figures per group, recomputed from here when a transaction that
touched the group commits (see :func:`mark`). This module only reads.

The figures are exactly :func:`ledger.summaries.group_summary`'s (a test holds
them equal): balances by account code, active memberships, the active loans'
principal and how much of it is more than 30 days late (PAR30 = ``par30`` /
``par_base``), and what this cycle's loans asked for up to today against what
was paid of it (repayment rate = ``paid_on_time`` / ``due_so_far``). The last
four depend on the date, so ``reports`` also refreshes them once a day.
"""
from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from groups.models import Group, Membership, Status
from ledger.books import FIGURES_MARK as MARKED
from ledger.books import mark_figures as mark
from ledger.books import natural
from ledger.loans import LoanRow, Meets, days_past_due, due_by
from ledger.models import Account, AccountCode, Cycle, Loan, LoanStatus, Meeting
from ledger.summaries import PAR_DAYS


@dataclass(slots=True)
class Figures:
    """One group's figures (or a sum of them), minor units of one currency."""

    groups: int = 0  # 1 for an active group
    members: int = 0
    savings: int = 0
    social_fund: int = 0
    cash_box: int = 0
    bank: int = 0
    service_charges: int = 0
    fines: int = 0
    loans_outstanding: int = 0  # principal, the loans-receivable accounts
    active_loans: int = 0
    overdue_loans: int = 0
    par_base: int = 0  # principal outstanding of the active loans
    par30: int = 0  # ... of those more than 30 days past due
    due_so_far: int = 0  # this cycle's loans: what their schedules asked for up to today
    paid_on_time: int = 0  # ... and what was paid of it
    meetings: int = 0  # meetings held (opened by a posting), ever

    @classmethod
    def names(cls) -> list[str]:
        return list(_NAMES)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in _NAMES}

    def values(self) -> list[int]:
        return [getattr(self, name) for name in _NAMES]

    def minus(self, other: Figures) -> Figures:
        return Figures(*map(operator.sub, self.values(), other.values()))

    def plus(self, other: Figures) -> Figures:
        return Figures(*map(operator.add, self.values(), other.values()))

    def is_zero(self) -> bool:
        return not any(self.values())

    @property
    def par30_bp(self) -> int:
        return self.par30 * 10_000 // self.par_base if self.par_base else 0

    @property
    def repayment_rate_bp(self) -> int:
        return self.paid_on_time * 10_000 // self.due_so_far if self.due_so_far else 10_000


_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Figures))


@dataclass(frozen=True)
class GroupKey:
    """What a group is filtered and rolled up by."""

    region: str
    kind: str
    currency: str


def local_today(timezone: str | None, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(timezone or "UTC")).date()


_CODES: dict[AccountCode, str] = {
    AccountCode.CASH: "cash_box", AccountCode.BANK: "bank", AccountCode.SAVINGS: "savings",
    AccountCode.SOCIAL: "social_fund", AccountCode.CHARGES: "service_charges", AccountCode.FINES: "fines",
    AccountCode.LOANS: "loans_outstanding",
}


_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
# Built once (building a statement costs more than running it on a few rows).
_GROUPS = select(Group).where(Group.id.in_(_IDS))
_BALANCES = (select(Account.group_id, Account.code, func.sum(Account.balance))
             .where(Account.group_id.in_(_IDS)).group_by(Account.group_id, Account.code))
_MEMBERS = (select(Membership.group_id, func.count(Membership.id))
            .where(Membership.group_id.in_(_IDS), Membership.status == Status.ACTIVE).group_by(Membership.group_id))
_MEETINGS = (select(Meeting.group_id, func.count(Meeting.id)).where(Meeting.group_id.in_(_IDS))
             .group_by(Meeting.group_id))
# Active loans (PAR) and this cycle's paid-out loans (repayment rate), as group_summary reads them.
_OPEN_CYCLE = (select(Cycle.id).where(Cycle.group_id == Loan.group_id, Cycle.ended_on.is_(None))
               .scalar_subquery())
_LOANS = (select(Loan.group_id, Loan.id, Loan.principal, Loan.charge, Loan.principal_paid, Loan.charge_paid,
                 Loan.term, Loan.unit, Loan.disbursed_on, Loan.status,
                 and_(Loan.cycle_id == _OPEN_CYCLE,
                      Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.CLOSED))).label("this_cycle"))
          .where(Loan.group_id.in_(_IDS), or_(Loan.status == LoanStatus.ACTIVE,
                                              and_(Loan.status == LoanStatus.CLOSED, Loan.cycle_id == _OPEN_CYCLE))))


def _meeting_days(session: Session, group_ids: set[int]) -> dict[int, Meets]:
    """The meeting days of the groups with loans, a few hundred groups a statement."""
    from groups.changes import meeting_days

    ids, out = sorted(group_ids), {}
    for start in range(0, len(ids), 500):
        out.update(meeting_days(session, ids[start:start + 500]))
    return out


def group_figures(session: Session, group_ids: Collection[int], now: dt.datetime,
                  today: Callable[[Group], dt.date] | None = None
                  ) -> dict[int, tuple[GroupKey, dt.date, Figures]]:
    """Each group's key, local date and figures: five statements whatever the number of groups."""
    ids = sorted(set(group_ids))
    if not ids:
        return {}
    bind = {"ids": ids}
    out: dict[int, tuple[GroupKey, dt.date, Figures]] = {}
    for g in session.scalars(_GROUPS, bind):
        day = today(g) if today is not None else local_today(g.timezone, now)
        key = GroupKey(g.region or "", g.kind.value if hasattr(g.kind, "value") else str(g.kind), g.currency)
        out[g.id] = (key, day, Figures(groups=1 if g.status == Status.ACTIVE else 0))
    for gid, code, total in session.execute(_BALANCES, bind):
        setattr(out[gid][2], _CODES[AccountCode(code)], natural(AccountCode(code), int(total or 0)))
    for gid, n in session.execute(_MEMBERS, bind):
        out[gid][2].members = int(n)
    for gid, n in session.execute(_MEETINGS, bind):
        out[gid][2].meetings = int(n)
    loan_rows = session.execute(_LOANS, bind).all()
    meets = _meeting_days(session, {r.group_id for r in loan_rows})  # instalments fall on meeting days
    for r in loan_rows:
        _, day, fig = out[r.group_id]
        loan = LoanRow(r.id, r.principal, r.charge, r.principal_paid, r.charge_paid, r.term, r.unit,
                       r.disbursed_on, LoanStatus(r.status))
        if loan.status == LoanStatus.ACTIVE:
            late = days_past_due(loan, day, meets.get(r.group_id))
            fig.active_loans += 1
            fig.overdue_loans += 1 if late > 0 else 0
            fig.par_base += loan.principal_outstanding
            fig.par30 += loan.principal_outstanding if late > PAR_DAYS else 0
        if r.this_cycle:
            due = due_by(loan, day, meets.get(r.group_id))
            fig.due_so_far += due
            fig.paid_on_time += min(loan.paid, due)
    return out


__all__ = ["Figures", "GroupKey", "MARKED", "group_figures", "local_today", "mark"]
