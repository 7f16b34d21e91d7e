"""Programmes in the console: the report (by region, category, gender, month; CSV/XLSX), training
sessions and their attendance, beneficiaries and their stages, grants waiting for confirmation.

Scope: an admin sees the whole programme; a coordinator the beneficiaries of her groups (those
enrolled on their own, outside any group, are the admins'). Vulnerability categories are shown
per person to admins only: a coordinator's pages and exports never carry them; the report shows
them as counts, masked under 5 (programmes.reports).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from console.audit import ACTIONS, record
from console.auth import logged_in_staff, staff_required
from console.blueprint import bp
from console.models import Staff
from console.scope import group_filter
from console.tables import TABLES, Column, Table
from console.web import NAV, _, services
from groups.models import Group, Member, Membership, Status
from i18n import N_
from orgs.models import FieldRole, FieldWorker
from programmes import metrics as _project_metrics  # noqa: F401  (registers project actuals)
from programmes.models import (
    CATEGORIES,
    STAGE_LABELS,
    Attendance,
    Course,
    Enrolment,
    Grant,
    GrantStatus,
    MemberCategory,
    Programme,
    ProgrammeGroup,
    StageReached,
    TrainingSession,
)
from programmes.reports import (
    DIMENSIONS,
    METRIC_LABELS,
    METRICS,
    mask,
    mask_counts,
    mask_trades,
    programme_report,
)
from programmes.service import ProgrammeError, add_session, reach, record_attendance

NAV.insert(2, ("console.programmes", N_("Programmes"), None))
ACTIONS.update({
    "programme.session": N_("Training session added"),
    "programme.attendance": N_("Attendance recorded"),
    "programme.stage": N_("Stage marked"),
    "programme.grant": N_("Grant recorded"),
    "programme.business": N_("Business recorded"),
    "programme.award": N_("Award recorded"),
    "programme.enrol": N_("Group enrolled"),
})
GRANT_LABELS = {GrantStatus.PENDING.value: N_("Not confirmed"), GrantStatus.CONFIRMED.value: N_("Confirmed"),
                GrantStatus.DISPUTED.value: N_("She says it did not arrive")}
PAGE = 50


# -- scope -------------------------------------------------------------------------------

def scope_groups(staff: Staff) -> Select[int] | None:
    """A SELECT of the group ids ``staff`` may see, or None for the whole programme (an admin)."""
    if staff.is_admin:
        return None
    return select(Group.id).where(group_filter(staff))


def visible_programmes(session: Session, staff: Staff) -> list[Programme]:
    q = select(Programme).order_by(Programme.name)
    groups = scope_groups(staff)
    if groups is not None:
        q = q.where(Programme.id.in_(select(ProgrammeGroup.programme_id).where(ProgrammeGroup.group_id.in_(groups))))
    return list(session.scalars(q))


def programme_or_404(session: Session, staff: Staff, programme_id: Any) -> Programme:
    try:
        pid = int(programme_id or 0)
    except (TypeError, ValueError):
        abort(404)
    found = next((p for p in visible_programmes(session, staff) if p.id == pid), None)
    if found is None:
        abort(404)
    return found


def _scoped_enrolments(staff: Staff, programme: Programme) -> Select[Enrolment]:
    q = select(Enrolment).where(Enrolment.programme_id == programme.id)
    groups = scope_groups(staff)
    return q if groups is None else q.where(Enrolment.group_id.in_(groups))


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


# -- tables (pages and exports) ------------------------------------------------------------------

def report_table(session: Session, staff: Staff, args: dict[str, Any]) -> Table:
    programme = programme_or_404(session, staff, args.get("programme_id"))
    by = str(args["by"]) if args.get("by") in DIMENSIONS else "region"
    start, end = _date(args.get("start")), _date(args.get("end"))
    report = programme_report(session, programme.id, by=by, groups=scope_groups(staff), start=start, end=end)
    rows, total = mask(report)
    out = [dict(key=k, **counts) for k, counts in rows]
    out.append(dict(key=N_("All"), **total))
    columns = [Column("key", DIMENSIONS[by], "label")]  # msgids (categories ...) or names (regions, months)
    columns += [Column(m, METRIC_LABELS[m], "number") for m in METRICS]
    kept = {k: v for k, v in dict(programme_id=programme.id, by=by, start=args.get("start"),
                                  end=args.get("end")).items() if v}
    table = Table("programme_report", N_("Programme report"), columns, out, kept)
    table.stages = mask_counts({c: report.stages.get(c, 0) for c in programme.stages})  # type: ignore[attr-defined]
    table.trades = mask_trades(report.trades)  # type: ignore[attr-defined]
    return table


def trades_table(session: Session, staff: Staff, args: dict[str, Any]) -> Table:
    base = report_table(session, staff, args)
    return Table("programme_trades", N_("Equipped by trade"), [
        Column("trade", N_("Trade")),
        Column("people", N_("People equipped"), "number"),
        Column("grants", N_("Grants"), "number"),
        Column("confirmed", N_("Confirmed"), "number"),
        Column("pending", N_("Not confirmed"), "number"),
        Column("disputed", N_("Disputed"), "number"),
        Column("value", N_("Value"), "money"),
    ], base.trades, base.args)  # type: ignore[attr-defined]


def beneficiaries_table(session: Session, staff: Staff, args: dict[str, Any], page: int | None = None) -> Table:
    """Who is enrolled and how far she got; categories only for an admin."""
    programme = programme_or_404(session, staff, args.get("programme_id"))
    q = (_scoped_enrolments(staff, programme).add_columns(Member.name, Member.phone, Member.gender, Group.code)
         .join(Member, Member.id == Enrolment.member_id).outerjoin(Group, Group.id == Enrolment.group_id)
         .order_by(Enrolment.id))
    if page is not None:
        q = q.limit(PAGE + 1).offset((page - 1) * PAGE)
    found = session.execute(q).all()
    more = page is not None and len(found) > PAGE
    found = found[:PAGE] if page is not None else found
    ids = [e.id for e, *_ in found]
    stages: dict[int, list[str]] = {}
    for eid, stage in session.execute(select(StageReached.enrolment_id, StageReached.stage)
                                      .where(StageReached.enrolment_id.in_(ids))):
        stages.setdefault(eid, []).append(stage)
    rows = []
    for e, name, phone, gender, code in found:
        order = programme.stages or []
        reached = [s for s in order if s in stages.get(e.id, [])]
        rows.append(dict(id=e.id, member_id=e.member_id, name=name, phone=phone, group=code or "",
                         region=e.region or "", gender=gender or "", enrolled_on=e.enrolled_on,
                         trained_on=e.trained_on, completed_on=e.completed_on, equipped_on=e.equipped_on,
                         confirmed_on=e.confirmed_on, stage=STAGE_LABELS.get(reached[-1], reached[-1]) if reached else ""))
    columns = [Column("name", N_("Name"), link=lambda r: url_for("console.programme_beneficiary",
                                                                  programme_id=programme.id, enrolment_id=r["id"])),
               Column("phone", N_("Phone")), Column("group", N_("Group")),
               Column("region", N_("Region"), wide=True), Column("stage", N_("Stage"), "label"),
               Column("enrolled_on", N_("Enrolled"), "date", wide=True),
               Column("completed_on", N_("Completed training"), "date"),
               Column("confirmed_on", N_("Grant confirmed"), "date", wide=True)]
    if staff.is_admin:  # sensitive: per person, admins only
        cats: dict[int, list[str]] = {}
        for mid, cat in session.execute(select(MemberCategory.member_id, MemberCategory.category)
                                        .where(MemberCategory.member_id.in_([r["member_id"] for r in rows]))):
            cats.setdefault(mid, []).append(cat)
        for r in rows:
            r["categories"] = ", ".join(_(CATEGORIES[c]) for c in sorted(cats.get(r["member_id"], [])))
        columns.append(Column("categories", N_("Category")))
    return Table("programme_beneficiaries", N_("Beneficiaries"), columns, rows,
                 {"programme_id": programme.id}, more)


def grants_table(session: Session, staff: Staff, args: dict[str, Any]) -> Table:
    """Grants not confirmed by the beneficiary (flagged): pending, and disputed first."""
    programme = programme_or_404(session, staff, args.get("programme_id"))
    q = (select(Grant, Member.name, Member.phone).join(Enrolment, Enrolment.id == Grant.enrolment_id)
         .join(Member, Member.id == Enrolment.member_id)
         .where(Grant.programme_id == programme.id, Grant.status != GrantStatus.CONFIRMED)
         .order_by(Grant.status, Grant.given_on).limit(1000))
    groups = scope_groups(staff)
    if groups is not None:
        q = q.where(Enrolment.group_id.in_(groups))
    rows = [dict(name=name, phone=phone, trade=g.trade.name, items=g.items, value=g.value, currency=g.currency,
                 given_on=g.given_on, status=GRANT_LABELS[g.status.value]) for g, name, phone in session.execute(q)]
    return Table("programme_grants", N_("Grants not confirmed"), [
        Column("name", N_("Name")), Column("phone", N_("Phone")), Column("trade", N_("Trade")),
        Column("items", N_("Items")), Column("value", N_("Value"), "money"),
        Column("given_on", N_("Given"), "date"), Column("status", N_("State"), "label"),
    ], rows, {"programme_id": programme.id})


TABLES.update({"programme_report": report_table, "programme_trades": trades_table,
               "programme_beneficiaries": beneficiaries_table, "programme_grants": grants_table})


# -- pages -------------------------------------------------------------------------------------

@bp.get("/programmes")
@staff_required
def programmes() -> ResponseReturnValue:
    with services().db.transaction() as s:
        found = visible_programmes(s, logged_in_staff())
        return render_template("console/programmes.html", programmes=found)


@bp.get("/programmes/<int:programme_id>")
@staff_required
def programme_page(programme_id: int) -> ResponseReturnValue:
    staff = logged_in_staff()
    args = {k: request.args.get(k, "") for k in ("by", "start", "end")}
    with services().db.transaction() as s:
        programme = programme_or_404(s, staff, programme_id)
        table = report_table(s, staff, dict(args, programme_id=programme.id))
        trades = trades_table(s, staff, dict(args, programme_id=programme.id))
        grants = grants_table(s, staff, {"programme_id": programme.id})
        sessions = _sessions(s, staff, programme)
        return render_template("console/programme.html", programme=programme, table=table, trades=trades,
                               grants=grants, sessions=sessions, args=args, dimensions=DIMENSIONS,
                               stage_labels=STAGE_LABELS)


def _sessions(s: Session, staff: Staff, programme: Programme) -> list[dict[str, Any]]:
    q = (select(TrainingSession, Course.name, Group.code, FieldWorker.name)
         .join(Course, Course.id == TrainingSession.course_id)
         .outerjoin(Group, Group.id == TrainingSession.group_id)
         .outerjoin(FieldWorker, FieldWorker.id == TrainingSession.trainer_id)
         .where(Course.programme_id == programme.id).order_by(TrainingSession.on.desc()).limit(100))
    groups = scope_groups(staff)
    if groups is not None:
        q = q.where(TrainingSession.group_id.in_(groups))
    counts = dict(s.execute(select(Attendance.session_id, func.count()).group_by(Attendance.session_id)
                            .where(Attendance.session_id.in_(select(TrainingSession.id)
                                                             .join(Course).where(Course.programme_id == programme.id))))
                  .all())
    return [dict(id=ts.id, on=ts.on, course=course, group=code or "", trainer=trainer or "", venue=ts.venue,
                 present=int(counts.get(ts.id, 0))) for ts, course, code, trainer in s.execute(q)]


@bp.get("/programmes/<int:programme_id>/beneficiaries")
@staff_required
def programme_beneficiaries(programme_id: int) -> ResponseReturnValue:
    staff = logged_in_staff()
    page = max(1, request.args.get("page", 1, type=int))
    with services().db.transaction() as s:
        programme = programme_or_404(s, staff, programme_id)
        table = beneficiaries_table(s, staff, {"programme_id": programme.id}, page=page)
        return render_template("console/programme_beneficiaries.html", programme=programme, table=table,
                               page=page, stages=[(c, STAGE_LABELS.get(c, c)) for c in programme.stages])


@bp.post("/programmes/<int:programme_id>/beneficiaries/<int:enrolment_id>/stage")
@staff_required
def programme_stage(programme_id: int, enrolment_id: int) -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as s:
        programme = programme_or_404(s, staff, programme_id)
        enrolment = s.scalar(_scoped_enrolments(staff, programme).where(Enrolment.id == enrolment_id))
        stage = request.form.get("stage", "")
        on = _date(request.form.get("on")) or dt.date.today()
        if enrolment is None or stage not in (programme.stages or []):
            abort(404)
        if reach(s, enrolment, stage, on, source="console"):
            record(s, "programme.stage", f"{programme.code} #{enrolment.id}", None,
                   {"stage": stage, "on": on.isoformat()}, group_id=enrolment.group_id)
            flash(_("Stage marked."), "info")
        else:
            flash(_("That stage was already reached."), "info")
    return redirect(url_for("console.programme_beneficiaries", programme_id=programme_id), code=303)


# -- training sessions ------------------------------------------------------------------------------

def _session_form_data(s: Session, staff: Staff, programme: Programme) -> dict[str, Any]:
    groups = list(s.scalars(select(Group).join(ProgrammeGroup, ProgrammeGroup.group_id == Group.id)
                            .where(ProgrammeGroup.programme_id == programme.id, group_filter(staff))
                            .order_by(Group.code)))
    return dict(courses=list(s.scalars(select(Course).where(Course.programme_id == programme.id).order_by(Course.code))),
                groups=groups,
                trainers=list(s.scalars(select(FieldWorker).where(FieldWorker.role == FieldRole.TRAINER,
                                                                   FieldWorker.active.is_(True))
                                        .order_by(FieldWorker.name))))


@bp.route("/programmes/<int:programme_id>/sessions/new", methods=["GET", "POST"])
@staff_required
def programme_session_new(programme_id: int) -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as s:
        programme = programme_or_404(s, staff, programme_id)
        data = _session_form_data(s, staff, programme)
        if request.method == "GET":
            return render_template("console/programme_session_form.html", programme=programme, errors={},
                                   form={}, **data)
        form, errors = request.form, {}
        course = next((c for c in data["courses"] if str(c.id) == form.get("course_id")), None)
        group = next((g for g in data["groups"] if str(g.id) == form.get("group_id")), None)
        trainer = next((t for t in data["trainers"] if str(t.id) == form.get("trainer_id")), None)
        on = _date(form.get("on"))
        if course is None:
            errors["course_id"] = _("Choose a course from the list.")
        if group is None:
            errors["group_id"] = _("Choose a group from the list.")
        if on is None:
            errors["on"] = _("Write the date as YYYY-MM-DD.")
        if errors or course is None or group is None or on is None:
            return render_template("console/programme_session_form.html", programme=programme, errors=errors,
                                   form=form, **data), 400
        ts = add_session(s, course, on, group_id=group.id, trainer_id=trainer.id if trainer else None,
                         venue=form.get("venue", ""))
        record(s, "programme.session", f"{programme.code} session {ts.id}", None,
               {"course": course.code, "on": on.isoformat(), "group": group.code,
                "trainer": trainer.name if trainer else None}, group_id=group.id)
        sid = ts.id
    flash(_("Session {session} added. The trainer records attendance with ATT {session}.", session=sid), "info")
    return redirect(url_for("console.programme_session", programme_id=programme_id, session_id=sid), code=303)


def _session_or_404(s: Session, staff: Staff, programme: Programme, session_id: int) -> TrainingSession:
    ts = s.scalar(select(TrainingSession).join(Course).where(TrainingSession.id == session_id,
                                                             Course.programme_id == programme.id))
    groups = scope_groups(staff)
    if ts is None or (groups is not None and (ts.group_id is None or s.scalar(
            select(Group.id).where(Group.id == ts.group_id, group_filter(staff))) is None)):
        abort(404)
    return ts


def _roster(s: Session, programme: Programme, ts: TrainingSession) -> list[dict[str, Any]]:
    """The session group's enrolled members, with whether each was present."""
    present = set(s.scalars(select(Attendance.enrolment_id).where(Attendance.session_id == ts.id)))
    q = (select(Enrolment, Member.name, Membership.number)
         .join(Member, Member.id == Enrolment.member_id)
         .join(Membership, (Membership.member_id == Member.id) & (Membership.group_id == ts.group_id))
         .where(Enrolment.programme_id == programme.id, Membership.status == Status.ACTIVE)
         .order_by(Membership.number))
    return [dict(id=e.id, name=name, number=number, present=e.id in present, completed=e.completed_on is not None)
            for e, name, number in s.execute(q)]


