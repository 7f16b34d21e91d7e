"""The support desk (which centre a request belongs to is ``support.centres``): assigning, working, closing with an
outcome, private notes, walk-ins and the counts a centre reports. Flushes, never commits.

The person is told by SMS (in her language, through the outbox) when her request is
taken up and when it is closed: the reference only, never the category (a phone is
often shared). Each of those SMS has a dedupe key, so a re-assignment or a repeated
click sends nothing twice.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session

from console.models import DESK_ROLES, Staff, StaffRole
from groups.letters import letters_for, member_letters
from groups.models import Group, Member
from groups.phones import normalise_phone
from i18n import LANGUAGES, N_, translator
from messaging.models import Priority
from messaging.outbox import queue_sms
from orgs.models import Centre
from support.models import (
    OPEN_STATUSES,
    Category,
    Outcome,
    RequestStatus,
    SupportNote,
    SupportRequest,
    new_ref,
)

STATUS_LABELS: dict[RequestStatus, str] = {
    # TRANSLATORS: a support request's state on the desk: nobody has it yet.
    RequestStatus.NEW: N_("New"),
    # TRANSLATORS: a support request's state: one staff member has it.
    RequestStatus.ASSIGNED: N_("Assigned"),
    RequestStatus.IN_PROGRESS: N_("In progress"),
    # TRANSLATORS: a support request's state: dealt with.
    RequestStatus.CLOSED: N_("Closed"),
}

OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.RESOLVED: N_("Resolved"),
    Outcome.REFERRED: N_("Referred to another service"),
    Outcome.UNREACHABLE: N_("Could not be reached"),
    Outcome.WITHDRAWN: N_("No longer needed"),
}


class DeskError(ValueError):
    """What was asked cannot be done; ``code`` says why (the console words it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# -- who sees what -----------------------------------------------------------------

def request_filter(staff: Staff) -> ColumnElement[bool]:
    """A WHERE clause on ``SupportRequest``: what ``staff`` may see on the desk.

    An admin: everything. A coordinator: her groups' requests (as everywhere in
    the console) and her centre's. Lawyers, psychologists and business advisers:
    their centre's requests and those assigned to them.
    """
    from console.scope import group_filter

    if staff.is_admin:
        return true()
    clauses: list[ColumnElement[bool]] = [SupportRequest.assigned_to_id == staff.id]
    if staff.centre_id is not None:
        clauses.append(SupportRequest.centre_id == staff.centre_id)
    if staff.role == StaffRole.COORDINATOR and staff.coordinator is not None:
        clauses.append(SupportRequest.group_id.in_(select(Group.id).where(group_filter(staff))))
    return or_(*clauses) if clauses else false()


def can_manage(staff: Staff) -> bool:
    """Admins and coordinators assign requests to people and register walk-ins for any centre."""
    return staff.role in (StaffRole.ADMIN, StaffRole.COORDINATOR)


def can_work(staff: Staff, request: SupportRequest) -> bool:
    """Move the request on (in progress, closed): its assignee, or an admin / coordinator who sees it."""
    return can_manage(staff) or request.assigned_to_id == staff.id


def assignable_staff(session: Session, request: SupportRequest) -> list[Staff]:
    """Who a request may be given to: the active desk staff and coordinators of its centre
    (every centre's when it has none), by name."""
    stmt = select(Staff).where(Staff.active.is_(True),
                               Staff.role.in_([*DESK_ROLES, StaffRole.COORDINATOR]))
    if request.centre_id is not None:
        stmt = stmt.where(or_(Staff.centre_id == request.centre_id, Staff.centre_id.is_(None)))
    return list(session.scalars(stmt.order_by(Staff.name)))


# -- moving a request on ---------------------------------------------------------------

def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _tell(session: Session, request: SupportRequest, msgid: str, step: str) -> None:
    member = session.get(Member, request.member_id)
    if member is None or not member.phone or member.opted_out:
        return  # a walk-in without a phone (or who sent STOP) is told in person
    t = translator(member.language)
    group = session.get(Group, request.group_id) if request.group_id else None
    letters = letters_for(member, group) if group is not None else member_letters(session, member)
    queue_sms(session, to=member.phone, text=t.gettext(msgid, ref=request.ref), language=t.lang,
              letters=letters, kind="support", priority=Priority.NOTICE, member_id=member.id, group_id=request.group_id,
              dedupe_key=f"support:{request.ref}:{step}")


def _already_sent(session: Session, request: SupportRequest, step: str) -> bool:
    from messaging.models import OutboxMessage

    return session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.dedupe_key == f"support:{request.ref}:{step}")) is not None


def assign(session: Session, request: SupportRequest, to: Staff) -> bool:
    """Give the request to ``to``; the first time, she is told it is taken up. True when it changed."""
    if request.status == RequestStatus.CLOSED:
        raise DeskError("closed", f"request {request.ref} is closed")
    if not to.active:
        raise DeskError("staff", "that staff member cannot take requests")
    if request.assigned_to_id == to.id:
        return False
    request.assigned_to_id = to.id
    request.assigned_at = _now()
    if request.status == RequestStatus.NEW:
        request.status = RequestStatus.ASSIGNED
    session.flush()
    if not _already_sent(session, request, "taken"):
        # TRANSLATORS: SMS to the person who asked for help. Never name the kind of help: the phone may be shared.
        _tell(session, request, N_("Kassa: your request {ref} has been taken up. Someone will contact you soon."),
              "taken")
    return True


