"""Share-out at the end of a cycle: every member gets her savings back plus her part
of what the group earned (service charges and fines), then a new cycle starts.

- Profit is split in proportion to each member's savings (``share_out_by =
  savings``; for VSLA savings are shares x share value, so this is "by shares")
  or to her share-weeks (``share_weeks``: each saving weighted by the weeks it
  was in the box, counting the week it came in).
- Largest-remainder rounding: the parts add up to the profit to the minor unit.
- The social fund is not shared out; it carries over to the next cycle.
- Loans: with ``group.shareout_loans = "repay_first"`` every loan must be
  repaid (or declined) first; with ``"deduct"`` what a borrower still owes
  (principal and service charge) is settled from her savings in the same
  share-out (a repayment posted from her savings, so the loan closes and its
  service charge counts as profit) and so deducted from her payout. A request
  still waiting or an approved loan not yet paid out always blocks it.
- The cash box must hold the whole pay-out.
- A carried-over float (``group.shareout_keep``): each member keeps up to that
  much of her payout (VSLA: whole shares) in the box, posted as her first
  saving of the new cycle; the rest is paid in cash.

One transaction records it: for each member, a credit of her profit to her
savings (income closed to equity) and a debit of her whole payout; the income
accounts are debited and the cash box credited. Her payout can be read back
from the legs, so a replay answers the first result.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groups.models import Group, GroupKind, Member, Role
from ledger import errors
from ledger.books import (
    Leg,
    Posting,
    account,
    atomic,
    current_cycle,
    find_key,
    get_or_create,
    group_today,
    meeting_for_posting,
    natural,
    post,
    require_role,
)
from ledger.loans import active_loans, count_open_loans, settle_from_savings
from ledger.models import Account, AccountCode, Cycle, Loan, LoanStatus, Txn, TxnKind
from ledger.money import allocate


@dataclass(frozen=True)
class Payout:
    """One member's share-out: her savings back and her part of the profit."""

    member_id: int
    savings: int
    profit: int
    shares: int = 0
    deducted: int = 0  # what she still owed on loans, settled from her savings
    kept: int = 0  # of her total, left in the box as her first saving of the new cycle

    @property
    def total(self) -> int:
        """What the share-out gives her: savings and profit, less what she owed."""
        return self.savings + self.profit - self.deducted

    @property
    def paid(self) -> int:
        """What she takes home in cash."""
        return self.total - self.kept


@dataclass(frozen=True)
class ShareOut:
    """The result of a share-out (``cycle`` is the number of the cycle it ended)."""

    ref: str
    cycle: int
    on: dt.date
    payouts: list[Payout] = field(default_factory=list)
    social_fund_carried: int = 0
    replayed: bool = False

    @property
    def total(self) -> int:
        return sum(p.total for p in self.payouts)

    @property
    def profit(self) -> int:
        return sum(p.profit for p in self.payouts)

    @property
    def kept(self) -> int:
        return sum(p.kept for p in self.payouts)


