"""Loans from the group's own fund: request -> decide -> disburse -> repay -> closed.

Rules (each a group setting):

- Loans are for business only: ``purpose`` is one of :data:`LOAN_PURPOSES`.
- Limit: ``loan_limit_multiplier`` x her savings, less what she already owes or
  has asked for; at most ``max_active_loans`` open loans per member.
- Maker-checker: only the chair decides, never on her own loan; the treasurer
  pays out, never her own loan and never one she approved.
- Pay-out comes from the cash box and never more than it holds (the loan row
  is locked, so two pay-outs of one loan pay once).
- Service charge: flat, ``service_charge_bp`` per month on the principal for
  the whole term (4 weeks count as a month, as groups count it), rounded half
  up to the minor unit.
- Schedule: equal instalments of principal + charge every week or month from
  the pay-out date, each on the group's first meeting on or after it (moved and
  cancelled meetings counted); the last instalment absorbs the rounding.
- A repayment goes to the service charge first, then principal (or principal
  first: ``repayment_order``). Never more than is owed.

Ledger legs: pay-out debits her loans-receivable account and credits the cash
box; a repayment debits the cash box and credits loans receivable (principal)
and service-charge income (charge). The charge is income when paid (cash basis).
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from groups.models import Group, Member, Role
from i18n import N_
from ledger import errors
from ledger.approvals import check_decider
from ledger.books import (
    Leg,
    Posting,
    Receipt,
    account,
    atomic,
    balance,
    check_positive,
    current_cycle,
    find_key,
    group_today,
    idempotent,
    meeting_for_posting,
    membership,
    post,
    receipt_of,
    require_role,
)
from ledger.models import OPEN_LOAN_STATUSES, AccountCode, Loan, LoanAmounts, LoanStatus, TxnKind
from ledger.money import fraction_of

#: Business categories a loan may be for (never consumption): (code, label msgid).
LOAN_PURPOSES: list[tuple[str, str]] = [
    ("farm", N_("Farming")),
    ("livestock", N_("Livestock")),
    ("trade", N_("Shop or trading")),
    ("food", N_("Food making and selling")),
    ("crafts", N_("Sewing and crafts")),
    ("services", N_("Services (salon, repairs)")),
    ("transport", N_("Transport")),
]

#: Loan status -> label msgid (for "Loan L17 is {status}").
LOAN_STATUS_LABELS: dict[str, str] = {
    LoanStatus.REQUESTED.value: N_("waiting for the chair"),
    LoanStatus.APPROVED.value: N_("approved, not yet paid out"),
    LoanStatus.DECLINED.value: N_("declined"),
    LoanStatus.ACTIVE.value: N_("paid out"),
    LoanStatus.CLOSED.value: N_("fully repaid"),
    LoanStatus.CANCELLED.value: N_("cancelled"),
    LoanStatus.EXPIRED.value: N_("expired: not paid out in time"),
}

UNITS = {"week": 52, "month": 12}  # unit -> longest term
WEEKS_PER_MONTH = 4


class Instalment(NamedTuple):
    """One repayment due: the date and the amount (minor units)."""

    on: dt.date
    amount: int


class Due(NamedTuple):
    """What she owes next and when: ``(amount, on)``, as docs/contracts.md orders it."""

    amount: int
    on: dt.date


@dataclass(frozen=True)
class Quote:
    """What a loan would cost: flat service charge, total to repay and its schedule."""

    principal: int
    charge: int
    total: int
    term: int
    unit: str
    charge_bp: int
    schedule: list[Instalment] = field(default_factory=list)

    @property
    def instalment(self) -> int:
        """The regular instalment (the last may differ by the rounding)."""
        return self.schedule[0].amount if self.schedule else 0


# -- the arithmetic ------------------------------------------------------------------

def service_charge(principal: int, bp_per_month: int, term: int, unit: str) -> int:
    """Flat charge for the whole term: principal x bp/10000 per month, 4 weeks = 1 month."""
    months_den = 1 if unit == "month" else WEEKS_PER_MONTH
    return fraction_of(principal, bp_per_month * term, 10_000 * months_den)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


Meets = Callable[[dt.date], dt.date]  # a date -> the group's first meeting day on or after it


def schedule(total: int, term: int, unit: str, start: dt.date, meets: Meets | None = None) -> list[Instalment]:
    """``term`` equal instalments after ``start``; the last absorbs the rounding.

    With ``meets`` (``groups.changes.meeting_days``) each instalment falls on the group's first
    meeting on or after its week or month (a cancelled meeting passes it to the next one).
    """
    each = total // term
    dates = [start + dt.timedelta(weeks=k) if unit == "week" else add_months(start, k)
             for k in range(1, term + 1)]
    if meets is not None:
        dates = [meets(max(d, start + dt.timedelta(days=1))) for d in dates]
    amounts = [each] * (term - 1) + [total - each * (term - 1)]
    return [Instalment(d, a) for d, a in zip(dates, amounts, strict=True)]


def _check_term(term: int, unit: str) -> None:
    if unit not in UNITS or not isinstance(term, int) or not 1 <= term <= UNITS[unit]:
        raise errors.bad_term()


def quote_loan(group: Group, amount: int, term: int, unit: str,
               start: dt.date | None = None, meets: Meets | None = None) -> Quote:
    """The charge, total and schedule of a loan of ``amount`` paid out on ``start`` (today)."""
    check_positive(amount)
    _check_term(term, unit)
    charge = service_charge(amount, group.service_charge_bp, term, unit)
    total = amount + charge
    return Quote(amount, charge, total, term, unit, group.service_charge_bp,
                 schedule(total, term, unit, start or group_today(group), meets))


class LoanTerms(Protocol):
    """What the schedule arithmetic reads of a loan (a ``Loan`` row or a lighter ``LoanRow``)."""

    @property
    def status(self) -> LoanStatus: ...

    @property
    def term(self) -> int: ...

    @property
    def unit(self) -> str: ...

    @property
    def disbursed_on(self) -> dt.date | None: ...

    @property
    def total(self) -> int: ...

    @property
    def paid(self) -> int: ...


@dataclass(frozen=True)
class LoanRow(LoanAmounts):
    """A paid-out loan as the position read loads it: plain columns, no ORM entity."""

    id: int
    principal: int
    charge: int
    principal_paid: int
    charge_paid: int
    term: int
    unit: str
    disbursed_on: dt.date | None
    status: LoanStatus = LoanStatus.ACTIVE


def loan_schedule(loan: LoanTerms, meets: Meets | None = None) -> list[Instalment]:
    """The schedule of a paid-out loan (empty before pay-out); on meeting days with ``meets``."""
    if loan.disbursed_on is None:
        return []
    return schedule(loan.total, loan.term, loan.unit, loan.disbursed_on, meets)


def next_instalment(loan: LoanTerms, meets: Meets | None = None) -> Due | None:
    """The first instalment not yet fully paid, with what remains of it."""
    paid, due = loan.paid, 0
    for inst in loan_schedule(loan, meets):
        due += inst.amount
        if due > paid:
            return Due(due - paid, inst.on)
    return None


def days_past_due(loan: LoanTerms, today: dt.date, meets: Meets | None = None) -> int:
    """Days since the oldest instalment still unpaid fell due (0 when none is late)."""
    nxt = next_instalment(loan, meets)
    if nxt is None or loan.status != LoanStatus.ACTIVE or nxt.on >= today:
        return 0
    return (today - nxt.on).days


def due_by(loan: LoanTerms, today: dt.date, meets: Meets | None = None) -> int:
    """What the schedule asked for up to and including ``today``."""
    return sum(inst.amount for inst in loan_schedule(loan, meets) if inst.on <= today)


# -- lookups ---------------------------------------------------------------------------

def parse_ref(ref: str, prefix: str) -> int | None:
    """``L17``, ``l17`` or ``17`` -> 17; anything else None."""
    text = ref.strip().upper()
    if text.startswith(prefix):
        text = text[len(prefix):]
    return int(text) if text.isdigit() and len(text) < 10 else None


def get_loan(session: Session, group: Group, loan_ref: str, *, lock: bool = False) -> Loan:
    """The group's loan ``loan_ref``; refuses a loan of another group as unknown."""
    loan_id = parse_ref(loan_ref, "L")
    stmt = select(Loan).where(Loan.id == loan_id, Loan.group_id == group.id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    loan = session.scalar(stmt) if loan_id is not None else None
    if loan is None:
        raise errors.unknown_loan(loan_ref.strip())
    return loan


def open_loans(session: Session, group: Group, member: Member) -> list[Loan]:
    """Her loans requested, approved or being repaid, oldest first."""
    return list(session.scalars(select(Loan).where(
        Loan.group_id == group.id, Loan.member_id == member.id,
        Loan.status.in_(OPEN_LOAN_STATUSES)).order_by(Loan.id)))


def pending_loans(session: Session, group: Group) -> list[Loan]:
    """Requests waiting for the chair's decision, oldest first."""
    return list(session.scalars(select(Loan).where(
        Loan.group_id == group.id, Loan.status == LoanStatus.REQUESTED).order_by(Loan.id)))


def approved_loans(session: Session, group: Group) -> list[Loan]:
    """Approved loans waiting for the treasurer to pay them out, oldest first."""
    return list(session.scalars(select(Loan).where(
        Loan.group_id == group.id, Loan.status == LoanStatus.APPROVED).order_by(Loan.id)))


def loan_limit(session: Session, group: Group, member: Member) -> int:
    """The most she may ask for now: multiplier x savings less what she owes or asked for.

    Zero when she already has ``max_active_loans`` open loans.
    """
    loans = open_loans(session, group, member)
    if len(loans) >= group.max_active_loans:
        return 0
    owed = sum(loan.principal_outstanding for loan in loans)
    savings = balance(session, group, AccountCode.SAVINGS, member)
    return max(0, group.loan_limit_multiplier * savings - owed)


# -- the life of a loan ------------------------------------------------------------------

def request_loan(session: Session, group: Group, member: Member, amount: int, *, purpose: str,
                 term: int, unit: str, key: str, on: dt.date | None = None) -> Loan:
    """A member asks for a loan; idempotent on ``key`` (the same key returns the same loan).

    ``on``: the day she asked (default today; never a day still to come), for books kept late.
    """
    return _once(session, group, Loan.request_key, key,
                 lambda: _request(session, group, member, amount, purpose, term, unit, key, on))


def _once(session: Session, group: Group, column: Any, key: str, act: Callable[[], Loan]) -> Loan:
    """The loan already carrying ``key`` in ``column``, else ``act()``; a refusal is checked
    against the key again (a concurrent request with the same key may have just committed)."""
    done = session.scalar(select(Loan).where(column == key))
    if done is not None:
        return _same_group(done, group)
    try:
        return atomic(session, act)
    except errors.LedgerError:
        done = session.scalar(select(Loan).where(column == key))
        if done is None:
            raise
        return _same_group(done, group)


def _request(session: Session, group: Group, member: Member, amount: int, purpose: str, term: int,
             unit: str, key: str, on: dt.date | None = None) -> Loan:
    membership(session, group, member)
    if on is not None and on > group_today(group):
        raise errors.future_date(on)
    check_positive(amount)
    if purpose not in {code for code, _ in LOAN_PURPOSES}:
        raise errors.bad_purpose(", ".join(code for code, _ in LOAN_PURPOSES))
    _check_term(term, unit)
    if len(open_loans(session, group, member)) >= group.max_active_loans:
        raise errors.active_loan()
    limit = loan_limit(session, group, member)
    if amount > limit:
        raise errors.over_limit(amount, limit)
    loan = Loan(group_id=group.id, member_id=member.id, cycle_id=current_cycle(session, group).id,
                request_key=key, principal=amount, charge=service_charge(amount, group.service_charge_bp, term, unit),
                charge_bp=group.service_charge_bp, purpose=purpose, term=term, unit=unit,
                status=LoanStatus.REQUESTED, requested_on=on or group_today(group))
    try:
        with session.begin_nested():
            session.add(loan)
    except IntegrityError:
        done = session.scalar(select(Loan).where(Loan.request_key == key))
        if done is None:
            raise
        return _same_group(done, group)
    return loan


def _same_group(loan: Loan, group: Group) -> Loan:
    if loan.group_id != group.id:
        raise errors.key_reused()
    return loan


def decide_loan(session: Session, group: Group, loan_ref: str, *, approve: bool, actor: Member | None,
                reason: str | None = None, key: str, coordinator_id: int | None = None) -> Loan:
    """The chair approves or declines a request (never her own; see ``ledger.approvals`` for who
    decides the chair's own loan or in a group without a chair); idempotent on ``key``."""
    return _once(session, group, Loan.decision_key, key,
                 lambda: _decide(session, group, loan_ref, approve, actor, reason, key, coordinator_id))


def _decide(session: Session, group: Group, loan_ref: str, approve: bool, actor: Member | None,
            reason: str | None, key: str, coordinator_id: int | None) -> Loan:
    loan = get_loan(session, group, loan_ref, lock=True)
    check_decider(session, group, loan, actor, coordinator_id)
    if loan.status != LoanStatus.REQUESTED:
        raise errors.loan_state(loan.ref, LOAN_STATUS_LABELS[loan.status.value])
    loan.status = LoanStatus.APPROVED if approve else LoanStatus.DECLINED
    loan.decided_by_id = actor.id if actor is not None else None
    loan.decided_by_coordinator_id = coordinator_id
    loan.decided_at = dt.datetime.now(dt.UTC)
    loan.decision_key = key
    loan.decline_reason = None if approve else (reason or "")[:160] or None
    session.flush()
    return loan


def withdraw_loan(session: Session, group: Group, loan_ref: str, *, actor: Member | None,
                  coordinator_id: int | None = None, reason: str | None = None) -> Loan:
    """Cancel an approved loan not yet paid out (or decline a request still waiting)."""
    loan = get_loan(session, group, loan_ref, lock=True)
    check_decider(session, group, loan, actor, coordinator_id)
    if loan.status not in (LoanStatus.APPROVED, LoanStatus.REQUESTED):
        raise errors.loan_state(loan.ref, LOAN_STATUS_LABELS[loan.status.value])
    loan.status = LoanStatus.CANCELLED if loan.status == LoanStatus.APPROVED else LoanStatus.DECLINED
    loan.decline_reason = (reason or "")[:160] or None
    if loan.status == LoanStatus.DECLINED:
        loan.decided_by_id = actor.id if actor is not None else None
        loan.decided_by_coordinator_id = coordinator_id
        loan.decided_at = dt.datetime.now(dt.UTC)
    session.flush()
    return loan


@idempotent
def disburse_loan(session: Session, group: Group, loan_ref: str, *, actor: Member, key: str,
                  on: dt.date | None = None) -> Receipt:
    """The treasurer pays out an approved loan from the cash box.

    Debits her loans receivable, credits the cash box. Never her own loan, never
    one she approved, never more than the box holds. The receipt's balance is
    what she now owes (principal and service charge). ``on``: the meeting it was
    paid out at (default today; an open meeting, never a day still to come):
    the schedule runs from that day.
    """
    require_role(session, group, actor, Role.TREASURER)
    loan = get_loan(session, group, loan_ref, lock=True)
    if loan.member_id == actor.id:
        raise errors.own_loan()
    if loan.decided_by_id == actor.id:
        raise errors.same_approver()
    if loan.status != LoanStatus.APPROVED:
        raise errors.loan_state(loan.ref, LOAN_STATUS_LABELS[loan.status.value])
    borrower = session.get(Member, loan.member_id)
    assert borrower is not None
    membership(session, group, borrower)
    today = on or group_today(group)
    posting = Posting(group=group, key=key, kind=TxnKind.DISBURSEMENT, amount=loan.principal, on=today,
                      cycle=current_cycle(session, group), meeting=meeting_for_posting(session, group, today),
                      member=borrower, actor=actor, loan=loan)
    legs = [Leg(account(session, group, AccountCode.LOANS, borrower), loan.principal),
            Leg(account(session, group, AccountCode.CASH), -loan.principal)]

    def paid_out() -> None:
        loan.status, loan.disbursed_on, loan.disbursed_by_id = LoanStatus.ACTIVE, today, actor.id

    return post(session, posting, legs, lambda: loan.outstanding, before_flush=paid_out)


@dataclass(frozen=True)
class Split:
    """How a repayment divides between service charge and principal."""

    charge: int
    principal: int


def split_repayment(loan: Loan, amount: int, order: str) -> Split:
    """Service charge first, then principal (``order='principal_first'`` the other way round)."""
    charge_due = loan.charge - loan.charge_paid
    if order == "principal_first":
        principal = min(amount, loan.principal_outstanding)
        return Split(amount - principal, principal)
    charge = min(amount, charge_due)
    return Split(charge, amount - charge)


@idempotent
def record_repayment(session: Session, group: Group, member: Member, amount: int, *, key: str,
                     actor: Member, on: dt.date | None = None) -> Receipt:
    """Record a repayment on her oldest loan being repaid.

    Debits the cash box; credits loans receivable (principal) and service-charge
    income (charge). Refuses more than she owes. The loan closes when all is paid.
    The receipt's balance is what she still owes on that loan.
    """
    require_role(session, group, actor, Role.TREASURER)
    membership(session, group, member)
    check_positive(amount)
    day = on or group_today(group)
    meeting = meeting_for_posting(session, group, day)
    loan = _oldest_active(session, group, member)
    if amount > loan.outstanding:
        raise errors.over_repayment(amount, loan.outstanding)
    split = split_repayment(loan, amount, group.repayment_order)
    legs = [Leg(account(session, group, AccountCode.CASH), amount)]
    if split.principal:
        legs.append(Leg(account(session, group, AccountCode.LOANS, member), -split.principal))
    if split.charge:
        legs.append(Leg(account(session, group, AccountCode.CHARGES), -split.charge))
    posting = Posting(group=group, key=key, kind=TxnKind.REPAYMENT, amount=amount, on=day,
                      cycle=current_cycle(session, group), meeting=meeting, member=member, actor=actor,
                      loan=loan)
    return post(session, posting, legs, lambda: loan.outstanding,
                before_flush=lambda: apply_split(loan, split, +1))


def settle_from_savings(session: Session, group: Group, loan: Loan, *, key: str, actor: Member,
                        on: dt.date) -> Receipt:
    """Settle all she still owes on ``loan`` from her own savings (at a share-out or when she leaves).

    A repayment posted without cash: debit her savings, credit loans receivable
    (principal) and service-charge income (charge); the loan closes. Refused
    (nothing written) when her savings hold less than she owes. Idempotent on ``key``.
    """
    done = find_key(session, group, key)
    if done is not None:
        return receipt_of(done, replayed=True)
    member = session.get(Member, loan.member_id)
    assert member is not None
    amount = loan.outstanding
    split = Split(loan.charge - loan.charge_paid, loan.principal_outstanding)
    legs = [Leg(account(session, group, AccountCode.SAVINGS, member), amount)]
    if split.principal:
        legs.append(Leg(account(session, group, AccountCode.LOANS, member), -split.principal))
    if split.charge:
        legs.append(Leg(account(session, group, AccountCode.CHARGES), -split.charge))
    posting = Posting(group=group, key=key, kind=TxnKind.REPAYMENT, amount=amount, on=on,
                      cycle=current_cycle(session, group), meeting=meeting_for_posting(session, group, on),
                      member=member, actor=actor, loan=loan, memo="from savings")
    return post(session, posting, legs, lambda: loan.outstanding,
                before_flush=lambda: apply_split(loan, split, +1))


def _oldest_active(session: Session, group: Group, member: Member) -> Loan:
    loan = session.scalar(select(Loan).where(
        Loan.group_id == group.id, Loan.member_id == member.id, Loan.status == LoanStatus.ACTIVE)
        .order_by(Loan.id).limit(1).with_for_update().execution_options(populate_existing=True))
    if loan is None:
        raise errors.no_loan()
    return loan


def apply_split(loan: Loan, split: Split, sign: int) -> None:
    """Move the loan's paid totals by ``sign`` x ``split``; close or reopen it accordingly."""
    loan.principal_paid += sign * split.principal
    loan.charge_paid += sign * split.charge
    loan.status = LoanStatus.CLOSED if loan.outstanding == 0 else LoanStatus.ACTIVE


def active_loans(session: Session, group: Group) -> list[Loan]:
    """Every loan of the group being repaid."""
    return list(session.scalars(select(Loan).where(
        Loan.group_id == group.id, Loan.status == LoanStatus.ACTIVE).order_by(Loan.id)))


def count_open_loans(session: Session, group: Group) -> int:
    return int(session.scalar(select(func.count(Loan.id)).where(
        Loan.group_id == group.id, Loan.status.in_(OPEN_LOAN_STATUSES))) or 0)
