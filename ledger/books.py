"""The one posting function and the rows every posting needs (cycle, meeting, accounts).

Rules enforced here, once, for every kind of posting:

- the legs of a transaction sum to zero and none is zero (PostgreSQL checks the
  sum again at commit with a deferred constraint trigger, the table refuses
  zero legs);
- the idempotency key is inserted first; if it exists (now or by a concurrent
  writer) the first result is returned and nothing changes;
- every touched account is locked in id order (``SELECT ... FOR UPDATE`` on
  PostgreSQL; SQLite's writer lock does the same) and no account may cross
  below zero in its natural direction: the cash box, the social fund, a
  member's savings or loan never go negative;
- cached balances move in the same transaction as the legs.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from groups.models import Group, Member, Membership, Role, Status
from ledger import errors
from ledger.invalidation import touch
from ledger.models import Account, AccountCode, Cycle, Line, Loan, Meeting, Txn, TxnKind

ACCOUNTS = cast(Table, Account.__table__)
TXNS = cast(Table, Txn.__table__)
M = TypeVar("M")

# Hot statements, built once with bind parameters (building costs more than running them).
_BY_KEY = select(Txn).where(Txn.idem_key == bindparam("key"))
_MEMBERSHIP = select(Membership).where(Membership.group_id == bindparam("g"),
                                       Membership.member_id == bindparam("m"),
                                       Membership.status == Status.ACTIVE)
_PAID_IN_CYCLE = select(func.coalesce(func.sum(Txn.amount), 0)).where(
    Txn.cycle_id == bindparam("c"), Txn.member_id == bindparam("m"), Txn.kind == bindparam("k"),
    Txn.reversed.is_(False))
_PAID_AT_MEETING = select(func.coalesce(func.sum(Txn.amount), 0), func.coalesce(func.sum(Txn.shares), 0)).where(
    Txn.meeting_id == bindparam("mt"), Txn.member_id == bindparam("m"), Txn.kind == bindparam("k"),
    Txn.reversed.is_(False))
_MOVE = (update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("a"))
         .values(balance=ACCOUNTS.c.balance + bindparam("d")).returning(ACCOUNTS.c.balance))
#: normal sign -> the same move, refused (no row) if the natural balance would go below zero
_MOVE_GUARDED = {sign: _MOVE.where((ACCOUNTS.c.balance + bindparam("d")) * sign >= 0) for sign in (1, -1)}
#: is PostgreSQL -> INSERT ... ON CONFLICT (idem_key) DO NOTHING RETURNING id
_INSERT_TXN = {pg: (dialect.insert(TXNS).on_conflict_do_nothing(index_elements=["idem_key"])
                    .returning(TXNS.c.id)) for pg, dialect in ((True, postgresql), (False, sqlite))}
P = ParamSpec("P")


#: session.info key: the groups whose dashboard figures a commit must recompute (see ``reports``).
FIGURES_MARK = "kassa.figures_groups"


def mark_figures(session: Session, group_id: int) -> None:
    """Have ``group_id``'s figures (``ledger.figures``) recomputed when ``session`` commits."""
    session.info.setdefault(FIGURES_MARK, set()).add(group_id)


def group_today(group: Group) -> dt.date:
    """Today's date where the group meets (its timezone), not the server's."""
    return dt.datetime.now(ZoneInfo(group.timezone or "UTC")).date()


def natural(code: AccountCode, signed: int) -> int:
    """A signed balance (debit +) as people read it: what the account holds or owes."""
    return signed * code.normal_sign


# -- people and roles -----------------------------------------------------------

def membership(session: Session, group: Group, member: Member) -> Membership:
    """The member's active membership in ``group``; refuses anyone else."""
    found = _cached(session, ("membership", group.id, member.id),
                    lambda: session.scalar(_MEMBERSHIP, {"g": group.id, "m": member.id}))
    if found is None or member.status != Status.ACTIVE:
        raise errors.not_member()
    return found


def require_role(session: Session, group: Group, actor: Member, *roles: Role) -> Membership:
    """The actor's membership if she holds one of ``roles`` in this group, else ``not_allowed``."""
    try:
        found = membership(session, group, actor)
    except errors.LedgerError:
        raise errors.not_allowed() from None
    if found.role not in roles:
        raise errors.not_allowed()
    return found


# -- rows every posting needs, read once per session ------------------------------

