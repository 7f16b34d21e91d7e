"""The group's cycle around its meetings: attendance, a member leaving, the share-out's two steps.

- Attendance: the treasurer (or chair) marks who is absent while the meeting is
  open; closing the meeting records everyone else as present and answers the
  meeting's summary (totals and the cash box).
- Leaving: a member's savings are paid out in cash less what she still owes
  (her loans are settled from her savings first, see
  :func:`ledger.loans.settle_from_savings`); her membership ends. The profit
  of the cycle and the social fund stay with the group.
- Share-out in two steps: :func:`start_share_out` checks it can happen, gives a
  preview and a short code valid for :data:`SHAREOUT_MINUTES`; the chair may
  :func:`hold_share_out` it; :func:`confirm_share_out` with the code carries it
  out (:func:`ledger.shareout.share_out`, idempotent on the request).
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.models import Coordinator, Group, Member, Membership, Role, Status
from groups.service import coordinators_of
from ledger import errors
from ledger.books import (
    Leg,
    Posting,
    account,
    atomic,
    balance,
    current_cycle,
    find_key,
    group_today,
    meeting_for_posting,
    membership,
    post,
    require_role,
)
from ledger.loans import settle_from_savings
from ledger.meetings import close_meeting, meeting_sheet
from ledger.models import AccountCode, Attendance, Loan, LoanStatus, Meeting, ShareOutRequest, Txn, TxnKind
from ledger.shareout import Payout, ShareOut, check_share_out, share_out

SHAREOUT_MINUTES = 30


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


# -- attendance -----------------------------------------------------------------------

@dataclass(frozen=True)
class MeetingSummary:
    """A meeting at its close: who came, what came in and went out, the cash box after."""

    on: dt.date
    closed: bool
    members: int
    absent: list[int] = field(default_factory=list)  # member numbers in the group
    paid_in: int = 0
    saved: int = 0
    social: int = 0
    fines: int = 0
    repaid: int = 0
    paid_out: int = 0  # loans paid out and social-fund grants
    cash_box: int = 0

    @property
    def came(self) -> int:
        return self.members - len(self.absent)


def mark_absent(session: Session, group: Group, members: list[Member], *, actor: Member,
                on: dt.date | None = None) -> Meeting:
    """Mark ``members`` absent from the (open) meeting of ``on``; marking twice is harmless."""
    require_role(session, group, actor, Role.TREASURER, Role.CHAIR)
    day = on or group_today(group)

    def mark() -> Meeting:
        meeting = meeting_for_posting(session, group, day)
        for member in members:
            membership(session, group, member)
            row = session.scalar(select(Attendance).where(Attendance.meeting_id == meeting.id,
                                                          Attendance.member_id == member.id))
            if row is None:
                session.add(Attendance(meeting_id=meeting.id, member_id=member.id, present=False))
            else:
                row.present = False
        session.flush()
        return meeting

    return atomic(session, mark)


def close_with_attendance(session: Session, group: Group, *, actor: Member,
                          on: dt.date | None = None) -> MeetingSummary:
    """Close the meeting: everyone not marked absent came. Answers the meeting's summary."""
    day = on or group_today(group)
    meeting = close_meeting(session, group, actor=actor, on=day)
    marked = set(session.scalars(select(Attendance.member_id).where(Attendance.meeting_id == meeting.id)))
    active = session.scalars(select(Membership.member_id).where(
        Membership.group_id == group.id, Membership.status == Status.ACTIVE))
    for member_id in active:
        if member_id not in marked:
            session.add(Attendance(meeting_id=meeting.id, member_id=member_id, present=True))
    session.flush()
    return meeting_summary(session, group, day)


def meeting_summary(session: Session, group: Group, on: dt.date) -> MeetingSummary:
    """The meeting of ``on`` as the chair and treasurer read it at its close."""
    sheet = meeting_sheet(session, group, on)
    meeting = session.scalar(select(Meeting).where(Meeting.group_id == group.id, Meeting.on == on))
    away = set() if meeting is None else set(session.scalars(select(Attendance.member_id).where(
        Attendance.meeting_id == meeting.id, Attendance.present.is_(False))))
    return MeetingSummary(
        on=on, closed=sheet.closed, members=len(sheet.rows),
        absent=[row.number for row in sheet.rows if row.member_id in away], paid_in=sheet.paid_in,
        saved=sheet.total("saved"), social=sheet.total("social"), fines=sheet.total("fines"),
        repaid=sheet.total("repaid"), paid_out=sheet.total("received"), cash_box=sheet.cash_box)


