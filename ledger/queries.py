"""What a member reads: her position and her mini-statement (a group's summary, trial balance
and audit are in :mod:`ledger.summaries`).

Reads only; a member's position is a handful of indexed lookups (cached
account balances, the cycle's tallies, her active loans), fast enough for a
USSD hop at ten years of weekly history (see bench/ledger.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from groups.models import Group, GroupKind, Member
from groups.schedule import meeting_on_or_after, rhythm_of
from i18n import N_
from ledger.books import group_today, natural
from ledger.loans import (
    Due,
    LoanRow,
    Meets,
    days_past_due,
    due_by,
    loan_schedule,
    next_instalment,
)
from ledger.models import Account, AccountCode, Cycle, Loan, LoanStatus, Txn, TxnKind

#: Statement line kinds (``Entry.kind``) -> label msgid.
KIND_LABELS: dict[str, str] = {
    TxnKind.SAVING.value: N_("Savings"),
    TxnKind.SOCIAL.value: N_("Social fund"),
    TxnKind.FINE.value: N_("Fine"),
    TxnKind.REPAYMENT.value: N_("Loan repayment"),
    TxnKind.DISBURSEMENT.value: N_("Loan paid out"),
    # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
    TxnKind.SOCIAL_PAYOUT.value: N_("Social fund help"),
    TxnKind.TRANSFER.value: N_("Transfer"),
    TxnKind.SHARE_OUT.value: N_("Share-out"),
    # TRANSLATORS: a posting that cancels an earlier wrong one (the treasurer's UNDO).
    TxnKind.REVERSAL.value: N_("Correction"),
    # TRANSLATORS: her savings paid out to her when she left the group.
    TxnKind.WITHDRAWAL.value: N_("Paid out on leaving"),
}


@dataclass(frozen=True)
class Position:
    """A member's standing in her group (minor units; ``shares`` for VSLA groups).

    ``loan_outstanding`` is all she still owes (principal and service charge);
    ``due_next_meeting`` is what she should bring to the next meeting: the
    saving rule, the social fund and whatever of her loan falls due by then.
    """

    member_id: int
    currency: str
    savings: int
    shares: int
    social_paid: int
    fines_paid: int
    loan_outstanding: int
    loan_principal: int
    loan_ref: str | None
    next_instalment: Due | None
    days_past_due: int
    overdue: bool
    next_meeting: dt.date
    due_next_meeting: int
    vsla: bool = False  # a VSLA group counts shares


def next_meeting_date(group: Group, today: dt.date) -> dt.date:
    """The group's next meeting day on or after ``today`` (weekly or fortnightly)."""
    return meeting_on_or_after(rhythm_of(group), today)


@dataclass(frozen=True)
class _Standing:
    """Her savings, this cycle's social fund and fines, and her loans being repaid."""

    share_value: int
    savings: int
    social: int
    fines: int
    loans: list[LoanRow]


def _tally(kind: TxnKind) -> Any:
    return (select(func.coalesce(func.sum(Txn.amount), 0))
            .where(Txn.cycle_id == Cycle.id, Txn.member_id == bindparam("m"), Txn.kind == kind,
                   Txn.reversed.is_(False)).scalar_subquery())


# One statement, built once (building a statement costs more than running it): the open
# cycle (a group has at most one) with her cached savings balance and her social-fund and
# fines tallies in that cycle, joined to each of her loans being repaid (or to none).
_LOAN_COLUMNS = (Loan.id, Loan.principal, Loan.charge, Loan.principal_paid, Loan.charge_paid, Loan.term,
                 Loan.unit, Loan.disbursed_on)
