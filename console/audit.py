"""The audit log: every change made in the console (who, what, before/after, when), for admins."""
from __future__ import annotations

from typing import Any

from flask import g, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from console import bp
from console.auth import staff_required
from console.models import AuditEntry
from console.web import services
from i18n import N_

PAGE = 50

#: What an entry's ``action`` says, for the audit page (the code itself is kept in the row and the export).
ACTIONS = {
    "group.create": N_("Group created"),
    "group.edit": N_("Group changed"),
    "member.add": N_("Member added"),
    "member.edit": N_("Member changed"),
    "member.remove": N_("Member removed"),
    "member.reset_pin": N_("PIN reset"),
    "members.import": N_("Members imported"),
    "staff.create": N_("Staff member added"),
    "staff.edit": N_("Staff member changed"),
    "staff.language": N_("Language chosen"),
}


def record(session: Session, action: str, target: str, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, group_id: int | None = None) -> AuditEntry:
    """Write one audit entry in the caller's transaction (it commits with the change itself)."""
    staff = getattr(g, "staff", None)
    entry = AuditEntry(staff_id=staff.id if staff else None, action=action, target=target,
                       group_id=group_id, before=_jsonable(before), after=_jsonable(after))
    session.add(entry)
    session.flush()
    return entry


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if hasattr(value, "value") and not isinstance(value, (int, str)):
            value = value.value  # enums
        elif not isinstance(value, (int, str, float, bool, list, dict, type(None))):
            value = str(value)
        out[key] = value
    return out


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for the fields that differ."""
    before, after = before or {}, after or {}
    return [(k, before.get(k), after.get(k)) for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)]


@bp.get("/audit")
@staff_required(role="admin")
def audit_log() -> ResponseReturnValue:
    page = max(1, request.args.get("page", 1, type=int))
    with services().db.transaction() as s:
        total = s.scalar(select(func.count(AuditEntry.id))) or 0
        entries = s.scalars(select(AuditEntry).options(joinedload(AuditEntry.staff))
                            .order_by(AuditEntry.id.desc()).limit(PAGE).offset((page - 1) * PAGE)).all()
    return render_template("console/audit.html", entries=entries, page=page,
                           more=total > page * PAGE, changes=changes, actions=ACTIONS)