# -- a member leaves -------------------------------------------------------------------

@dataclass(frozen=True)
class Leaving:
    """What a leaving member got: her savings, less what she owed, in cash (``ref`` its receipt)."""

    member_id: int
    savings: int
    deducted: int
    ref: str | None
    replayed: bool = False

    @property
    def paid(self) -> int:
        return self.savings - self.deducted


def leave_group(session: Session, group: Group, member: Member, *, key: str, actor: Member) -> Leaving:
    """End ``member``'s membership and pay out her savings less what she owes (treasurer or chair).

    Idempotent on ``key`` when there was something to pay out. Refused, with
    nothing written: her own leaving, a loan request or approved loan of hers
    still open, loans worth more than her savings, a cash box that cannot pay her.
    """
    done = find_key(session, group, key)
    if done is not None:
        return _left(session, group, done, replayed=True)
    return atomic(session, lambda: _leave(session, group, member, key, actor))


def _leave(session: Session, group: Group, member: Member, key: str, actor: Member) -> Leaving:
    require_role(session, group, actor, Role.TREASURER, Role.CHAIR)
    if actor.id == member.id:
        raise errors.own_leaving()
    found = membership(session, group, member)
    loans = list(session.scalars(select(Loan).where(
        Loan.group_id == group.id, Loan.member_id == member.id,
        Loan.status.in_((LoanStatus.REQUESTED, LoanStatus.APPROVED, LoanStatus.ACTIVE))).order_by(Loan.id)))
    if any(loan.status != LoanStatus.ACTIVE for loan in loans):
        raise errors.loan_waiting()
    savings = balance(session, group, AccountCode.SAVINGS, member)
    owed = sum(loan.outstanding for loan in loans)
    if owed > savings:
        raise errors.owes_more_than_savings(member.name, owed, savings)
    today = group_today(group)
    for loan in loans:
        settle_from_savings(session, group, loan, key=f"{key}:settle:{loan.ref}", actor=actor, on=today)
    ref = None
    if savings - owed > 0:
        posting = Posting(group=group, key=key, kind=TxnKind.WITHDRAWAL, amount=savings - owed, on=today,
                          cycle=current_cycle(session, group), meeting=meeting_for_posting(session, group, today),
                          member=member, actor=actor, memo="leaving")
        ref = post(session, posting, [Leg(account(session, group, AccountCode.SAVINGS, member), savings - owed),
                                      Leg(account(session, group, AccountCode.CASH), -(savings - owed))],
                   lambda: 0).ref
    found.status = Status.INACTIVE
    session.flush()
    return Leaving(member.id, savings, owed, ref)


def _left(session: Session, group: Group, txn: Txn, replayed: bool) -> Leaving:
    settled = session.scalars(select(Txn.amount).where(Txn.group_id == group.id,
                                                       Txn.idem_key.like(f"{txn.idem_key}:settle:%")))
    deducted = sum(settled)
    return Leaving(txn.member_id or 0, txn.amount + deducted, deducted, txn.ref, replayed)


# -- share-out in two steps --------------------------------------------------------------

@dataclass(frozen=True)
class Preview:
    """What a share-out would do now: each payout, the cash box, the profit, the social fund kept."""

    payouts: list[Payout]
    cash_box: int
    social_fund: int
    code: str = ""
    expires_at: dt.datetime | None = None

    @property
    def total(self) -> int:
        return sum(p.total for p in self.payouts)

    @property
    def profit(self) -> int:
        return sum(p.profit for p in self.payouts)


def preview_share_out(session: Session, group: Group) -> Preview:
    """The share-out as it would happen now, or the reason it cannot (nothing is written)."""
    payouts = check_share_out(session, group)
    return Preview(payouts, balance(session, group, AccountCode.CASH),
                   balance(session, group, AccountCode.SOCIAL))


def start_share_out(session: Session, group: Group, *, actor: Member, now: dt.datetime) -> Preview:
    """The treasurer starts a share-out: a preview and a new code (any earlier one stops working)."""
    require_role(session, group, actor, Role.TREASURER)
    preview = preview_share_out(session, group)
    for earlier in session.scalars(select(ShareOutRequest).where(
            ShareOutRequest.group_id == group.id, ShareOutRequest.status.in_(("pending", "held")))):
        earlier.status = "replaced"
    code = f"{secrets.randbelow(9000) + 1000}"
    expires = now + dt.timedelta(minutes=SHAREOUT_MINUTES)
    session.add(ShareOutRequest(group_id=group.id, cycle_id=current_cycle(session, group).id, code=code,
                                status="pending", started_by_id=actor.id, started_at=now, expires_at=expires))
    session.flush()
    return Preview(preview.payouts, preview.cash_box, preview.social_fund, code, expires)