_STANDING = (select(Cycle.share_value,
                    select(Account.balance).where(Account.group_id == bindparam("g"),
                                                  Account.code == AccountCode.SAVINGS,
                                                  Account.member_key == bindparam("m")).scalar_subquery(),
                    _tally(TxnKind.SOCIAL), _tally(TxnKind.FINE), *_LOAN_COLUMNS)
             .outerjoin(Loan, and_(Loan.group_id == Cycle.group_id, Loan.member_id == bindparam("m"),
                                   Loan.status == LoanStatus.ACTIVE))
             .where(Cycle.group_id == bindparam("g"), Cycle.ended_on.is_(None))
             .order_by(Loan.id))


def _standing(session: Session, group: Group, member: Member) -> _Standing:
    """Her standing in one round trip (all zero before the group's first posting)."""
    rows = session.execute(_STANDING, {"g": group.id, "m": member.id}).all()
    if not rows:
        return _Standing(group.share_value, 0, 0, 0, [])
    first = rows[0]
    loans = [LoanRow(*row[4:]) for row in rows if row[4] is not None]
    return _Standing(int(first[0] or group.share_value), natural(AccountCode.SAVINGS, int(first[1] or 0)),
                     int(first[2] or 0), int(first[3] or 0), loans)


def saving_rule_amount(group: Group, share_value: int) -> int:
    """What the rule asks her to save at a meeting (VSLA: the minimum shares)."""
    if group.kind == GroupKind.VSLA:
        return group.shares_min * share_value
    return group.saving_amount


def meets_of(session: Session, group: Group) -> Meets | None:
    """The group's meeting days (instalments fall on them)."""
    from groups.changes import meeting_days

    return meeting_days(session, [group.id]).get(group.id)


def member_position(session: Session, group: Group, member: Member,
                    today: dt.date | None = None) -> Position:
    """Her savings (and shares), social fund and fines paid this cycle, and her loan.

    One statement; writes nothing.
    """
    today = today or group_today(group)
    standing = _standing(session, group, member)
    loans = standing.loans
    first = loans[0] if loans else None
    meet = next_meeting_date(group, today)
    meets = meets_of(session, group) if loans else None
    loan_due = sum(max(0, due_by(loan, meet, meets) - loan.paid) for loan in loans)
    dpd = max((days_past_due(loan, today, meets) for loan in loans), default=0)
    value = standing.share_value
    return Position(
        member_id=member.id, currency=group.currency, savings=standing.savings,
        shares=standing.savings // value if group.kind == GroupKind.VSLA and value else 0,
        social_paid=standing.social, fines_paid=standing.fines,
        loan_outstanding=sum(loan.outstanding for loan in loans),
        loan_principal=sum(loan.principal_outstanding for loan in loans),
        loan_ref=first.ref if first else None, next_instalment=next_instalment(first, meets) if first else None,
        days_past_due=dpd, overdue=dpd > 0, next_meeting=meet,
        due_next_meeting=saving_rule_amount(group, value) + group.social_fund_amount + loan_due,
        vsla=group.kind == GroupKind.VSLA)


class Entry(NamedTuple):
    """One line of a mini-statement (``kind`` is a TxnKind value; ``reversed``: later corrected)."""

    on: dt.date
    kind: str
    amount: int
    ref: str
    reversed: bool
    reverses: str | None = None
    memo: str | None = None  # a fine's type code


_STATEMENT = (select(Txn).where(Txn.group_id == bindparam("g"), Txn.member_id == bindparam("m"))
              .order_by(Txn.id.desc()).limit(bindparam("n")))


def mini_statement(session: Session, group: Group, member: Member, limit: int = 10) -> list[Entry]:
    """Her last ``limit`` postings, newest first, corrections included and marked."""
    txns = session.scalars(_STATEMENT, {"g": group.id, "m": member.id, "n": limit})
    return [Entry(t.on, t.kind.value, t.amount, t.ref, t.reversed,
                  f"R{t.reverses_id}" if t.reverses_id else None,
                  t.memo if t.kind == TxnKind.FINE else None) for t in txns]


__all__ = ["KIND_LABELS", "Position", "Entry", "member_position", "mini_statement", "next_meeting_date",
           "loan_schedule"]
