"""The phone simulator: a feature phone on a page, for training sessions and demos.

Pick a member (or type a number), dial the short code and answer the USSD screens;
send an SMS from that phone; read the SMS Kassa writes to it as they arrive (htmx
polling of the outbox). It drives the real endpoints: each key press is a POST to
``/ussd/africastalking`` and each SMS a POST to ``/sms/africastalking``, made on the
server through the app itself (``test_client``) with the webhook token the provider
would send, so the webhooks' authentication is exercised, never bypassed or weakened.

Who: admins and coordinators (logged in; there is no public mode). A coordinator may be
any phone Kassa does not know, or a member of her own groups: she can rehearse a
treasurer's SMS of her groups, not another programme's. Dialling and SMS are audited.
"""
from __future__ import annotations

import secrets
from typing import Any

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.audit import ACTIONS, record
from console.auth import logged_in_staff, staff_required
from console.blueprint import bp
from console.models import Staff, StaffRole
from console.scope import visible_group_ids
from console.web import NAV, _, services
from groups.models import Coordinator, Group, Member, Membership, Status
from groups.phones import try_normalise
from i18n import N_
from messaging.models import OutboxMessage

NAV += [("console.simulator", N_("Phone simulator"), "admin"),
        ("console.simulator", N_("Phone simulator"), "coordinator")]
ACTIONS.update({"simulator.dial": N_("Simulator: USSD dialled"), "simulator.sms": N_("Simulator: SMS sent")})
SHOWN_SMS = 20
PICK_LIMIT = 300


def _allowed(staff: Staff) -> None:
    if staff.role not in (StaffRole.ADMIN, StaffRole.COORDINATOR):
        abort(404)


def phone_allowed(session: Session, staff: Staff, phone: str) -> bool:
    """May ``staff`` act as ``phone``? An admin: any. A coordinator: a number Kassa does not
    know, a member of her groups, or herself."""
    if staff.is_admin or phone == staff.phone:
        return True
    visible = visible_group_ids(session, staff)
    member_id = session.scalar(select(Member.id).where(Member.phone == phone))
    if member_id is not None:
        if visible is None:
            return True
        return session.scalar(select(Membership.id).where(
            Membership.member_id == member_id, Membership.group_id.in_(visible or {-1}))) is not None
    known = session.scalar(select(Coordinator.id).where(Coordinator.phone == phone)) or \
        session.scalar(select(Staff.id).where(Staff.phone == phone))
    return known is None


def _people(session: Session, staff: Staff) -> list[tuple[str, str, str]]:
    """(phone, name, group code) of the members she may pick, by group and number."""
    stmt = (select(Member.phone, Member.name, Group.code).join(Membership, Membership.member_id == Member.id)
            .join(Group, Group.id == Membership.group_id).where(Membership.status == Status.ACTIVE))
    visible = visible_group_ids(session, staff)
    if visible is not None:
        stmt = stmt.where(Group.id.in_(visible or {-1}))
    return [(phone, name, code) for phone, name, code
            in session.execute(stmt.order_by(Group.code, Membership.number).limit(PICK_LIMIT))]


def _phone_or_400() -> str:
    phone = try_normalise(request.values.get("phone", ""))
    if phone is None:
        abort(400)
    return phone


def _checked_phone() -> str:
    staff = logged_in_staff()
    _allowed(staff)
    phone = _phone_or_400()
    with services().db.transaction() as s:
        if not phone_allowed(s, staff, phone):
            abort(404)
    return phone


def _webhook(path: str, form: dict[str, str]) -> Any:
    """POST ``form`` to one of Kassa's own webhooks, as the provider does (with its token)."""
    token = services().config.WEBHOOK_TOKEN
    client = current_app.test_client()
    return client.post(path, data=form, query_string={"token": token} if token else {},
                       environ_base={"REMOTE_ADDR": "127.0.0.1"})


@bp.get("/simulator")
@staff_required
def simulator() -> ResponseReturnValue:
    staff = logged_in_staff()
    _allowed(staff)
    with services().db.transaction() as s:
        people = _people(s, staff)
    phone = try_normalise(request.args.get("phone", "")) or (people[0][0] if people else "")
    return render_template("console/simulator.html", people=people, phone=phone,
                           code=services().config.USSD_SERVICE_CODE)


@bp.post("/simulator/ussd")
@staff_required
def simulator_ussd() -> ResponseReturnValue:
    """One USSD hop: ``dial`` starts a session; else ``answer`` is appended to the session's text."""
    phone = _checked_phone()
    if request.form.get("hangup") == "1":
        return _screen(phone, "", "", "", ended=True)
    dial = request.form.get("dial") == "1"
    session_id = request.form.get("session_id", "")
    text = request.form.get("text", "")
    answer = request.form.get("answer", "").strip()
    if dial or not session_id.startswith("sim-"):
        session_id, text = "sim-" + secrets.token_hex(8), ""
        with services().db.transaction() as s:
            record(s, "simulator.dial", f"phone {phone}", None, {"phone": phone})
    else:
        if not answer:
            return _screen(phone, session_id, text, request.form.get("screen", ""), ended=False)
        text = f"{text}*{answer}" if text else answer
    response = _webhook("/ussd/africastalking", {
        "sessionId": session_id, "phoneNumber": phone, "serviceCode": services().config.USSD_SERVICE_CODE,
        "text": text, "networkCode": "63902"})
    body = response.get_data(as_text=True)
    ended = not body.startswith("CON ")
    screen = body[4:] if body[:4] in ("CON ", "END ") else body
    return _screen(phone, session_id, text, screen, ended)


def _screen(phone: str, session_id: str, text: str, screen: str, ended: bool) -> ResponseReturnValue:
    return render_template("console/_simulator_screen.html", phone=phone, session_id=session_id, text=text,
                           screen=screen, ended=ended, code=services().config.USSD_SERVICE_CODE)


@bp.post("/simulator/sms")
@staff_required
def simulator_sms() -> ResponseReturnValue:
    """An SMS from the simulated phone, through the inbound webhook (a worker runs its command)."""
    phone = _checked_phone()
    text = request.form.get("text", "").strip()
    if not text:
        return _inbox(phone, note=_("Type a message first."))
    with services().db.transaction() as s:
        record(s, "simulator.sms", f"phone {phone}", None, {"phone": phone, "text": text[:160]})
    response = _webhook("/sms/africastalking", {"id": "SIM-" + secrets.token_hex(10), "from": phone,
                                                "to": "simulator", "text": text[:918]})
    note = _("Sent.") if response.status_code == 200 else _("Not sent.")
    return _inbox(phone, note=note)


@bp.get("/simulator/inbox")
@staff_required
def simulator_inbox() -> ResponseReturnValue:
    return _inbox(_checked_phone())


def _inbox(phone: str, note: str | None = None) -> ResponseReturnValue:
    with services().db.transaction() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.to_phone == phone)
                              .order_by(OutboxMessage.id.desc()).limit(SHOWN_SMS)))
        s.expunge_all()
    from console.sms_log import OUT_LABELS

    return render_template("console/_simulator_inbox.html", phone=phone, rows=rows, note=note, statuses=OUT_LABELS)
