"""Money members bring to a meeting: savings (or shares), the social fund, fines.

Every function here is posted by the group's treasurer, is idempotent on
``key`` and answers a :class:`~ledger.books.Receipt`. Cash comes into the box:

- saving:  debit cash box, credit her savings account
- social:  debit cash box, credit the social fund
- fine:    debit cash box, credit fines income
- social fund payout (chair approves): debit the social fund, credit cash box

The group's rule for each amount is enforced per meeting: a member's total at
one meeting must match the rule (SHG: exactly ``saving_amount``; VSLA:
``shares_min``..``shares_max`` shares of the cycle's share value; a flexible
group: any positive amount, on any day, each day's postings under that day's
meeting row as for any group). Anything
else is refused, or accepted and flagged when ``off_rule_contribution`` is
``flag``. A VSLA amount that is not a whole number of shares is always refused.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groups.models import Group, GroupKind, Member, Role
from ledger import errors
from ledger.books import (
    Leg,
    Posting,
    Receipt,
    account,
    check_positive,
    current_cycle,
    group_today,
    idempotent,
    meeting_for_posting,
    membership,
    natural,
    paid_at_meeting,
    paid_in_cycle,
    post,
    require_role,
)
from ledger.models import AccountCode, Cycle, Meeting, TxnKind


@dataclass(frozen=True)
class Contribution:
    """A checked contribution: what to post and whether it broke the group's rule."""

    amount: int
    shares: int | None = None
    flagged: bool = False


def _off_rule(group: Group, error: errors.LedgerError) -> bool:
    """True (flag it) when the group accepts off-rule contributions, else raise ``error``."""
    if group.off_rule_contribution == "flag":
        return True
    raise error


def saving_rule(session: Session, group: Group, cycle: Cycle, meeting: Meeting, member: Member,
                amount: int | None, shares: int | None) -> Contribution:
    """Check a saving against the group's rule (see the module docstring)."""
    if group.kind == GroupKind.VSLA:
        return _shares_rule(session, group, cycle, meeting, member, amount, shares)
    if group.kind == GroupKind.FLEXIBLE:  # any positive amount, on any day (seed 004)
        if amount is None:
            raise errors.no_rule("savings")
        return Contribution(amount)
    if amount is None:
        if group.saving_amount <= 0:
            raise errors.no_rule("savings")
        amount = group.saving_amount * (shares or 1)
    if group.saving_amount <= 0:
        return Contribution(amount)
    already, _ = paid_at_meeting(session, meeting, member, TxnKind.SAVING)
    if already + amount != group.saving_amount and not _pays_arrears(session, group, cycle, meeting, member,
                                                                     already, amount):
        return Contribution(amount, flagged=_off_rule(group, errors.off_rule_amount(amount, group.saving_amount)))
    return Contribution(amount)


def _pays_arrears(session: Session, group: Group, cycle: Cycle, meeting: Meeting, member: Member,
                  already: int, amount: int) -> bool:
    """An SHG member may bring missed weeks too: a whole multiple of the fixed amount, at most
    this meeting's plus what the cycle's earlier meetings asked of her and she has not saved."""
    rule, at_meeting = group.saving_amount, already + amount
    if at_meeting % rule or at_meeting <= rule:
        return False
    earlier = session.scalar(select(func.count(Meeting.id)).where(
        Meeting.group_id == group.id, Meeting.on >= cycle.started_on, Meeting.on < meeting.on)) or 0
    saved_before = paid_in_cycle(session, cycle, member, TxnKind.SAVING) - already
    arrears = rule * int(earlier) - saved_before
    return at_meeting - rule <= arrears


