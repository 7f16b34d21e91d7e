"""Corrections: a posting is never edited or deleted, it is reversed.

A reversal is a new transaction with the mirror of every leg of the original
(debits become credits), pointing at it (``reverses_id``, unique: a posting is
reversed at most once); the original is marked ``reversed``. Refused: a
reversal of a reversal, a share-out, a posting of an earlier (shared-out)
cycle, a loan pay-out that already has repayments, and anything that would
leave an account below zero (e.g. taking back savings that are lent out).
Reversals are allowed after the meeting closed: that is what closing means.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.models import Group, Member, Role
from ledger import errors
from ledger.books import (
    Leg,
    Posting,
    Receipt,
    current_cycle,
    group_today,
    idempotent,
    natural,
    paid_in_cycle,
    post,
    require_role,
)
from ledger.loans import Split, apply_split, parse_ref
from ledger.models import Account, AccountCode, Cycle, Loan, LoanStatus, Meeting, Txn, TxnKind

NOT_REVERSIBLE = (TxnKind.REVERSAL, TxnKind.SHARE_OUT)


def get_receipt(session: Session, group: Group, receipt_ref: str, *, lock: bool = False) -> Txn:
    """The group's posting ``receipt_ref`` (``R1042`` or ``1042``), else ``unknown_receipt``."""
    txn_id = parse_ref(receipt_ref, "R")
    stmt = select(Txn).where(Txn.id == txn_id, Txn.group_id == group.id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    txn = session.scalar(stmt) if txn_id is not None else None
    if txn is None:
        raise errors.unknown_receipt(receipt_ref.strip())
    return txn


@idempotent
def reverse(session: Session, group: Group, receipt_ref: str, *, reason: str, key: str,
            actor: Member) -> Receipt:
    """Reverse posting ``receipt_ref`` with mirror legs; the treasurer does it, with a reason.

    The receipt's ``balance`` is the member's new balance of the original's kind.
    """
    require_role(session, group, actor, Role.TREASURER)
    original = get_receipt(session, group, receipt_ref, lock=True)
    cycle = current_cycle(session, group)
    if original.kind in NOT_REVERSIBLE or original.cycle_id != cycle.id:
        raise errors.cannot_reverse(original.ref)
    if original.reversed:
        raise errors.already_reversed(original.ref)
    member = session.get(Member, original.member_id) if original.member_id else None
    loan = _locked_loan(session, original)
    legs = [Leg(_account(session, line.account_id), -line.amount) for line in original.lines]
    posting = Posting(group=group, key=key, kind=TxnKind.REVERSAL, amount=original.amount,
                      on=group_today(group), cycle=cycle,
                      meeting=session.get(Meeting, original.meeting_id) if original.meeting_id else None,
                      member=member, actor=actor, loan=loan, memo=(reason or "")[:160], reverses=original)
    return post(session, posting, legs, _balance_after(session, group, cycle, original, member, loan),
                before_flush=_undo_loan(session, original, loan))


def _account(session: Session, account_id: int) -> Account:
    acct = session.get(Account, account_id)
    assert acct is not None
    return acct


def _locked_loan(session: Session, original: Txn) -> Loan | None:
    if original.loan_id is None:
        return None
    loan = session.scalar(select(Loan).where(Loan.id == original.loan_id).with_for_update()
                          .execution_options(populate_existing=True))
    assert loan is not None
    if original.kind == TxnKind.DISBURSEMENT and loan.paid > 0:
        raise errors.loan_has_repayments(loan.ref)
    return loan


def repayment_split(session: Session, original: Txn) -> Split:
    """How a posted repayment was split, read back from its legs."""
    principal = charge = 0
    for line in original.lines:
        code = _account(session, line.account_id).code
        if code == AccountCode.LOANS:
            principal -= line.amount
        elif code == AccountCode.CHARGES:
            charge -= line.amount
    return Split(charge, principal)


def _undo_loan(session: Session, original: Txn, loan: Loan | None) -> Callable[[], None] | None:
    if loan is None:
        return None
    if original.kind == TxnKind.DISBURSEMENT:
        def undo() -> None:
            loan.status, loan.disbursed_on, loan.disbursed_by_id = LoanStatus.APPROVED, None, None
        return undo
    split = repayment_split(session, original)
    return lambda: apply_split(loan, split, -1)


def _balance_after(session: Session, group: Group, cycle: Cycle, original: Txn, member: Member | None,
                   loan: Loan | None) -> Callable[[], int]:
    """The member's new balance of the original's kind, computed after the legs are in."""
    def after() -> int:
        if loan is not None:
            return loan.outstanding
        if original.kind == TxnKind.SAVING and member is not None:
            acct = session.scalar(select(Account.balance).where(
                Account.group_id == group.id, Account.code == AccountCode.SAVINGS,
                Account.member_key == member.id))
            return natural(AccountCode.SAVINGS, acct or 0)
        if original.kind in (TxnKind.SOCIAL, TxnKind.FINE) and member is not None:
            return paid_in_cycle(session, cycle, member, original.kind)
        acct = session.scalar(select(Account.balance).where(
            Account.group_id == group.id, Account.code == AccountCode.SOCIAL, Account.member_key == 0))
        return natural(AccountCode.SOCIAL, acct or 0)
    return after