def _cached(session: Session, key: tuple[Any, ...], load: Callable[[], M]) -> M:
    """``load()`` once per session for rows a meeting's postings all need (cycle,
    meeting, accounts, memberships). A row dropped by a rolled-back savepoint is
    no longer in the session and is loaded again."""
    cache: dict[tuple[Any, ...], Any] = session.info.setdefault("ledger_rows", {})
    row = cache.get(key)
    if row is not None and row in session:
        return row  # type: ignore[no-any-return]
    row = load()
    cache[key] = row
    return row


def forget_cached(session: Session) -> None:
    """Drop the per-session row cache (after a cycle ends, say)."""
    session.info.pop("ledger_rows", None)


# -- get or create, safe against a concurrent creator -----------------------------

def get_or_create(session: Session, model: type[M], lookup: dict[str, Any],
                  defaults: dict[str, Any] | None = None) -> M:
    """The row matching ``lookup`` (a unique key), inserting it if missing.

    The insert runs in a savepoint: if another transaction inserted the same
    key first, its row is read back instead.
    """
    return _cached(session, (model.__name__, *sorted(lookup.items())),
                   lambda: _get_or_create(session, model, lookup, defaults))


def _get_or_create(session: Session, model: type[M], lookup: dict[str, Any],
                   defaults: dict[str, Any] | None) -> M:
    stmt = select(model).filter_by(**lookup)
    row = session.scalar(stmt)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = model(**lookup, **(defaults or {}))
            session.add(row)
    except IntegrityError:
        row = session.scalar(stmt)
        if row is None:
            raise
    return row


def current_cycle(session: Session, group: Group) -> Cycle:
    """The group's open savings cycle (the first starts with the first posting)."""
    cycle = _cached(session, ("cycle", group.id), lambda: _current_cycle(session, group))
    if cycle.ended_on is None:
        return cycle
    forget_cached(session)
    return _current_cycle(session, group)


def open_cycle(session: Session, group: Group) -> Cycle | None:
    """The group's open cycle, or None before its first posting (reads never create one)."""
    return session.scalar(select(Cycle).where(Cycle.group_id == group.id, Cycle.ended_on.is_(None))
                          .order_by(Cycle.number.desc()).limit(1))


def _current_cycle(session: Session, group: Group) -> Cycle:
    cycle = open_cycle(session, group)
    if cycle is not None:
        return cycle
    last = session.scalar(select(func.max(Cycle.number)).where(Cycle.group_id == group.id)) or 0
    return get_or_create(session, Cycle, {"group_id": group.id, "number": last + 1},
                         {"started_on": group_today(group), "share_value": group.share_value})


def account(session: Session, group: Group, code: AccountCode, member: Member | None = None) -> Account:
    """The group's ``code`` account (per member for savings and loans), created on first use."""
    if code.per_member != (member is not None):
        raise ValueError(f"account {code.value} is {'per member' if code.per_member else 'per group'}")
    key = member.id if member is not None else 0
    return get_or_create(session, Account, {"group_id": group.id, "code": code, "member_key": key},
                         {"member_id": member.id if member else None, "balance": 0})


def balance(session: Session, group: Group, code: AccountCode, member: Member | None = None) -> int:
    """Natural balance of an account without creating it (0 when it does not exist yet)."""
    signed = session.scalar(select(Account.balance).where(
        Account.group_id == group.id, Account.code == code,
        Account.member_key == (member.id if member else 0)))
    return natural(code, signed or 0)


# -- meetings --------------------------------------------------------------------

def meeting_for_posting(session: Session, group: Group, on: dt.date) -> Meeting:
    """The meeting on ``on``, opened if needed; refuses a closed one and a day still to come."""
    if on > group_today(group):
        raise errors.future_date(on)
    meeting = get_or_create(session, Meeting, {"group_id": group.id, "on": on}, {"closed": False})
    if meeting.closed:
        raise errors.meeting_closed(on)
    return meeting


# -- posting ---------------------------------------------------------------------

@dataclass(frozen=True)
class Leg:
    """``amount`` on ``account``: positive debits, negative credits."""

    account: Account
    amount: int


@dataclass(frozen=True)
class Receipt:
    """What a posting answers: its reference and the member's new balance of that kind."""

    ref: str
    kind: str
    member_id: int | None
    amount: int
    balance: int
    replayed: bool
    on: dt.date | None = None
    flagged: bool = False
    shares: int | None = None
    loan_ref: str | None = None
    reverses: str | None = None
    memo: str | None = None  # a fine's type code (and other postings' notes)