def _shares_rule(session: Session, group: Group, cycle: Cycle, meeting: Meeting, member: Member,
                 amount: int | None, shares: int | None) -> Contribution:
    value = cycle.share_value or group.share_value
    if value <= 0:
        raise errors.no_rule("savings")
    if shares is None:
        if amount is None:
            shares = group.shares_min
        elif amount % value:
            raise errors.not_whole_shares(amount, value)
        else:
            shares = amount // value
    if shares <= 0:
        raise errors.off_rule_shares(shares, group.shares_min, group.shares_max)
    if amount is not None and amount != shares * value:
        raise errors.off_rule_amount(amount, shares * value)
    _, already = paid_at_meeting(session, meeting, member, TxnKind.SAVING)
    flagged = False
    if not (group.shares_min <= shares and already + shares <= group.shares_max):
        flagged = _off_rule(group, errors.off_rule_shares(already + shares, group.shares_min, group.shares_max))
    return Contribution(shares * value, shares, flagged)


def _fixed_rule(session: Session, group: Group, meeting: Meeting, member: Member, kind: TxnKind,
                amount: int | None, rule: int, what: str) -> Contribution:
    """A fixed amount per meeting (the social fund)."""
    if amount is None:
        if rule <= 0:
            raise errors.no_rule(what)
        amount = rule
    if rule <= 0:
        return Contribution(amount)
    already, _ = paid_at_meeting(session, meeting, member, kind)
    if already + amount != rule:
        return Contribution(amount, flagged=_off_rule(group, errors.off_rule_amount(amount, rule)))
    return Contribution(amount)


def _fine_rule(group: Group, amount: int | None, fine_type: str | None) -> tuple[Contribution, str | None]:
    from groups.rules import find_fine, fine_types

    types = {code: fine.amount for code, fine in fine_types(group).items()}
    if fine_type is None:
        if amount is None:
            raise errors.no_rule("fine")
        return Contribution(amount), None
    code = find_fine(group, fine_type)  # its code or the name the chair gave it
    if code is None:
        from groups.rules import fine_word

        raise errors.unknown_fine(fine_type, ", ".join(fine_word(group, c) for c in types) or "-")
    if amount is None or amount == types[code]:
        return Contribution(types[code]), code
    return Contribution(amount, flagged=_off_rule(group, errors.off_rule_amount(amount, types[code]))), code


@dataclass
class _Context:
    cycle: Cycle
    meeting: Meeting
    on: dt.date


def _prepare(session: Session, group: Group, member: Member, actor: Member, amount: int | None,
             on: dt.date | None) -> _Context:
    """Checks every contribution shares: the actor is the treasurer, the member belongs, the meeting is open."""
    require_role(session, group, actor, Role.TREASURER)
    membership(session, group, member)
    check_positive(amount)
    day = on or group_today(group)
    return _Context(current_cycle(session, group), meeting_for_posting(session, group, day), day)


def _cash_in(session: Session, group: Group, member: Member, actor: Member, key: str, kind: TxnKind,
             ctx: _Context, c: Contribution, credit: AccountCode, memo: str | None = None) -> Receipt:
    cash = account(session, group, AccountCode.CASH)
    target = account(session, group, credit, member if credit.per_member else None)
    posting = Posting(group=group, key=key, kind=kind, amount=c.amount, on=ctx.on, cycle=ctx.cycle,
                      meeting=ctx.meeting, member=member, actor=actor, shares=c.shares,
                      flagged=c.flagged, memo=memo)

    def balance_after() -> int:
        if credit == AccountCode.SAVINGS:
            return natural(credit, target.balance)
        return paid_in_cycle(session, ctx.cycle, member, kind)

    return post(session, posting, [Leg(cash, c.amount), Leg(target, -c.amount)], balance_after)


@idempotent
def record_saving(session: Session, group: Group, member: Member, *, amount: int | None = None,
                  shares: int | None = None, key: str, actor: Member,
                  on: dt.date | None = None) -> Receipt:
    """Record a member's savings (SHG: an amount; VSLA: shares, or an amount of whole shares).

    Debits the cash box and credits her savings; the receipt's balance is her
    savings after it. With neither amount nor shares, the group's rule applies.
    """
    check_positive(shares)
    ctx = _prepare(session, group, member, actor, amount, on)
    c = saving_rule(session, group, ctx.cycle, ctx.meeting, member, amount, shares)
    return _cash_in(session, group, member, actor, key, TxnKind.SAVING, ctx, c, AccountCode.SAVINGS)