@bp.route("/programmes/<int:programme_id>/sessions/<int:session_id>", methods=["GET", "POST"])
@staff_required
def programme_session(programme_id: int, session_id: int) -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as s:
        programme = programme_or_404(s, staff, programme_id)
        ts = _session_or_404(s, staff, programme, session_id)
        roster = _roster(s, programme, ts)
        if request.method == "GET":
            return render_template("console/programme_session.html", programme=programme, ts=ts, roster=roster,
                                   group=s.get(Group, ts.group_id) if ts.group_id else None,
                                   trainer=s.get(FieldWorker, ts.trainer_id) if ts.trainer_id else None)
        chosen = {int(x) for x in request.form.getlist("present") if x.isdigit()}
        allowed = {r["id"]: r for r in roster}
        if not chosen <= set(allowed):
            abort(400)
        enrolments = list(s.scalars(select(Enrolment).where(Enrolment.id.in_(chosen)))) if chosen else []
        try:
            marked = record_attendance(s, ts, enrolments, source="console")
        except ProgrammeError as err:
            abort(400, err.msgid)
        if marked.added:
            record(s, "programme.attendance", f"{programme.code} session {ts.id}", None,
                   {"present": sorted(allowed[e.id]["number"] for e in marked.added)}, group_id=ts.group_id)
        added, completed = len(marked.added), len(marked.completed)
    flash(_("Attendance recorded: {added} added, {completed} completed the training.", added=added,
            completed=completed), "info")
    return redirect(url_for("console.programme_session", programme_id=programme_id, session_id=session_id), code=303)


