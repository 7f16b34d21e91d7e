"""Loan instalments in reminders, and the day-before and overdue notices.

The ledger owns loans and their schedules (``ledger.loans``); this module
only reads them:

- the meeting reminder tells a borrower what her loan asks for by that
  meeting (``instalments_for_meetings``);
- instalments fall on meeting days (``ledger.loans.schedule``), so the
  meeting reminder says what falls due; the day-before notice goes only for
  an instalment that is not on a meeting day (a loan paid out before the
  group's meeting days were known to the schedule);
- the day after an instalment falls due unpaid she gets one overdue notice
  for that instalment.

Each group has a daily check at its reminder time (``next_loan_check_at``,
indexed); a batch takes the groups whose check is due, reads their active
loans and moves the check to the next day. Exactly once per member, loan,
instalment and kind: the outbox ``dedupe_key`` ``rem:<kind>:<loan>:<date>:<member>``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from groups.changes import meeting_days
from groups.letters import plain_sql
from groups.models import Group, Member, Membership, Status
from groups.schedule import local_instant
from ledger.loans import due_by, next_instalment
from ledger.models import Loan, LoanStatus
from messaging.bulk import insert_outbox_rows, one_of, send_after_commit
from messaging.models import OutStatus, Priority
from messaging.outbox import variant
from outreach.texts import loan_due_notice, overdue_notice
from text.plain import Letters

if TYPE_CHECKING:
    from services import Services

BATCH = 1000
KIND = "reminder"


@dataclass(frozen=True)
class LoanDue:
    """A member's instalment owed at or before a meeting (minor units)."""

    group_id: int
    member_id: int
    phone: str
    language: str
    letters: Letters
    amount: int
    due_on: dt.date


def _borrowers(session: Session, group_ids: list[int]) -> list[Row[Loan, str, str, bool]]:
    """Active loans of reachable members (active, in the group, no STOP) in ``group_ids``."""
    return list(session.execute(
        select(Loan, Member.phone, Member.language, plain_sql())
        .join(Member, Member.id == Loan.member_id).join(Group, Group.id == Loan.group_id)
        .join(Membership, (Membership.group_id == Loan.group_id) & (Membership.member_id == Loan.member_id))
        .where(one_of(session, Loan.group_id, group_ids), Loan.status == LoanStatus.ACTIVE, Member.status == Status.ACTIVE,
               Member.opted_out.is_(False), Membership.status == Status.ACTIVE)
        .order_by(Loan.id)).all())


def instalments_for_meetings(session: Session, meetings: dict[int, dt.date]) -> list[LoanDue]:
    """Borrowers of the groups in ``meetings`` (group id -> meeting date) who owe by that date.

    Owed = what the schedule asked for up to the meeting minus what she paid, summed
    over her active loans in that group; nothing when she is ahead.
    """
    if not meetings:
        return []
    owed: dict[tuple[int, int], list[Any]] = {}
    borrowers = _borrowers(session, list(meetings))
    meets = meeting_days(session, {loan.group_id for loan, *_ in borrowers})
    for loan, phone, language, plain in borrowers:
        amount = max(0, due_by(loan, meetings[loan.group_id], meets.get(loan.group_id)) - loan.paid)
        entry = owed.setdefault((loan.group_id, loan.member_id), [phone, language, Letters.of(plain), 0])
        entry[3] += amount
    return [LoanDue(gid, mid, phone, lang, letters, amount, meetings[gid])
            for (gid, mid), (phone, lang, letters, amount) in owed.items() if amount > 0]


@dataclass
class NoticeResult:
    checked: int = 0  # groups whose daily check ran
    notices: int = 0
    outbox_ids: list[int] = field(default_factory=list)