def receipt_of(txn: Txn, replayed: bool) -> Receipt:
    reverses = f"R{txn.reverses_id}" if txn.reverses_id else None
    return Receipt(ref=txn.ref, kind=txn.kind.value, member_id=txn.member_id, amount=txn.amount,
                   balance=txn.balance_after, replayed=replayed, on=txn.on, flagged=txn.flagged,
                   shares=txn.shares, loan_ref=f"L{txn.loan_id}" if txn.loan_id else None,
                   reverses=reverses, memo=txn.memo)


def find_key(session: Session, group: Group, key: str) -> Txn | None:
    """The transaction already posted under ``key``, if any (in this group, else refused)."""
    txn = session.scalar(_BY_KEY, {"key": key})
    if txn is not None and txn.group_id != group.id:
        raise errors.key_reused()
    return txn


def idempotent(fn: Callable[P, Receipt]) -> Callable[P, Receipt]:
    """Make a posting function (``session, group, ..., key=...``) answer a replay.

    A key seen before returns the first receipt before any check runs (the
    meeting may have closed since). The work runs in a savepoint, so a refusal
    writes nothing at all. A refusal is checked against the key once
    more: a concurrent writer with the same key may have committed while this
    one was validating (it then sees that writer's posting and would refuse
    it as a second contribution); the answer is the first result, not an error.
    """
    @functools.wraps(fn)
    def posting(*args: P.args, **kwargs: P.kwargs) -> Receipt:
        session, group, key = args[0], args[1], kwargs["key"]
        assert isinstance(session, Session) and isinstance(group, Group) and isinstance(key, str)
        done = find_key(session, group, key)
        if done is not None:
            return receipt_of(done, replayed=True)
        try:
            return atomic(session, lambda: fn(*args, **kwargs))
        except errors.LedgerError:
            done = find_key(session, group, key)
            if done is not None:
                return receipt_of(done, replayed=True)
            raise
    return posting


R = TypeVar("R")


def atomic(session: Session, act: Callable[[], R]) -> R:
    """Run ``act`` in a savepoint: a refusal leaves nothing behind (not even a new meeting or account)."""
    with session.begin_nested():
        return act()


@dataclass
class Posting:
    """Everything that describes one transaction apart from its legs."""

    group: Group
    key: str
    kind: TxnKind
    amount: int
    on: dt.date
    cycle: Cycle
    meeting: Meeting | None = None
    member: Member | None = None
    actor: Member | None = None
    approver: Member | None = None
    loan: Loan | None = None
    shares: int | None = None
    flagged: bool = False
    memo: str | None = None
    reverses: Txn | None = None


def post(session: Session, p: Posting, legs: list[Leg], balance_after: Callable[[], int],
         before_flush: Callable[[], None] | None = None) -> Receipt:
    """Write one balanced transaction, or return the first one posted under ``p.key``.

    Runs inside :func:`atomic` (every public posting does), so a refusal here
    undoes all of it. ``before_flush()`` updates dependent rows (a loan's
    totals); ``balance_after()`` computes the receipt's balance once the legs are in.
    """
    _check_legs(legs)
    touch(session, p.group.id)  # core statements below: the ORM would not notice them
    mark_figures(session, p.group.id)
    txn_id = _insert_txn(session, p)
    if txn_id is None:  # a concurrent writer committed this key first
        existing = find_key(session, p.group, p.key)
        assert existing is not None
        return receipt_of(existing, replayed=True)
    _move_balances(session, legs, p)
    session.execute(insert(Line), [{"txn_id": txn_id, "account_id": leg.account.id, "amount": leg.amount}
                                   for leg in legs])
    if p.reverses is not None:
        p.reverses.reversed = True
    if before_flush is not None:
        before_flush()
    session.flush()
    after = balance_after()
    session.execute(update(TXNS).where(TXNS.c.id == txn_id).values(balance_after=after))
    return Receipt(ref=f"R{txn_id}", kind=p.kind.value, member_id=p.member.id if p.member else None,
                   amount=p.amount, balance=after, replayed=False, on=p.on, flagged=p.flagged,
                   shares=p.shares, loan_ref=p.loan.ref if p.loan else None,
                   reverses=p.reverses.ref if p.reverses else None, memo=p.memo)