@idempotent
def record_social(session: Session, group: Group, member: Member, amount: int | None = None, *,
                  key: str, actor: Member, on: dt.date | None = None) -> Receipt:
    """Record a social-fund contribution (default: the group's fixed amount).

    Debits the cash box and credits the social fund; the receipt's balance is
    what she paid into the social fund this cycle.
    """
    ctx = _prepare(session, group, member, actor, amount, on)
    c = _fixed_rule(session, group, ctx.meeting, member, TxnKind.SOCIAL, amount,
                    group.social_fund_amount, "social fund")
    return _cash_in(session, group, member, actor, key, TxnKind.SOCIAL, ctx, c, AccountCode.SOCIAL)


@idempotent
def record_fine(session: Session, group: Group, member: Member, amount: int | None = None, *,
                fine_type: str | None = None, key: str, actor: Member,
                on: dt.date | None = None) -> Receipt:
    """Record a fine, by type (amount from ``group.fine_types``) or by amount.

    Debits the cash box and credits fines income; the receipt's balance is the
    fines she paid this cycle.
    """
    ctx = _prepare(session, group, member, actor, amount, on)
    c, code = _fine_rule(group, amount, fine_type)
    return _cash_in(session, group, member, actor, key, TxnKind.FINE, ctx, c, AccountCode.FINES, memo=code)


@idempotent
def pay_social_fund(session: Session, group: Group, member: Member, amount: int, *, reason: str,
                    key: str, actor: Member, approver: Member | None = None) -> Receipt:
    """Pay ``amount`` from the social fund to ``member`` (illness, funeral ...).

    The treasurer pays; when an ``approver`` is named she must be the chair
    (the SMS ``SOCIALPAY`` names none: the treasurer grants it at the meeting
    and the chair is told). Nobody pays or approves a grant to herself. Debits
    the social fund, credits the cash box; neither may go below zero. The
    receipt's balance is what is left in the social fund.
    """
    if approver is not None:
        require_role(session, group, approver, Role.CHAIR)
        if approver.id == member.id:
            raise errors.self_approval()
    if actor.id == member.id:
        raise errors.self_approval()
    ctx = _prepare(session, group, member, actor, amount, None)
    fund = account(session, group, AccountCode.SOCIAL)
    cash = account(session, group, AccountCode.CASH)
    posting = Posting(group=group, key=key, kind=TxnKind.SOCIAL_PAYOUT, amount=amount, on=ctx.on,
                      cycle=ctx.cycle, meeting=ctx.meeting, member=member, actor=actor,
                      approver=approver, memo=reason[:160])
    return post(session, posting, [Leg(fund, amount), Leg(cash, -amount)],
                lambda: natural(AccountCode.SOCIAL, fund.balance))


@idempotent
def move_cash(session: Session, group: Group, amount: int, *, to: str, key: str, actor: Member,
              on: dt.date | None = None) -> Receipt:
    """Move ``amount`` between the cash box and the bank or mobile wallet (``to`` = ``bank`` or ``cash``).

    To the bank: debit bank, credit cash box; back: the other way round. Neither
    may go below zero. The treasurer does it; the receipt's balance is the cash
    box after it.
    """
    if to not in ("bank", "cash"):
        raise ValueError("move_cash: to is 'bank' or 'cash'")
    require_role(session, group, actor, Role.TREASURER)
    check_positive(amount)
    day = on or group_today(group)
    cash = account(session, group, AccountCode.CASH)
    bank = account(session, group, AccountCode.BANK)
    into, out_of = (bank, cash) if to == "bank" else (cash, bank)
    posting = Posting(group=group, key=key, kind=TxnKind.TRANSFER, amount=amount, on=day,
                      cycle=current_cycle(session, group), meeting=meeting_for_posting(session, group, day),
                      actor=actor, memo=to)
    return post(session, posting, [Leg(into, amount), Leg(out_of, -amount)],
                lambda: natural(AccountCode.CASH, cash.balance))