# -- one beneficiary: grants, businesses, awards; enrolling a group ---------------------------------

def _enrolment_or_404(s: Session, staff: Staff, programme: Programme, enrolment_id: int) -> Enrolment:
    found = s.scalar(_scoped_enrolments(staff, programme).where(Enrolment.id == enrolment_id))
    if found is None:
        abort(404)
    return found


def _money(text: str | None, currency: str) -> int | None:
    from ledger.money import AmountError, parse_amount

    try:
        return parse_amount(text or "", currency)
    except AmountError:
        return None


@bp.get("/programmes/<int:programme_id>/beneficiaries/<int:enrolment_id>")
@staff_required
def programme_beneficiary(programme_id: int, enrolment_id: int) -> ResponseReturnValue:
    from programmes.models import Award, Business, StageReached, Trade
    from programmes.service import programme_trades

    staff = logged_in_staff()
    with services().db.transaction() as s:
        programme = programme_or_404(s, staff, programme_id)
        e = _enrolment_or_404(s, staff, programme, enrolment_id)
        member = s.get(Member, e.member_id)
        stages = {r.stage: r for r in s.scalars(select(StageReached).where(StageReached.enrolment_id == e.id))}
        grants = list(s.scalars(select(Grant).where(Grant.enrolment_id == e.id).order_by(Grant.given_on)))
        businesses = list(s.scalars(select(Business).where(Business.enrolment_id == e.id).order_by(Business.id)))
        awards = {b.id: list(s.scalars(select(Award).where(Award.business_id == b.id))) for b in businesses}
        categories = [CATEGORIES[c] for c in s.scalars(select(MemberCategory.category)
                                                       .where(MemberCategory.member_id == e.member_id))] \
            if staff.is_admin else None
        return render_template("console/programme_beneficiary.html", programme=programme, e=e, member=member,
                               stages=stages, stage_labels=STAGE_LABELS, grants=grants, businesses=businesses,
                               awards=awards, trades=programme_trades(s, programme), categories=categories,
                               grant_labels=GRANT_LABELS, all_trades={t.id: t for t in s.scalars(select(Trade))},
                               today=dt.date.today())