def _weights(session: Session, group: Group, cycle: Cycle, savers: list[Account], on: dt.date) -> list[int]:
    """Each saver's weight: her savings, or her share-weeks (savings x weeks held)."""
    if group.share_out_by != "share_weeks":
        return [natural(AccountCode.SAVINGS, a.balance) for a in savers]
    weights = []
    for acct in savers:
        txns = session.execute(select(Txn.on, Txn.amount).where(
            Txn.cycle_id == cycle.id, Txn.member_id == acct.member_id, Txn.kind == TxnKind.SAVING,
            Txn.reversed.is_(False))).all()
        weights.append(sum(amount * ((on - day).days // 7 + 1) for day, amount in txns))
    return weights


def plan_share_out(session: Session, group: Group, on: dt.date | None = None) -> list[Payout]:
    """What each member would get if the group shared out now (nothing is written).

    With the ``deduct`` loan rule, loans still being repaid count as settled
    from the borrowers' savings: their service charge still owed is profit,
    and what each borrower owes is her ``deducted``.
    """
    on = on or group_today(group)
    cycle = current_cycle(session, group)
    savers = [a for a in session.scalars(select(Account).where(
        Account.group_id == group.id, Account.code == AccountCode.SAVINGS).order_by(Account.member_key))
        if a.balance != 0]
    owed = owed_by_member(session, group) if group.shareout_loans == "deduct" else {}
    profit = _profit(session, group) + sum(charge for _, charge in owed.values())
    weights = _weights(session, group, cycle, savers, on)
    parts = allocate(profit, weights) if sum(weights) else [0] * len(savers)
    value = cycle.share_value or group.share_value
    return [Payout(a.member_key, natural(AccountCode.SAVINGS, a.balance), part,
                   natural(AccountCode.SAVINGS, a.balance) // value if group.kind == GroupKind.VSLA and value else 0,
                   sum(owed.get(a.member_key, (0, 0))))
            for a, part in zip(savers, parts, strict=True)]


def owed_by_member(session: Session, group: Group) -> dict[int, tuple[int, int]]:
    """member id -> (principal, service charge) still owed on her loans being repaid."""
    owed: dict[int, tuple[int, int]] = {}
    for loan in active_loans(session, group):
        principal, charge = owed.get(loan.member_id, (0, 0))
        owed[loan.member_id] = (principal + loan.principal_outstanding, charge + loan.charge - loan.charge_paid)
    return owed


def blocking_loans(session: Session, group: Group) -> int:
    """Loans that stop a share-out now: requests and approved loans, and under
    ``repay_first`` every loan still being repaid."""
    if group.shareout_loans == "deduct":
        return int(session.scalar(select(func.count(Loan.id)).where(
            Loan.group_id == group.id, Loan.status.in_((LoanStatus.REQUESTED, LoanStatus.APPROVED)))) or 0)
    return count_open_loans(session, group)


def _profit(session: Session, group: Group) -> int:
    return sum(natural(code, session.scalar(select(Account.balance).where(
        Account.group_id == group.id, Account.code == code, Account.member_key == 0)) or 0)
        for code in (AccountCode.CHARGES, AccountCode.FINES))


def share_out(session: Session, group: Group, *, key: str, actor: Member) -> ShareOut:
    """Pay every member her savings and her part of the profit; start a new cycle.

    The treasurer or the chair does it; idempotent on ``key``.
    """
    done = find_key(session, group, key)
    if done is not None:
        return _read_back(session, group, done, replayed=True)
    try:
        return atomic(session, lambda: _share_out(session, group, key, actor))
    except errors.LedgerError:
        done = find_key(session, group, key)  # a concurrent share-out with this key committed
        if done is None:
            raise
        return _read_back(session, group, done, replayed=True)


def check_share_out(session: Session, group: Group, on: dt.date | None = None) -> list[Payout]:
    """The payouts a share-out would make now, or the reason it cannot happen (nothing is written)."""
    if blocking_loans(session, group):
        raise errors.loans_outstanding()
    payouts = plan_share_out(session, group, on)
    if not payouts or sum(p.total for p in payouts) == 0:
        raise errors.nothing_to_share()
    planned = {p.member_id for p in payouts}
    for member_id, (principal, charge) in owed_by_member(session, group).items():
        if group.shareout_loans == "deduct" and member_id not in planned:
            borrower = session.get(Member, member_id)
            raise errors.owes_more_than_savings(borrower.name if borrower else "?", principal + charge, 0)
    for p in payouts:
        if p.deducted > p.savings:
            borrower = session.get(Member, p.member_id)
            raise errors.owes_more_than_savings(borrower.name if borrower else "?", p.deducted, p.savings)
    return payouts


def _share_out(session: Session, group: Group, key: str, actor: Member) -> ShareOut:
    require_role(session, group, actor, Role.TREASURER, Role.CHAIR)
    today = group_today(group)
    payouts = check_share_out(session, group, today)
    if group.shareout_loans == "deduct":
        for loan in active_loans(session, group):
            settle_from_savings(session, group, loan, key=f"{key}:settle:{loan.ref}", actor=actor, on=today)
    cycle = current_cycle(session, group)
    posting = Posting(group=group, key=key, kind=TxnKind.SHARE_OUT, amount=sum(p.total for p in payouts),
                      on=today, cycle=cycle, meeting=meeting_for_posting(session, group, today), actor=actor)
    receipt = post(session, posting, _legs(session, group, payouts), lambda: 0,
                   before_flush=lambda: _end_cycle(cycle, today))
    new = get_or_create(session, Cycle, {"group_id": group.id, "number": cycle.number + 1},
                        {"started_on": today, "share_value": group.share_value})
    if group.shareout_keep > 0 and not receipt.replayed:
        _keep(session, group, new, payouts, key, actor, today)
    txn = session.get(Txn, int(receipt.ref[1:]))
    assert txn is not None
    return _read_back(session, group, txn, replayed=receipt.replayed)


def _keep(session: Session, group: Group, cycle: Cycle, payouts: list[Payout], key: str, actor: Member,
          on: dt.date) -> None:
    """The float: each member's first saving of the new cycle, kept back from her payout."""
    value = cycle.share_value if group.kind == GroupKind.VSLA else 0
    cash = account(session, group, AccountCode.CASH)
    for p in payouts:
        kept = min(group.shareout_keep, p.total)
        if value:
            kept -= kept % value
        if kept <= 0:
            continue
        member = session.get(Member, p.member_id)
        savings = account(session, group, AccountCode.SAVINGS, member)
        posting = Posting(group=group, key=f"{key}:keep:{p.member_id}", kind=TxnKind.SAVING, amount=kept, on=on,
                          cycle=cycle, meeting=meeting_for_posting(session, group, on), member=member,
                          actor=actor, shares=kept // value if value else None, memo="kept at share-out")
        post(session, posting, [Leg(cash, kept), Leg(savings, -kept)], functools.partial(_natural_savings, savings))


def _natural_savings(acct: Account) -> int:
    return natural(AccountCode.SAVINGS, acct.balance)


def _end_cycle(cycle: Cycle, on: dt.date) -> None:
    cycle.ended_on = on


def _legs(session: Session, group: Group, payouts: list[Payout]) -> list[Leg]:
    legs: list[Leg] = []
    for p in payouts:
        member = session.get(Member, p.member_id)
        savings = account(session, group, AccountCode.SAVINGS, member)
        if p.profit:
            legs.append(Leg(savings, -p.profit))
        if p.total:
            legs.append(Leg(savings, p.total))
    for code in (AccountCode.CHARGES, AccountCode.FINES):
        acct = account(session, group, code)
        if acct.balance:
            legs.append(Leg(acct, acct.balance * -1))
    legs.append(Leg(account(session, group, AccountCode.CASH), -sum(p.total for p in payouts)))
    return legs


def _read_back(session: Session, group: Group, txn: Txn, replayed: bool) -> ShareOut:
    """The payouts as posted, from the transaction's legs on members' savings accounts."""
    codes = {a.id: a for a in session.scalars(select(Account).where(Account.group_id == group.id))}
    credit: dict[int, int] = {}
    debit: dict[int, int] = {}
    deducted: dict[int, int] = {}
    kept: dict[int, int] = {}
    for back in session.scalars(select(Txn).where(Txn.group_id == group.id,
                                                  Txn.idem_key.like(f"{txn.idem_key}:keep:%"))):
        if back.member_id is not None:
            kept[back.member_id] = back.amount
    for settled in session.scalars(select(Txn).where(Txn.group_id == group.id,
                                                     Txn.idem_key.like(f"{txn.idem_key}:settle:%"))):
        if settled.member_id is not None:
            deducted[settled.member_id] = deducted.get(settled.member_id, 0) + settled.amount
    for line in txn.lines:
        acct = codes[line.account_id]
        if acct.code != AccountCode.SAVINGS:
            continue
        if line.amount > 0:  # her payout leaves her savings
            debit[acct.member_key] = debit.get(acct.member_key, 0) + line.amount
        else:  # her part of the profit comes into her savings
            credit[acct.member_key] = credit.get(acct.member_key, 0) - line.amount
    cycle = session.get(Cycle, txn.cycle_id)
    assert cycle is not None
    value = cycle.share_value or group.share_value
    payouts = []
    for member_id in sorted(debit):
        total, profit, owed = debit[member_id], credit.get(member_id, 0), deducted.get(member_id, 0)
        savings = total - profit + owed
        shares = savings // value if group.kind == GroupKind.VSLA and value else 0
        payouts.append(Payout(member_id, savings, profit, shares, owed, kept.get(member_id, 0)))
    social = natural(AccountCode.SOCIAL, session.scalar(select(Account.balance).where(
        Account.group_id == group.id, Account.code == AccountCode.SOCIAL, Account.member_key == 0)) or 0)
    return ShareOut(txn.ref, cycle.number, txn.on, payouts, social, replayed)