def waiting_share_out(session: Session, group: Group, now: dt.datetime) -> ShareOutRequest | None:
    """The share-out started and neither held, carried out nor expired, if any."""
    found = _latest(session, group)
    if found is None or found.status != "pending" or _aware(found.expires_at) <= now:
        return None
    return found


def _latest(session: Session, group: Group) -> ShareOutRequest | None:
    return session.scalar(select(ShareOutRequest).where(
        ShareOutRequest.group_id == group.id, ShareOutRequest.status != "replaced")
        .order_by(ShareOutRequest.id.desc()).limit(1).with_for_update())


@dataclass(frozen=True)
class Watchers:
    """Who is told of a share-out and may hold it: the chair; in a group without one, its
    coordinators (``tier`` ``coordinator``), else a secretary (``officer``); else nobody (``none``).
    Never the treasurer who carries it out."""

    tier: str
    members: list[Member] = field(default_factory=list)
    coordinators: list[Coordinator] = field(default_factory=list)


def _active(session: Session, group: Group, role: Role, but: int | None) -> list[Member]:
    return list(session.scalars(select(Member).join(Membership, Membership.member_id == Member.id).where(
        Membership.group_id == group.id, Membership.role == role, Membership.status == Status.ACTIVE,
        Member.status == Status.ACTIVE, Member.id != (but or 0)).order_by(Membership.number)))


def share_out_watchers(session: Session, group: Group, *, treasurer_id: int | None = None) -> Watchers:
    """Who stands in the chair's place for the share-out (see :class:`Watchers`)."""
    if _active(session, group, Role.CHAIR, None):
        return Watchers("chair", _active(session, group, Role.CHAIR, treasurer_id))
    coordinators = coordinators_of(session, group)
    if coordinators:
        return Watchers("coordinator", coordinators=coordinators)
    secretaries = _active(session, group, Role.SECRETARY, treasurer_id)
    return Watchers("officer", secretaries) if secretaries else Watchers("none")


def hold_share_out(session: Session, group: Group, *, actor: Member | None, now: dt.datetime,
                   coordinator_id: int | None = None) -> ShareOutRequest:
    """The chair blocks the share-out waiting for its code (before it is carried out). In a group
    without a chair, its coordinator (``coordinator_id``, checked by the caller) or, when it has
    none, a secretary may."""
    watchers = share_out_watchers(session, group)
    if coordinator_id is not None:
        if watchers.tier != "coordinator":
            raise errors.not_allowed()
    elif actor is None:
        raise errors.not_allowed()
    elif watchers.tier == "officer":
        require_role(session, group, actor, Role.SECRETARY)
    else:
        require_role(session, group, actor, Role.CHAIR)
    found = waiting_share_out(session, group, now)
    if found is None:
        raise errors.no_shareout()
    found.status, found.held_at = "held", now
    found.held_by_id = actor.id if actor is not None else None
    found.held_by_coordinator_id = coordinator_id
    session.flush()
    return found


def confirm_share_out(session: Session, group: Group, code: str, *, actor: Member,
                      now: dt.datetime) -> ShareOut:
    """Carry out the share-out started with ``code`` (the treasurer, within the time, not held).

    Confirming the same code again answers the same share-out (``replayed``).
    """
    require_role(session, group, actor, Role.TREASURER)
    found = _latest(session, group)
    if found is None:
        raise errors.no_shareout()
    if found.code != code.strip():
        raise errors.wrong_code(code.strip()[:8])
    if found.status == "held":
        held_by_chair = found.held_by_id is not None and session.scalar(select(Membership.role).where(
            Membership.group_id == group.id, Membership.member_id == found.held_by_id)) == Role.CHAIR
        raise errors.shareout_held() if held_by_chair else errors.shareout_held_by_other()
    if found.status == "pending" and _aware(found.expires_at) <= now:
        raise errors.shareout_expired()
    result = share_out(session, group, key=f"shareout:{found.id}", actor=actor)
    found.status, found.txn_id = "done", int(result.ref[1:])
    session.flush()
    return result