def _back(programme_id: int, enrolment_id: int) -> WerkzeugResponse:
    return redirect(url_for("console.programme_beneficiary", programme_id=programme_id,
                            enrolment_id=enrolment_id), code=303)


@bp.post("/programmes/<int:programme_id>/beneficiaries/<int:enrolment_id>/grants")
@staff_required
def programme_grant(programme_id: int, enrolment_id: int) -> ResponseReturnValue:
    from programmes.service import give_grant, programme_trades

    staff, form = logged_in_staff(), request.form
    with services().db.transaction() as s:
        programme = programme_or_404(s, staff, programme_id)
        e = _enrolment_or_404(s, staff, programme, enrolment_id)
        trade = next((t for t in programme_trades(s, programme) if str(t.id) == form.get("trade_id")), None)
        value, on = _money(form.get("value"), programme.currency), _date(form.get("on"))
        if trade is None or value is None or on is None:
            flash(_("Choose a trade, and write the value and the date (YYYY-MM-DD)."), "error")
            return _back(programme_id, enrolment_id)
        try:
            grant = give_grant(s, e, trade, form.get("items", ""), value, on)
        except ProgrammeError as err:
            flash(_(err.msgid, **err.params), "error")
            return _back(programme_id, enrolment_id)
        record(s, "programme.grant", f"{programme.code} #{e.id}", None,
               {"trade": trade.code, "items": grant.items, "value": value, "on": on.isoformat()}, group_id=e.group_id)
    flash(_("Grant recorded. She is asked to confirm it the next time she dials."), "info")
    return _back(programme_id, enrolment_id)