def _check_legs(legs: list[Leg]) -> None:
    if len(legs) < 2 or any(leg.amount == 0 for leg in legs):
        raise ValueError("a transaction needs at least two non-zero legs")
    if sum(leg.amount for leg in legs) != 0:
        raise ValueError("unbalanced transaction")


def _insert_txn(session: Session, p: Posting) -> int | None:
    """Insert the transaction row first: its unique key is the idempotency guard.

    ``INSERT ... ON CONFLICT (idem_key) DO NOTHING RETURNING id``: None when the
    key exists (on PostgreSQL a concurrent writer of the same key is waited for).
    """
    values = dict(group_id=p.group.id, cycle_id=p.cycle.id, meeting_id=p.meeting.id if p.meeting else None,
                  idem_key=p.key, kind=p.kind.value, member_id=p.member.id if p.member else None,
                  loan_id=p.loan.id if p.loan else None, on=p.on, amount=p.amount, shares=p.shares,
                  flagged=p.flagged, memo=p.memo, actor_id=p.actor.id if p.actor else None,
                  approver_id=p.approver.id if p.approver else None,
                  reverses_id=p.reverses.id if p.reverses else None, balance_after=0, reversed=False)
    stmt = _INSERT_TXN[session.get_bind().dialect.name == "postgresql"]
    return session.execute(stmt, values).scalar_one_or_none()


def _move_balances(session: Session, legs: list[Leg], p: Posting) -> None:
    """Move cached balances in account-id order (no deadlocks), refusing any natural balance below zero.

    Each move is one ``UPDATE ... SET balance = balance + d WHERE <stays at or above zero>
    RETURNING balance``: the row lock, the check and the write in one statement.
    """
    accounts = {leg.account.id: leg.account for leg in legs}
    deltas: dict[int, int] = {}
    for leg in legs:
        deltas[leg.account.id] = deltas.get(leg.account.id, 0) + leg.amount
    try:
        for account_id in sorted(deltas):
            _move(session, accounts[account_id], deltas[account_id], p)
    except errors.LedgerError:
        for acct in accounts.values():  # the savepoint rolls the rows back; forget what we were told
            session.expire(acct, ["balance"])
        raise


def _move(session: Session, acct: Account, delta: int, p: Posting) -> None:
    """One guarded ``UPDATE ... RETURNING``: a shrinking balance may not cross zero."""
    shrinks = delta * acct.code.normal_sign < 0
    stmt = _MOVE_GUARDED[acct.code.normal_sign] if shrinks else _MOVE
    new = session.execute(stmt, {"a": acct.id, "d": delta}).scalar_one_or_none()
    if new is None:
        held = session.scalar(select(ACCOUNTS.c.balance).where(ACCOUNTS.c.id == acct.id)) or 0
        _refuse(acct.code, natural(acct.code, held), -delta * acct.code.normal_sign, p)
    set_committed_value(acct, "balance", new)


def _refuse(code: AccountCode, held: int, amount: int, p: Posting) -> None:
    if code == AccountCode.CASH:
        raise errors.cash_box_short(amount, held)
    if code == AccountCode.SOCIAL:
        raise errors.social_fund_short(amount, held)
    if code == AccountCode.BANK:
        raise errors.bank_short(amount, held)
    raise errors.cannot_reverse(p.reverses.ref if p.reverses else p.key)


# -- tallies that are sums of transactions -------------------------------------------

def paid_in_cycle(session: Session, cycle: Cycle, member: Member, kind: TxnKind) -> int:
    """What ``member`` paid of ``kind`` in ``cycle``, corrections excluded."""
    total = session.scalar(_PAID_IN_CYCLE, {"c": cycle.id, "m": member.id, "k": kind.value})
    return int(total or 0)


def paid_at_meeting(session: Session, meeting: Meeting, member: Member, kind: TxnKind) -> tuple[int, int]:
    """(amount, shares) ``member`` paid of ``kind`` at ``meeting``, corrections excluded."""
    row = session.execute(_PAID_AT_MEETING, {"mt": meeting.id, "m": member.id, "k": kind.value}).one()
    return int(row[0] or 0), int(row[1] or 0)


def check_positive(amount: int | None) -> None:
    """An amount given by a caller must be a positive int of minor units."""
    if amount is None:
        return
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise errors.LedgerError("not_positive", errors.AMOUNT_MESSAGES["not_positive"])