def start(session: Session, request: SupportRequest) -> bool:
    if request.status != RequestStatus.ASSIGNED:
        raise DeskError("not_assigned", f"request {request.ref} is not assigned")
    request.status = RequestStatus.IN_PROGRESS
    session.flush()
    return True


def close(session: Session, request: SupportRequest, outcome: Outcome) -> bool:
    """Close with ``outcome``; she is told by SMS. Closing a closed request changes nothing."""
    if request.status == RequestStatus.CLOSED:
        return False
    request.status = RequestStatus.CLOSED
    request.outcome = outcome
    request.closed_at = _now()
    session.flush()
    # TRANSLATORS: SMS to the person who asked for help. Never name the kind of help: the phone may be shared.
    _tell(session, request, N_("Kassa: your request {ref} is closed. Thank you. Ask again at any time."), "closed")
    return True


def add_note(session: Session, request: SupportRequest, staff: Staff | None, text: str) -> SupportNote:
    text = text.strip()
    if not text:
        raise DeskError("empty_note", "a note needs some text")
    note = SupportNote(request_id=request.id, staff_id=staff.id if staff else None, text=text[:4000], at=_now())
    session.add(note)
    session.flush()
    return note


# -- walk-ins ---------------------------------------------------------------------

@dataclass(frozen=True)
class WalkIn:
    member: Member
    request: SupportRequest
    known: bool  # her phone number was already Kassa's (her name on file is kept)


def register_walk_in(session: Session, *, name: str, phone: str, language: str, category: Category,
                     centre: Centre | None, by: Staff | None, country: str | None = None) -> WalkIn:
    """A person who is in no group (a walk-in, a caller) and her request, at ``centre``.

    The phone is optional: without one she is told in person, not by SMS. A
    number Kassa already knows is that person (members.phone is unique).
    """
    name = name.strip()
    if not name:
        raise DeskError("name", "a person needs a name")
    if language not in LANGUAGES:
        raise DeskError("language", f"language {language!r} is not one of Kassa's")
    e164 = normalise_phone(phone, country) if phone.strip() else None  # PhoneError for a bad one
    member = session.scalar(select(Member).where(Member.phone == e164)) if e164 else None
    known = member is not None
    if member is None:
        member = Member(phone=e164, name=name, language=language)
        session.add(member)
        session.flush()
    request = SupportRequest(ref=new_ref(session), member_id=member.id, group_id=None,
                             centre_id=centre.id if centre else None, category=category,
                             created_by_id=by.id if by else None, created_at=_now())
    session.add(request)
    session.flush()
    _tell(session, request, N_("Kassa: your request {ref} is received. Quote it when you call."), "received")
    return WalkIn(member, request, known)


# -- queues and counts ------------------------------------------------------------

def is_overdue(request: SupportRequest, target_days: int | None, now: dt.datetime | None = None) -> bool:
    """Still open and older than the centre's target (days)."""
    if request.status == RequestStatus.CLOSED or not target_days:
        return False
    created = request.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return (now or _now()) - created > dt.timedelta(days=target_days)


def month_column(session: Session) -> ColumnElement[str]:
    """``YYYY-MM`` of ``SupportRequest.created_at`` (UTC), in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", SupportRequest.created_at), "YYYY-MM")
    return func.strftime("%Y-%m", SupportRequest.created_at)


@dataclass(frozen=True)
class CountRow:
    month: str
    centre_id: int | None
    counts: dict[Category, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def monthly_counts(session: Session, *, where: ColumnElement[bool] | None = None, year: int | None = None,
                   centre_id: int | None = None) -> list[CountRow]:
    """Requests per month, per centre, per category (one GROUP BY), newest month first."""
    month = month_column(session).label("month")
    stmt = select(month, SupportRequest.centre_id, SupportRequest.category, func.count(SupportRequest.id))
    if where is not None:
        stmt = stmt.where(where)
    if year is not None:
        start_, end = dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
        stmt = stmt.where(SupportRequest.created_at >= start_, SupportRequest.created_at < end)
    if centre_id is not None:
        stmt = stmt.where(SupportRequest.centre_id == centre_id)
    stmt = stmt.group_by(month, SupportRequest.centre_id, SupportRequest.category)
    grouped: dict[tuple[str, int | None], Counter[Category]] = {}
    for m, cid, category, n in session.execute(stmt):
        grouped.setdefault((m, cid), Counter())[Category(category)] += int(n)
    return [CountRow(m, cid, {c: grouped[(m, cid)].get(c, 0) for c in Category})
            for m, cid in sorted(grouped, key=lambda k: (k[0], k[1] or 0), reverse=True)]


def open_count(session: Session, where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count(SupportRequest.id)).where(
        where, SupportRequest.status.in_(OPEN_STATUSES))) or 0)
