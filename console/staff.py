"""Admins manage staff accounts: add, change role, language, scope (places, regions and groups), password, switch off."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, object_session

from console.accounts import AccountError, create_staff, set_password
from console.audit import ACTIONS, changes, record
from console.audit import PAGE as AUDIT_PAGE
from console.auth import logged_in_staff, staff_required
from console.blueprint import bp
from console.messages import explain
from console.models import STAFF_ROLE_LABELS, AuditEntry, Staff, StaffRole
from console.orgs import remember_choices
from console.tables import staff_table
from console.web import _, services, tr
from groups.models import Coordinator, Group
from groups.phones import PhoneError
from i18n import LANGUAGES
from orgs.models import Centre, Place
from orgs.places import coordinator_places, set_coordinator_places


def _account_error(exc: AccountError) -> str:
    return {
        "short": _("A password needs at least 10 characters."),
        "taken": _("This phone number already has a console account."),
        "name": _("A staff member needs a name."),
        "language": _("Choose one of the languages in the list."),
    }.get(exc.code, str(exc))


@bp.get("/staff")
@staff_required(role="admin")
def staff_list() -> ResponseReturnValue:
    with services().db.transaction() as s:
        table = staff_table(s, logged_in_staff(), {})
        centres = _centres(s)
    return render_template("console/staff.html", table=table, languages=LANGUAGES, form={}, errors={},
                           roles=ROLE_CHOICES, centres=centres)


@bp.post("/staff")
@staff_required(role="admin")
def staff_new() -> ResponseReturnValue:
    form = request.form.to_dict()
    role = form.get("role", "")
    if role not in ROLES:
        abort(400)
    regions = [r.strip() for r in form.get("regions", "").split(",") if r.strip()]
    try:
        with services().db.transaction() as s:
            centre_id = _centre_id(s, form.get("centre_id", ""))
            row = create_staff(s, phone=form.get("phone", ""), name=form.get("name", ""), role=role,
                               password=form.get("password", ""), language=form.get("language", "en"),
                               regions=regions, centre_id=centre_id)
            record(s, "staff.create", f"staff {row.phone}", None,
                   {"name": row.name, "role": role, "language": row.language, "regions": regions,
                    "centre_id": centre_id})
            name = row.name
    except (AccountError, PhoneError) as exc:
        message = _account_error(exc) if isinstance(exc, AccountError) else explain(tr(), exc)
        flash(message, "error")
        with services().db.transaction() as s:
            table = staff_table(s, logged_in_staff(), {})
            centres = _centres(s)
        form.pop("password", None)
        return render_template("console/staff.html", table=table, languages=LANGUAGES, form=form,
                               errors={}, roles=ROLE_CHOICES, centres=centres), 400
    flash(_("{name} can now log in to the console.", name=name), "info")
    return redirect(url_for("console.staff_list"), code=303)


ROLES = [r.value for r in StaffRole]
ROLE_CHOICES = [(r.value, STAFF_ROLE_LABELS[r]) for r in StaffRole]


def _centres(s: Session) -> list[tuple[int, str]]:
    return [(c.id, c.name) for c in s.scalars(select(Centre).where(Centre.active.is_(True)).order_by(Centre.name))]


def _centre_id(s: Session, value: str) -> int | None:
    """The chosen centre (an id from the list), else None."""
    try:
        centre = s.get(Centre, int(value)) if value else None
    except ValueError:
        abort(400)
    return centre.id if centre is not None else None


def _session_of(row: Staff) -> Session:
    session = object_session(row)
    assert session is not None, "a staff row read in this request's transaction"
    return session


def _scope_values(row: Staff) -> dict[str, str]:
    coord = row.coordinator
    places = ", ".join(p.name for p in coordinator_places(_session_of(row), coord.id)) if coord and coord.id else ""
    return {"regions": ", ".join(coord.regions or []) if coord else "",
            "groups": ", ".join(sorted(g.code for g in coord.groups)) if coord else "", "places": places}


def _place_ids_of(row: Staff) -> list[int]:
    coord = row.coordinator
    return [p.id for p in coordinator_places(_session_of(row), coord.id)] if coord and coord.id else []


@bp.route("/staff/<int:staff_id>", methods=["GET", "POST"])
@staff_required(role="admin")
def staff_edit(staff_id: int) -> ResponseReturnValue:
    me = logged_in_staff()
    with services().db.transaction() as s:
        row = s.get(Staff, staff_id)
        if row is None:
            abort(404)
        remember_choices(s)
        centres = _centres(s)
        if request.method == "GET":
            return render_template("console/staff_edit.html", row=row, scope=_scope_values(row),
                                   languages=LANGUAGES, errors={}, place_ids=_place_ids_of(row),
                                   roles=ROLE_CHOICES, centres=centres)
        form = request.form
        errors: dict[str, str] = {}
        name = form.get("name", "").strip()
        if not name:
            errors["name"] = _("A staff member needs a name.")
        language = form.get("language", "")
        if language not in LANGUAGES:
            errors["language"] = _("Choose one of the languages in the list.")
        role = form.get("role", "")
        if role not in ROLES:
            errors["role"] = _("Choose a role from the list.")
        centre_id = _centre_id(s, form.get("centre_id", ""))
        active = bool(form.get("active"))
        if row.id == me.id and (role != "admin" or not active):
            errors["role"] = _("You cannot take away your own access.")
        regions = [r.strip() for r in form.get("regions", "").split(",") if r.strip()]
        codes = [c.strip().upper() for c in form.get("groups", "").split(",") if c.strip()]
        groups = list(s.scalars(select(Group).where(Group.code.in_(codes)))) if codes else []
        unknown = sorted(set(codes) - {g.code for g in groups})
        if unknown:
            errors["groups"] = _("There is no group with the code {code}.", code=", ".join(unknown))
        place_ids = [int(v) for v in form.getlist("places") if v.isdigit()]
        if place_ids and len(set(s.scalars(select(Place.id).where(Place.id.in_(place_ids))))) != len(set(place_ids)):
            errors["places"] = _("Choose places from the list.")
        password = form.get("password", "")
        if password and len(password) < 10:
            errors["password"] = _("A password needs at least 10 characters.")
        if errors:
            return render_template("console/staff_edit.html", row=row, scope=dict(form), languages=LANGUAGES,
                                   errors=errors, place_ids=place_ids, roles=ROLE_CHOICES, centres=centres), 400
        before = {"name": row.name, "language": row.language, "role": row.role.value, "active": row.active,
                  "centre_id": row.centre_id, **_scope_values(row)}
        row.name, row.language, row.role, row.active = name, language, StaffRole(role), active
        row.centre_id = centre_id
        if not active and before["active"]:
            row.session_epoch += 1  # switched off: her open sessions end now
        if role == "coordinator":
            if row.coordinator is None:
                row.coordinator = s.scalar(select(Coordinator).where(Coordinator.phone == row.phone)) or Coordinator(
                    phone=row.phone, name=name, organisation="", language=language, regions=[], all_groups=False)
            row.coordinator.regions = regions
            row.coordinator.groups = groups
            s.flush()
            set_coordinator_places(s, row.coordinator.id, place_ids)
        after = {"name": name, "language": language, "role": role, "active": active, "centre_id": centre_id,
                 **_scope_values(row)}
        if password:
            set_password(s, row, password)
            before["password"], after["password"] = "", "changed"
        s.flush()
        if before != after:
            record(s, "staff.edit", f"staff {row.phone}", before, after)
    flash(_("Saved."), "info")
    return redirect(url_for("console.staff_list"), code=303)


@bp.get("/audit")
@staff_required(role="admin")
def audit_log() -> ResponseReturnValue:
    page = max(1, request.args.get("page", 1, type=int))
    with services().db.transaction() as s:
        total = s.scalar(select(func.count(AuditEntry.id))) or 0
        entries = s.scalars(select(AuditEntry).options(joinedload(AuditEntry.staff))
                            .order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE).offset((page - 1) * AUDIT_PAGE)).all()
    return render_template("console/audit.html", entries=entries, page=page,
                           more=total > page * AUDIT_PAGE, changes=changes, actions=ACTIONS)
