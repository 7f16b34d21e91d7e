"""What members, treasurers and coordinators read: positions, statements, summaries.

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

from groups.models import Group, GroupKind, Member, Membership, Status
from groups.schedule import meeting_on_or_after, rhythm_of
from i18n import N_
from ledger.books import group_today, natural, open_cycle
from ledger.loans import (
    Due,
    LoanRow,
    Meets,
    active_loans,
    days_past_due,
    due_by,
    loan_schedule,
    next_instalment,
)
from ledger.models import Account, AccountCode, Cycle, Line, Loan, LoanStatus, Txn, TxnKind

PAR_DAYS = 30

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
    meets = _meets(session, group) if loans else None
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


@dataclass(frozen=True)
class Summary:
    """A group's books at a glance. Ratios are integer basis points (10000 = 100%)."""

    currency: str
    cycle: int
    members: int
    cash_box: int
    bank: int
    savings: int
    social_fund: int
    service_charges: int
    fines: int
    loans_outstanding: int  # principal
    active_loans: int
    overdue_loans: int
    par30_bp: int
    repayment_rate_bp: int


def _ratio_bp(part: int, whole: int, empty: int) -> int:
    return part * 10_000 // whole if whole else empty


def _meets(session: Session, group: Group) -> Meets | None:
    """The group's meeting days (instalments fall on them)."""
    from groups.changes import meeting_days

    return meeting_days(session, [group.id]).get(group.id)


def portfolio_at_risk(loans: list[Loan], today: dt.date, days: int = PAR_DAYS, meets: Meets | None = None) -> int:
    """PAR: principal outstanding of loans more than ``days`` past due / all principal outstanding (bp)."""
    out = sum(loan.principal_outstanding for loan in loans)
    risk = sum(loan.principal_outstanding for loan in loans if days_past_due(loan, today, meets) > days)
    return _ratio_bp(risk, out, 0)


def repayment_rate(loans: list[Loan], today: dt.date, meets: Meets | None = None) -> int:
    """Paid on time / due so far, over this cycle's loans (bp; 10000 when nothing is due yet)."""
    due = sum(due_by(loan, today, meets) for loan in loans)
    paid = sum(min(loan.paid, due_by(loan, today, meets)) for loan in loans)
    return _ratio_bp(paid, due, 10_000)


def group_summary(session: Session, group: Group, today: dt.date | None = None) -> Summary:
    """Cash box, savings, social fund, income, loans out, PAR30 and repayment rate."""
    today = today or group_today(group)
    cycle = open_cycle(session, group)
    active = active_loans(session, group)
    cycle_loans = list(session.scalars(select(Loan).where(
        Loan.cycle_id == (cycle.id if cycle else None),
        Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.CLOSED)))))
    totals = dict(session.execute(select(Account.code, func.sum(Account.balance))
                                  .where(Account.group_id == group.id).group_by(Account.code)).all())
    members = session.scalar(select(func.count(Membership.id)).where(
        Membership.group_id == group.id, Membership.status == Status.ACTIVE)) or 0

    def nat(code: AccountCode) -> int:
        return natural(code, int(totals.get(code, 0) or 0))

    meets = _meets(session, group) if active or cycle_loans else None
    return Summary(
        currency=group.currency, cycle=cycle.number if cycle else 1, members=int(members), cash_box=nat(AccountCode.CASH),
        bank=nat(AccountCode.BANK), savings=nat(AccountCode.SAVINGS), social_fund=nat(AccountCode.SOCIAL),
        service_charges=nat(AccountCode.CHARGES), fines=nat(AccountCode.FINES),
        loans_outstanding=nat(AccountCode.LOANS), active_loans=len(active),
        overdue_loans=sum(1 for loan in active if days_past_due(loan, today, meets) > 0),
        par30_bp=portfolio_at_risk(active, today, meets=meets),
        repayment_rate_bp=repayment_rate(cycle_loans, today, meets))


class TrialLine(NamedTuple):
    """An account (``cash``, ``savings:12`` ...) and its signed balance (debit +)."""

    account: str
    balance: int


def trial_balance(session: Session, group: Group) -> list[TrialLine]:
    """Every account of the group with its signed balance; the balances sum to zero."""
    accounts = session.scalars(select(Account).where(Account.group_id == group.id).order_by(Account.id))
    return [TrialLine(a.label, a.balance) for a in accounts]


def audit(session: Session, group: Group) -> list[str]:
    """Problems in the group's books (empty when sound): each transaction balances,
    each cached balance equals the sum of its legs, each loan's paid totals match."""
    problems = [f"R{tid} sums to {total}" for tid, total in session.execute(
        select(Line.txn_id, func.sum(Line.amount)).join(Txn, Txn.id == Line.txn_id)
        .where(Txn.group_id == group.id).group_by(Line.txn_id).having(func.sum(Line.amount) != 0))]
    sums = dict(session.execute(select(Line.account_id, func.sum(Line.amount)).join(
        Account, Account.id == Line.account_id).where(Account.group_id == group.id)
        .group_by(Line.account_id)).all())
    for acct in session.scalars(select(Account).where(Account.group_id == group.id)):
        if acct.balance != int(sums.get(acct.id, 0)):
            problems.append(f"{acct.label} caches {acct.balance}, legs sum to {sums.get(acct.id, 0)}")
    problems += _loan_problems(session, group)
    return problems


def _loan_problems(session: Session, group: Group) -> list[str]:
    """Each loan's cached paid totals equal its repayment legs (net of reversed repayments),
    and each member's loans-receivable balance equals the principal her loans still owe."""
    problems: list[str] = []
    codes = dict(session.execute(select(Account.id, Account.code).where(Account.group_id == group.id)).all())
    owed: dict[int, int] = {}
    for loan in session.scalars(select(Loan).where(Loan.group_id == group.id, Loan.disbursed_on.is_not(None))):
        txns = {t.id: t for t in session.scalars(select(Txn).where(Txn.loan_id == loan.id))}
        principal = charge = 0
        for t in txns.values():
            kind = txns[t.reverses_id].kind if t.reverses_id in txns else t.kind
            if kind != TxnKind.REPAYMENT:
                continue
            principal -= sum(x.amount for x in t.lines if codes[x.account_id] == AccountCode.LOANS)
            charge -= sum(x.amount for x in t.lines if codes[x.account_id] == AccountCode.CHARGES)
        if (principal, charge) != (loan.principal_paid, loan.charge_paid):
            problems.append(f"{loan.ref} caches paid {loan.principal_paid}+{loan.charge_paid}, "
                            f"legs say {principal}+{charge}")
        if loan.status == LoanStatus.ACTIVE:
            owed[loan.member_id] = owed.get(loan.member_id, 0) + loan.principal_outstanding
    for acct in session.scalars(select(Account).where(Account.group_id == group.id,
                                                      Account.code == AccountCode.LOANS)):
        if acct.balance != owed.get(acct.member_key, 0):
            problems.append(f"{acct.label} is {acct.balance}, her loans owe {owed.get(acct.member_key, 0)}")
    return problems


__all__ = ["KIND_LABELS", "Position", "Entry", "Summary", "TrialLine", "member_position", "mini_statement",
           "group_summary", "trial_balance", "audit", "portfolio_at_risk", "repayment_rate",
           "next_meeting_date", "loan_schedule"]
