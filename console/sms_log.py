"""Messages: the outbox and the inbox, searched by phone, group, status and date; a message's
history (attempts, provider, provider id, delivery report); resending a failed one.

Pages are keyset-paged on the id, newest first (``before=<id>``), so a page reads about one
page of rows through ``ix_outbox_to_phone_id`` / ``ix_outbox_group_id_id`` / the primary
key, however long the outbox is. Admins see every message, coordinators those of their
groups (outbox: the message's group; inbox: messages from their groups' members).
"""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any, TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from console.audit import ACTIONS, record
from console.auth import logged_in_staff, staff_required
from console.blueprint import bp
from console.models import Staff, StaffRole
from console.scope import visible_group_ids
from console.web import NAV, _, services
from groups.models import Group, Member, Membership
from groups.phones import try_normalise
from i18n import N_
from messaging.models import InboxMessage, InStatus, OutboxMessage, OutStatus, Priority
from messaging.outbox import queue_sms
from text.plain import Letters

M = TypeVar("M")
S = TypeVar("S", bound=enum.Enum)

PAGE = 50
# Admins and coordinators (one entry each: a NAV entry names one role or none).
NAV += [("console.messages", N_("Messages"), "admin"), ("console.messages", N_("Messages"), "coordinator")]
ACTIONS["message.resend"] = N_("SMS sent again")

OUT_LABELS = {OutStatus.PENDING: N_("Waiting"), OutStatus.SENDING: N_("Sending"), OutStatus.SENT: N_("Sent"),
              OutStatus.DELIVERED: N_("Delivered"), OutStatus.FAILED: N_("Failed"),
              OutStatus.REJECTED: N_("Refused")}
IN_LABELS = {InStatus.RECEIVED: N_("Received"), InStatus.DONE: N_("Handled"), InStatus.FAILED: N_("Failed")}


def _allowed(staff: Staff) -> None:
    if staff.role not in (StaffRole.ADMIN, StaffRole.COORDINATOR):
        abort(404)


def _day(value: str | None) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) if day else None


def _filters(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    """The search as typed, resolved: phone (E.164), group id, status, date range (UTC days)."""
    out: dict[str, Any] = {}
    phone = (args.get("phone") or "").strip()
    if phone:
        out["phones"] = _phone_candidates(session, phone)
    code = (args.get("group") or "").strip().upper()
    if code:
        out["group_id"] = session.scalar(select(Group.id).where(Group.code == code)) or -1
    out["since"], out["until"] = _day(args.get("since")), _day(args.get("until"))
    if out["until"]:
        out["until"] += dt.timedelta(days=1)
    out["before"] = request.args.get("before", type=int)
    return out


def _phone_candidates(session: Session, phone: str) -> list[str]:
    """A number as typed, in E.164: as it stands (``+254...``), else read in each country Kassa's
    groups are in (``0712 000 004`` -> ``+254712000004``); an exact match each, on the index."""
    e164 = try_normalise(phone)
    if e164:
        return [e164]
    countries = session.scalars(select(Group.country).distinct())
    found = {c for c in (try_normalise(phone, country) for country in countries) if c}
    return sorted(found) or [phone]


def outbox_rows(session: Session, staff: Staff, args: dict[str, Any]) -> tuple[list[OutboxMessage], bool]:
    f = _filters(session, args)
    stmt = select(OutboxMessage)
    visible = visible_group_ids(session, staff)
    if visible is not None:
        stmt = stmt.where(OutboxMessage.group_id.in_(visible or {-1}))
    if f.get("phones"):
        stmt = stmt.where(OutboxMessage.to_phone.in_(f["phones"]))
    if f.get("group_id"):
        stmt = stmt.where(OutboxMessage.group_id == f["group_id"])
    return _page(session, stmt, f, OutboxMessage.id, OutboxMessage.created_at,
                 OutboxMessage.status, OutStatus, args.get("status"))


def inbox_rows(session: Session, staff: Staff, args: dict[str, Any]) -> tuple[list[InboxMessage], bool]:
    f = _filters(session, args)
    stmt = select(InboxMessage)
    visible = visible_group_ids(session, staff)
    if visible is not None:
        stmt = stmt.where(InboxMessage.from_phone.in_(
            select(Member.phone).join(Membership).where(Membership.group_id.in_(visible or {-1}))))
    if f.get("phones"):
        stmt = stmt.where(InboxMessage.from_phone.in_(f["phones"]))
    if f.get("group_id"):
        stmt = stmt.where(InboxMessage.from_phone.in_(
            select(Member.phone).join(Membership).where(Membership.group_id == f["group_id"])))
    return _page(session, stmt, f, InboxMessage.id, InboxMessage.received_at,
                 InboxMessage.status, InStatus, args.get("status"))


def _page(session: Session, stmt: Select[M], f: dict[str, Any], id_col: InstrumentedAttribute[int],
          at_col: InstrumentedAttribute[dt.datetime], status_col: InstrumentedAttribute[S], statuses: type[S],
          status: str | None) -> tuple[list[M], bool]:
    """The filters the outbox and inbox share (status, days, the keyset cursor), then one page, newest first."""
    if status in {s.value for s in statuses}:
        stmt = stmt.where(status_col == statuses(status))
    if f["since"]:
        stmt = stmt.where(at_col >= f["since"])
    if f["until"]:
        stmt = stmt.where(at_col < f["until"])
    if f["before"]:
        stmt = stmt.where(id_col < f["before"])
    rows = list(session.scalars(stmt.order_by(id_col.desc()).limit(PAGE + 1)))
    return rows[:PAGE], len(rows) > PAGE


def _args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k in ("phone", "group", "status", "since", "until") and v}


