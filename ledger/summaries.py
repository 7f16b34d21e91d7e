"""A group's books at a glance: its summary (PAR30, repayment rate), its trial balance and its audit.

Reads only, for treasurers, coordinators and the console; a member's own
position and statement are in :mod:`ledger.queries`, the same figures for
many groups at once in :mod:`ledger.figures`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groups.models import Group, Membership, Status
from ledger.books import group_today, natural, open_cycle
from ledger.loans import Meets, active_loans, days_past_due, due_by
from ledger.models import Account, AccountCode, Line, Loan, LoanStatus, Txn, TxnKind
from ledger.queries import meets_of

PAR_DAYS = 30


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

    meets = meets_of(session, group) if active or cycle_loans else None
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


__all__ = ["PAR_DAYS", "Summary", "TrialLine", "audit", "group_summary", "portfolio_at_risk", "repayment_rate",
           "trial_balance"]