def _next_check(tz_name: str, remind_at: dt.time, after: dt.datetime) -> dt.datetime:
    """The first daily check (``remind_at`` local) strictly after ``after``."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(tz_name)
    day = after.astimezone(tz).date()
    check = local_instant(day, remind_at, tz)
    while check <= after:
        day += dt.timedelta(days=1)
        check = local_instant(day, remind_at, tz)
    return check


def plan_loan_notices(session: Session, now: dt.datetime, *, limit: int = BATCH) -> NoticeResult:
    """Run the daily loan check of up to ``limit`` groups whose check is due at ``now``.

    New groups get their first check; a group's check then moves to the next
    day at its reminder time. Flushes; the caller commits (and so enqueues the sending).
    """
    result = NoticeResult()
    _schedule_new(session, now, limit)
    groups = session.execute(
        select(Group.id, Group.name, Group.currency, Group.timezone, Group.reminder_time, Group.next_meeting_on,
               Group.next_loan_check_at)
        .where(Group.status == Status.ACTIVE, Group.next_loan_check_at <= now)
        .order_by(Group.next_loan_check_at).limit(limit)
        .with_for_update(skip_locked=True, of=Group.__table__)).all()
    if not groups:
        return result
    by_id = {g.id: g for g in groups}
    borrowers = _borrowers(session, list(by_id))
    meets = meeting_days(session, {loan.group_id for loan, *_ in borrowers})
    rows = [_notice(by_id[loan.group_id], loan, phone, lang, Letters.of(plain), now, meets.get(loan.group_id))
            for loan, phone, lang, plain in borrowers]
    result.outbox_ids = insert_outbox_rows(session, [r for r in rows if r])
    result.checked, result.notices = len(groups), len(result.outbox_ids)
    session.execute(update(Group), [{"id": g.id, "next_loan_check_at": _next_check(g.timezone, g.reminder_time, now)}
                                    for g in groups])
    send_after_commit(session, result.outbox_ids, Priority.NOTICE)
    return result


def _schedule_new(session: Session, now: dt.datetime, limit: int) -> None:
    rows = session.execute(
        select(Group.id, Group.timezone, Group.reminder_time)
        .where(Group.status == Status.ACTIVE, Group.next_loan_check_at.is_(None)).limit(limit)
        .with_for_update(skip_locked=True, of=Group.__table__)).all()
    if rows:
        session.execute(update(Group), [{"id": r.id, "next_loan_check_at": _next_check(
            r.timezone, r.reminder_time, now - dt.timedelta(days=1))} for r in rows])


def _local_day(group: Any, now: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(group.timezone)).date()


def _notice(group: Any, loan: Loan, phone: str, lang: str, letters: Letters, now: dt.datetime,
            meets: Any = None) -> dict[str, Any] | None:
    """The outbox row of this loan's notice today, if it has one."""
    nxt = next_instalment(loan, meets)
    if nxt is None:
        return None
    today = _local_day(group, now)
    on_meeting_day = nxt.on == group.next_meeting_on or (meets is not None and meets(nxt.on) == nxt.on)
    if nxt.on == today + dt.timedelta(days=1) and not on_meeting_day:
        kind, text = "loan_due", loan_due_notice(lang, amount=nxt.amount,
                                                 currency=group.currency, due_on=nxt.on)
    elif nxt.on < today:
        kind, text = "overdue", overdue_notice(lang, amount=nxt.amount,
                                               currency=group.currency, due_on=nxt.on)
    else:
        return None
    v = variant(text, letters)
    return dict(to_phone=phone, member_id=loan.member_id, group_id=loan.group_id, text=v.text, language=lang,
                encoding=v.encoding, segments=v.segments, priority=int(Priority.NOTICE), kind=KIND,
                dedupe_key=f"rem:{kind}:{loan.id}:{nxt.on.isoformat()}:{loan.member_id}",
                status=OutStatus.PENDING.value, attempts=0)


def run_loan_notices(services: Services, now: dt.datetime | None = None, *, limit: int = BATCH) -> int:
    """Run the daily loan checks due at ``now``; the number of notices written."""
    now = now or dt.datetime.now(dt.UTC)
    notices = 0
    while True:
        with services.db.transaction() as session:
            result = plan_loan_notices(session, now, limit=limit)
        notices += result.notices
        if not result.checked:
            return notices