@bp.post("/programmes/<int:programme_id>/beneficiaries/<int:enrolment_id>/businesses")
@staff_required
def programme_business(programme_id: int, enrolment_id: int) -> ResponseReturnValue:
    from programmes.service import programme_trades, start_business

    staff, form = logged_in_staff(), request.form
    with services().db.transaction() as s:
        programme = programme_or_404(s, staff, programme_id)
        e = _enrolment_or_404(s, staff, programme, enrolment_id)
        trade = next((t for t in programme_trades(s, programme) if str(t.id) == form.get("trade_id")), None)
        on = _date(form.get("on"))
        if trade is None or on is None:
            flash(_("Choose a trade and write the date (YYYY-MM-DD)."), "error")
            return _back(programme_id, enrolment_id)
        b = start_business(s, programme, trade, on, enrolment=e)
        record(s, "programme.business", f"{programme.code} #{e.id}", None,
               {"business": b.id, "trade": trade.code, "on": on.isoformat()}, group_id=e.group_id)
    flash(_("Business recorded."), "info")
    return _back(programme_id, enrolment_id)


@bp.post("/programmes/<int:programme_id>/beneficiaries/<int:enrolment_id>/businesses/<int:business_id>/awards")
@staff_required
def programme_award(programme_id: int, enrolment_id: int, business_id: int) -> ResponseReturnValue:
    from programmes.models import Business
    from programmes.service import give_award

    staff, form = logged_in_staff(), request.form
    with services().db.transaction() as s:
        programme = programme_or_404(s, staff, programme_id)
        e = _enrolment_or_404(s, staff, programme, enrolment_id)
        b = s.scalar(select(Business).where(Business.id == business_id, Business.enrolment_id == e.id))
        if b is None:
            abort(404)
        amount, on = _money(form.get("amount"), programme.currency), _date(form.get("on"))
        if amount is None or on is None:
            flash(_("Write the value and the date (YYYY-MM-DD)."), "error")
            return _back(programme_id, enrolment_id)
        give_award(s, b, amount, on, form.get("note", "")[:500])
        record(s, "programme.award", f"{programme.code} #{e.id}", None,
               {"business": b.id, "amount": amount, "on": on.isoformat()}, group_id=e.group_id)
    flash(_("Award recorded."), "info")
    return _back(programme_id, enrolment_id)


@bp.post("/programmes/<int:programme_id>/groups")
@staff_required
def programme_enrol_group(programme_id: int) -> ResponseReturnValue:
    from programmes.service import enrol_group

    staff = logged_in_staff()
    with services().db.transaction() as s:
        programme = programme_or_404(s, staff, programme_id)
        group = s.scalar(select(Group).where(Group.code == (request.form.get("code") or "").strip().upper(),
                                             group_filter(staff)))
        if group is None:
            flash(_("There is no group with that code among yours."), "error")
            return redirect(url_for("console.programme_page", programme_id=programme_id), code=303)
        enrolled = enrol_group(s, programme, group, dt.date.today())
        record(s, "programme.enrol", f"{programme.code} {group.code}", None, {"members": len(enrolled)},
               group_id=group.id)
        n = len(enrolled)
    flash(_("{n} members of the group are enrolled.", n=n), "info")
    return redirect(url_for("console.programme_page", programme_id=programme_id), code=303)
