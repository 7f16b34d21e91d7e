"""Meetings: postings open the day's meeting; closing it makes its postings final.

After a meeting is closed it takes no new posting, only reversals (the
treasurer's UNDO), so what the group saw counted at the meeting stays true.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from groups.models import Group, Member, Membership, Role, Status
from ledger import errors
from ledger.books import balance, get_or_create, group_today, require_role
from ledger.models import AccountCode, Meeting, Txn, TxnKind


def open_meeting(session: Session, group: Group, on: dt.date) -> Meeting:
    """The group's meeting on ``on``, created if needed; refuses a closed one."""
    meeting = get_or_create(session, Meeting, {"group_id": group.id, "on": on}, {"closed": False})
    if meeting.closed:
        raise errors.meeting_closed(on)
    return meeting


def close_meeting(session: Session, group: Group, *, actor: Member, on: dt.date | None = None) -> Meeting:
    """Close the meeting of ``on`` (today); the treasurer or the chair does it. Closing twice is harmless."""
    require_role(session, group, actor, Role.TREASURER, Role.CHAIR)
    day = on or group_today(group)
    found = get_or_create(session, Meeting, {"group_id": group.id, "on": day}, {"closed": False})
    meeting = session.scalar(select(Meeting).where(Meeting.id == found.id).with_for_update()
                             .execution_options(populate_existing=True))
    assert meeting is not None
    if not meeting.closed:
        meeting.closed = True
        meeting.closed_at = dt.datetime.now(dt.UTC)
        meeting.closed_by_id = actor.id
        session.flush()
    return meeting


@dataclass
class SheetRow:
    """What one member brought (and received) at a meeting, corrections excluded."""

    member_id: int
    number: int
    name: str
    saved: int = 0
    shares: int = 0
    social: int = 0
    fines: int = 0
    repaid: int = 0
    received: int = 0  # loans paid out and social-fund payouts to her
    flagged: bool = False

    @property
    def paid_in(self) -> int:
        return self.saved + self.social + self.fines + self.repaid


@dataclass
class Sheet:
    """The treasurer's meeting at a glance: one row per member, totals, the cash box."""

    on: dt.date
    closed: bool
    rows: list[SheetRow] = field(default_factory=list)
    cash_box: int = 0

    def total(self, attr: str) -> int:
        return sum(int(getattr(row, attr)) for row in self.rows)

    @property
    def paid_in(self) -> int:
        return sum(row.paid_in for row in self.rows)

    @property
    def missing(self) -> list[SheetRow]:
        """Members who brought nothing yet."""
        return [row for row in self.rows if row.paid_in == 0]


_SHEET_FIELD = {TxnKind.SAVING: "saved", TxnKind.SOCIAL: "social", TxnKind.FINE: "fines",
                TxnKind.REPAYMENT: "repaid", TxnKind.DISBURSEMENT: "received",
                TxnKind.SOCIAL_PAYOUT: "received"}


def meeting_sheet(session: Session, group: Group, on: dt.date) -> Sheet:
    """Who has paid what at the meeting of ``on``, one row per active member by number."""
    meeting = session.scalar(select(Meeting).where(Meeting.group_id == group.id, Meeting.on == on))
    people = session.execute(select(Membership.member_id, Membership.number, Member.name)
                             .join(Member, Member.id == Membership.member_id)
                             .where(Membership.group_id == group.id, Membership.status == Status.ACTIVE)
                             .order_by(Membership.number)).all()
    rows = {mid: SheetRow(mid, number, name) for mid, number, name in people}
    sheet = Sheet(on=on, closed=bool(meeting and meeting.closed), rows=list(rows.values()),
                  cash_box=balance(session, group, AccountCode.CASH))
    if meeting is None:
        return sheet
    totals = session.execute(
        select(Txn.member_id, Txn.kind, func.sum(Txn.amount), func.coalesce(func.sum(Txn.shares), 0),
               func.max(case((Txn.flagged, 1), else_=0)))
        .where(Txn.meeting_id == meeting.id, Txn.reversed.is_(False), Txn.kind.in_(_SHEET_FIELD))
        .group_by(Txn.member_id, Txn.kind)).all()
    for member_id, kind, amount, shares, flagged in totals:
        row = rows.get(member_id)
        if row is None:
            continue
        name = _SHEET_FIELD[kind]
        setattr(row, name, getattr(row, name) + int(amount))
        if kind == TxnKind.SAVING:
            row.shares = int(shares)
        row.flagged = row.flagged or bool(flagged)
    return sheet
