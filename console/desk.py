"""The support desk: queues per centre and per staff member, a request's page (assign, take,
in progress, close with an outcome, private notes), walk-ins, and the monthly counts.

Who sees what is :func:`console.casework.request_filter`; every change is audited.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response as WerkzeugResponse

from console import casework as desk
from console.audit import ACTIONS, record
from console.auth import logged_in_staff, staff_required
from console.blueprint import bp
from console.messages import explain
from console.models import Staff, StaffRole
from console.sms_log import OUT_LABELS
from console.tables import PAGE, TABLES, Column, Table
from console.web import NAV, _, services, tr
from groups.models import Group, Member
from groups.phones import PhoneError
from i18n import LANGUAGES, N_
from messaging.models import OutboxMessage
from orgs.models import Centre
from support.models import OPEN_STATUSES, Category, Outcome, RequestStatus, SupportNote, SupportRequest
from support.service import CATEGORY_LABELS

NAV[2:2] = [("console.desk", N_("Support desk"), None), ("console.support_figures", N_("Support figures"), None)]
ACTIONS.update({
    "support.assign": N_("Request assigned"),
    "support.start": N_("Request in progress"),
    "support.close": N_("Request closed"),
    "support.note": N_("Note added"),
    "support.walk_in": N_("Walk-in registered"),
    "centre.create": N_("Centre added"),
})


def _centres(session: Session) -> list[Centre]:
    return list(session.scalars(select(Centre).where(Centre.active.is_(True)).order_by(Centre.name)))


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# -- the queue --------------------------------------------------------------------

def desk_table(session: Session, staff: Staff, args: dict[str, Any], page: int | None = None) -> Table:
    """The queue: open requests oldest first (``status=all|closed|<status>`` for others)."""
    stmt = (select(SupportRequest, Member.name, Member.phone, Group.code, Centre.name, Centre.target_days,
                   Staff.name)
            .join(Member, Member.id == SupportRequest.member_id)
            .outerjoin(Group, Group.id == SupportRequest.group_id)
            .outerjoin(Centre, Centre.id == SupportRequest.centre_id)
            .outerjoin(Staff, Staff.id == SupportRequest.assigned_to_id)
            .where(desk.request_filter(staff)))
    status = args.get("status") or "open"
    if status == "open":
        stmt = stmt.where(SupportRequest.status.in_(OPEN_STATUSES))
    elif status in {s.value for s in RequestStatus}:
        stmt = stmt.where(SupportRequest.status == RequestStatus(status))
    if args.get("mine"):
        stmt = stmt.where(SupportRequest.assigned_to_id == staff.id)
    centre_id = _int(args.get("centre"))
    if centre_id is not None:
        stmt = stmt.where(SupportRequest.centre_id == centre_id)
    if args.get("category") in {c.value for c in Category}:
        stmt = stmt.where(SupportRequest.category == Category(args["category"]))
    stmt = stmt.order_by(SupportRequest.id)
    if page is not None:
        stmt = stmt.limit(PAGE + 1).offset((page - 1) * PAGE)
    found = session.execute(stmt).all()
    more = page is not None and len(found) > PAGE
    now = dt.datetime.now(dt.UTC)
    rows = []
    for req, name, phone, code, centre, target, assignee in found[:PAGE] if page is not None else found:
        created = req.created_at if req.created_at.tzinfo else req.created_at.replace(tzinfo=dt.UTC)
        rows.append(dict(ref=req.ref, person=name, phone=phone or "", group=code or "",
                         category=CATEGORY_LABELS[req.category], centre=centre or "",
                         age=(now - created).days, status=desk.STATUS_LABELS[req.status],
                         assigned=assignee or "", created=req.created_at,
                         overdue=desk.is_overdue(req, target, now)))
    keep = {k: v for k, v in args.items() if k in ("status", "mine", "centre", "category") and v}
    return Table("desk", N_("Support requests"), [
        Column("ref", N_("Reference"), link=lambda r: url_for("console.desk_request", ref=r["ref"])),
        Column("person", N_("Person")),
        Column("phone", N_("Phone"), wide=True),
        Column("group", N_("Group")),
        Column("category", N_("Help"), "label"),
        Column("centre", N_("Centre"), wide=True),
        Column("age", N_("Days waiting"), "number"),
        Column("status", N_("Status"), "label"),
        Column("assigned", N_("Assigned to")),
        Column("created", N_("Asked (UTC)"), "datetime", wide=True),
    ], rows, keep, more)


@bp.get("/desk", endpoint="desk")
@staff_required
def desk_page() -> ResponseReturnValue:
    staff = logged_in_staff()
    page = max(1, request.args.get("page", 1, type=int))
    args = request.args.to_dict()
    with services().db.transaction() as s:
        table = desk_table(s, staff, args, page)
        centres = _centres(s)
    return render_template("console/desk.html", table=table, centres=centres, args=args, page=page,
                           categories=CATEGORY_LABELS, statuses=desk.STATUS_LABELS,
                           can_manage=desk.can_manage(staff))


def _request_or_404(session: Session, staff: Staff, ref: str) -> SupportRequest:
    req = session.scalar(select(SupportRequest).options(joinedload(SupportRequest.member),
                                                        joinedload(SupportRequest.group),
                                                        joinedload(SupportRequest.centre))
                         .where(SupportRequest.ref == ref.upper(), desk.request_filter(staff)))
    if req is None:
        abort(404)
    return req


@bp.get("/desk/<ref>")
@staff_required
def desk_request(ref: str) -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as s:
        req = _request_or_404(s, staff, ref)
        notes = list(s.scalars(select(SupportNote).where(SupportNote.request_id == req.id)
                               .order_by(SupportNote.id)))
        ids = ({n.staff_id for n in notes} | {req.assigned_to_id}) - {None}
        names = dict(s.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids))).all()) if ids else {}
        sms = list(s.scalars(select(OutboxMessage).where(  # hers only (not the coordinators' notes)
            OutboxMessage.dedupe_key.like(f"support:{req.ref}:%"),
            OutboxMessage.to_phone == (req.member.phone or "")).order_by(OutboxMessage.id)))
        people = desk.assignable_staff(s, req) if desk.can_manage(staff) else []
        target = req.centre.target_days if req.centre else None
        overdue = desk.is_overdue(req, target)
        s.expunge_all()
    return render_template("console/desk_request.html", req=req, notes=notes, sms=sms, people=people,
                           overdue=overdue, categories=CATEGORY_LABELS, statuses=desk.STATUS_LABELS,
                           outcomes=desk.OUTCOME_LABELS, can_manage=desk.can_manage(staff),
                           can_work=desk.can_work(staff, req), role_labels=_role_labels(), names=names,
                           sms_labels=OUT_LABELS)


def _role_labels() -> dict[StaffRole, str]:
    from console.models import STAFF_ROLE_LABELS

    return STAFF_ROLE_LABELS


def _back(ref: str) -> WerkzeugResponse:
    return redirect(url_for("console.desk_request", ref=ref), code=303)


def _snapshot(req: SupportRequest) -> dict[str, Any]:
    return {"status": req.status.value, "assigned_to_id": req.assigned_to_id,
            "outcome": req.outcome.value if req.outcome else None}


@bp.post("/desk/<ref>/assign")
@staff_required
def desk_assign(ref: str) -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as s:
        req = _request_or_404(s, staff, ref)
        take = request.form.get("take") == "1"
        if take:  # "I take it": anyone who sees an unassigned request may take it herself
            if req.assigned_to_id is not None:
                abort(400)
            to = s.get_one(Staff, staff.id)
        else:
            if not desk.can_manage(staff):
                abort(404)
            chosen = s.get(Staff, _int(request.form.get("staff_id")) or 0)
            if chosen is None or chosen.id not in {p.id for p in desk.assignable_staff(s, req)}:
                flash(_("Choose someone from the list."), "error")
                return _back(req.ref)
            to = chosen
        if req.status == RequestStatus.CLOSED:
            flash(_("This request is closed."), "error")
            return _back(req.ref)
        before = _snapshot(req)
        if desk.assign(s, req, to):
            record(s, "support.assign", f"support {req.ref}", before, _snapshot(req), group_id=req.group_id)
            name = to.name
        else:
            name = None
    if name:
        flash(_("Request {ref} is now with {name}.", ref=req.ref, name=name), "info")
    return _back(req.ref)


@bp.post("/desk/<ref>/start")
@staff_required
def desk_start(ref: str) -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as s:
        req = _request_or_404(s, staff, ref)
        if not desk.can_work(staff, req):
            abort(404)
        if req.status != RequestStatus.ASSIGNED:
            flash(_("Only an assigned request can be started."), "error")
            return _back(req.ref)
        before = _snapshot(req)
        desk.start(s, req)
        record(s, "support.start", f"support {req.ref}", before, _snapshot(req), group_id=req.group_id)
    return _back(req.ref)


@bp.post("/desk/<ref>/close")
@staff_required
def desk_close(ref: str) -> ResponseReturnValue:
    staff = logged_in_staff()
    outcome = request.form.get("outcome", "")
    note = request.form.get("note", "").strip()
    with services().db.transaction() as s:
        req = _request_or_404(s, staff, ref)
        if not desk.can_work(staff, req):
            abort(404)
        if outcome not in {o.value for o in Outcome}:
            flash(_("Choose how the request ended."), "error")
            return _back(req.ref)
        if req.status == RequestStatus.CLOSED:
            flash(_("This request is closed."), "error")
            return _back(req.ref)
        before = _snapshot(req)
        desk.close(s, req, Outcome(outcome))
        if note:
            desk.add_note(s, req, staff, note)
        record(s, "support.close", f"support {req.ref}", before, _snapshot(req), group_id=req.group_id)
    flash(_("Request {ref} is closed; the person is told by SMS.", ref=req.ref), "info")
    return _back(req.ref)


@bp.post("/desk/<ref>/note")
@staff_required
def desk_note(ref: str) -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as s:
        req = _request_or_404(s, staff, ref)
        text = request.form.get("text", "")
        if not text.strip():
            flash(_("A note needs some text."), "error")
            return _back(req.ref)
        note = desk.add_note(s, req, staff, text)
        record(s, "support.note", f"support {req.ref}", None, {"note_id": note.id}, group_id=req.group_id)
    return _back(req.ref)


# -- walk-ins ---------------------------------------------------------------------

@bp.route("/desk/walk-in", methods=["GET", "POST"])
@staff_required
def desk_walk_in() -> ResponseReturnValue:
    staff = logged_in_staff()
    form = request.form.to_dict() if request.method == "POST" else {"language": tr().lang}
    errors: dict[str, str] = {}
    with services().db.transaction() as s:
        centres = _centres(s)
        if request.method == "POST":
            if form.get("category") not in {c.value for c in Category}:
                errors["category"] = _("Choose the help she asks for.")
            if form.get("language") not in LANGUAGES:
                errors["language"] = _("Choose one of the languages in the list.")
            if not form.get("name", "").strip():
                errors["name"] = _("A person needs a name.")
            centre = s.get(Centre, _int(form.get("centre_id")) or 0)
            if centre is None and not desk.can_manage(staff):
                centre = s.get(Centre, staff.centre_id) if staff.centre_id else None
            if centre is None and centres:
                errors["centre_id"] = _("Choose a centre.")
            elif centre is not None and not desk.can_manage(staff) and centre.id != staff.centre_id:
                errors["centre_id"] = _("Choose your own centre.")
            if not errors:
                try:
                    with s.begin_nested():
                        walk = desk.register_walk_in(
                            s, name=form["name"], phone=form.get("phone", ""), language=form["language"],
                            category=Category(form["category"]), centre=centre, by=s.get(Staff, staff.id),
                            country=form.get("country") or None)
                except PhoneError as exc:
                    errors["phone"] = explain(tr(), exc)
                else:
                    record(s, "support.walk_in", f"support {walk.request.ref}", None,
                           {"member_id": walk.member.id, "category": walk.request.category.value,
                            "centre_id": walk.request.centre_id})
                    if form.get("note", "").strip():
                        desk.add_note(s, walk.request, s.get(Staff, staff.id), form["note"])
                    ref, known, name = walk.request.ref, walk.known, walk.member.name
        status = 400 if errors else 200
        if request.method == "GET" or errors:
            default_centre = staff.centre_id
            return render_template("console/desk_walk_in.html", form=form, errors=errors, centres=centres,
                                   categories=CATEGORY_LABELS, languages=LANGUAGES,
                                   default_centre=default_centre), status
    if known:
        flash(_("This phone number is already known as {name}: the request is hers.", name=name), "info")
    flash(_("Request {ref} is registered.", ref=ref), "info")
    return redirect(url_for("console.desk_request", ref=ref), code=303)


# -- centres (a minimal form; the places and coverage pages are elsewhere) ---------------

@bp.route("/desk/centres", methods=["GET", "POST"])
@staff_required(role="admin")
def desk_centres() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    with services().db.transaction() as s:
        if request.method == "POST":
            name = request.form.get("name", "").strip()
            days = _int(request.form.get("target_days"))
            if not name:
                errors["name"] = _("A centre needs a name.")
            elif s.scalar(select(Centre.id).where(Centre.name == name)):
                errors["name"] = _("There is already a centre called {name}.", name=name)
            if days is None or not 1 <= days <= 365:
                errors["target_days"] = _("Give a number of days from 1 to 365.")
            if not errors:
                centre = Centre(name=name, target_days=days, active=True)
                s.add(centre)
                s.flush()
                record(s, "centre.create", f"centre {name}", None, {"name": name, "target_days": days})
                flash(_("Saved."), "info")
                return redirect(url_for("console.desk_centres"), code=303)
        centres = list(s.scalars(select(Centre).order_by(Centre.name)))
        s.expunge_all()
    return render_template("console/desk_centres.html", centres=centres, errors=errors), 400 if errors else 200


# -- counts per category, per centre, per month -------------------------------------

def counts_table(session: Session, staff: Staff, args: dict[str, Any]) -> Table:
    year = _int(args.get("year"))
    centre_id = _int(args.get("centre"))
    names = dict(session.execute(select(Centre.id, Centre.name)).all())
    rows = []
    for row in desk.monthly_counts(session, where=desk.request_filter(staff), year=year, centre_id=centre_id):
        rows.append(dict(month=row.month, centre=names.get(row.centre_id, "") if row.centre_id else "",
                         **{c.value: row.counts[c] for c in Category}, total=row.total))
    keep = {k: v for k, v in (("year", year), ("centre", centre_id)) if v}
    return Table("desk_counts", N_("Support requests per month"), [
        Column("month", N_("Month")),
        Column("centre", N_("Centre")),
        *[Column(c.value, CATEGORY_LABELS[c], "number") for c in Category],
        Column("total", N_("Total"), "number"),
    ], rows, keep)


def stacked_bars(title: str, months: list[str], series: list[tuple[str, str, list[int]]],
                 fmt: Callable[[int], str]) -> str:
    """An SVG bar per month, stacked by category (``series``: css class, label, values). Server-drawn
    like reports.charts: no script; the legend and labels are translated text, escaped."""
    from html import escape

    width, height, left, right, top, bottom = 640, 220, 8, 8, 24, 40
    totals = [sum(v[i] for _c, _l, v in series) for i in range(len(months))]
    peak = max(totals, default=0) or 1
    inner_w, inner_h = width - left - right, height - top - bottom
    n = max(len(months), 1)
    bar = max(inner_w / n - 4, 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart" '
             f'id="desk-chart" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{top + inner_h}" x2="{width - right}" y2="{top + inner_h}" class="axis"/>']
    for i, month in enumerate(months):
        x = left + inner_w * i / n + 2
        y: float = top + inner_h
        for css, label, values in series:
            h = inner_h * values[i] / peak
            if h:
                parts.append(f'<rect x="{x:.1f}" y="{y - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                             f'class="{css}"><title>{escape(label)}: {escape(fmt(values[i]))}</title></rect>')
            y -= h
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" class="max">'
                     f'{escape(fmt(totals[i]))}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                     f'class="week">{escape(month)}</text>')
    lx = left
    for css, label, _values in series:
        parts.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" class="{css}"/>'
                     f'<text x="{lx + 14}" y="{height - 5}" class="week">{escape(label)}</text>')
        lx += 16 + 7 * len(label)
    parts.append("</svg>")
    return "".join(parts)


@bp.get("/desk/figures", endpoint="support_figures")
@staff_required
def desk_counts() -> ResponseReturnValue:
    staff = logged_in_staff()
    args = request.args.to_dict()
    with services().db.transaction() as s:
        table = counts_table(s, staff, args)
        centres = _centres(s)
    by_month: dict[str, dict[str, int]] = {}
    for row in table.rows:
        month = by_month.setdefault(row["month"], {c.value: 0 for c in Category})
        for c in Category:
            month[c.value] += row[c.value]
    months = sorted(by_month)[-12:]
    t = tr()
    series = [(f"cat-{c.value}", t.gettext(CATEGORY_LABELS[c]), [by_month[m][c.value] for m in months])
              for c in Category]
    chart = stacked_bars(t.gettext("Support requests per month"), months, series, t.number)
    totals = {c.value: sum(r[c.value] for r in table.rows) for c in Category}
    return render_template("console/desk_counts.html", table=table, chart=chart, centres=centres, args=args,
                           totals=totals, total=sum(totals.values()))


TABLES["desk"] = lambda session, staff, args: desk_table(session, staff, args)
TABLES["desk_counts"] = counts_table