@bp.get("/messages")
@staff_required
def messages() -> ResponseReturnValue:
    staff = logged_in_staff()
    _allowed(staff)
    args = _args()
    with services().db.transaction() as s:
        rows, more = outbox_rows(s, staff, args)
        codes = _codes(s, {m.group_id for m in rows})
        s.expunge_all()
    return render_template("console/messages.html", box="outbox", rows=rows, more=more, args=args, codes=codes,
                           statuses=OUT_LABELS)


@bp.get("/messages/inbox")
@staff_required
def inbox() -> ResponseReturnValue:
    staff = logged_in_staff()
    _allowed(staff)
    args = _args()
    with services().db.transaction() as s:
        rows, more = inbox_rows(s, staff, args)
        s.expunge_all()
    return render_template("console/messages.html", box="inbox", rows=rows, more=more, args=args, codes={},
                           statuses=IN_LABELS)


def _codes(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(session.execute(select(Group.id, Group.code).where(Group.id.in_(ids))).all()) if ids else {}


def _message_or_404(session: Session, staff: Staff, message_id: int) -> OutboxMessage:
    msg = session.get(OutboxMessage, message_id)
    visible = visible_group_ids(session, staff)
    if msg is None or (visible is not None and msg.group_id not in visible):
        abort(404)
    return msg


def _resend_key(msg: OutboxMessage) -> str:
    return f"resend:{msg.id}:"


@bp.get("/messages/<int:message_id>")
@staff_required
def message_page(message_id: int) -> ResponseReturnValue:
    staff = logged_in_staff()
    _allowed(staff)
    with services().db.transaction() as s:
        msg = _message_or_404(s, staff, message_id)
        resends = list(s.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.like(_resend_key(msg) + "%")).order_by(OutboxMessage.id)))
        original = None
        if msg.dedupe_key and msg.dedupe_key.startswith("resend:"):
            original = int(msg.dedupe_key.split(":")[1])
        codes = _codes(s, {msg.group_id})
        s.expunge_all()
    return render_template("console/message.html", msg=msg, resends=resends, original=original, codes=codes,
                           statuses=OUT_LABELS, can_resend=msg.status == OutStatus.FAILED)


@bp.post("/messages/<int:message_id>/resend")
@staff_required
def message_resend(message_id: int) -> ResponseReturnValue:
    """A failed SMS queued again as a new outbox row (the failed one stays as it was, for the record)."""
    staff = logged_in_staff()
    _allowed(staff)
    with services().db.transaction() as s:
        msg = _message_or_404(s, staff, message_id)
        if msg.status != OutStatus.FAILED:
            flash(_("Only a failed SMS can be sent again."), "error")
            return redirect(url_for("console.message_page", message_id=msg.id), code=303)
        n = s.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.dedupe_key.like(_resend_key(msg) + "%"))) or 0
        new = queue_sms(s, to=msg.to_phone, text=msg.text, language=msg.language, kind=msg.kind,
                        priority=min(int(msg.priority), int(Priority.NOTICE)), member_id=msg.member_id,
                        group_id=msg.group_id, dedupe_key=f"{_resend_key(msg)}{n + 1}",
                        letters=Letters.FULL)  # its text is already in her letters: sent again as it was
        record(s, "message.resend", f"sms {msg.id}", {"status": msg.status.value},
               {"resent_as": new.id}, group_id=msg.group_id)
        new_id = new.id
    flash(_("The SMS is queued again."), "info")
    return redirect(url_for("console.message_page", message_id=new_id), code=303)
