"""Field staff, visits, mobile-team visit plans, lenders and referrals in the console.

- ``/console/field``: field workers (admin): add one, promote a member, assign groups.
- ``/console/visits``: visits per group and per worker; groups nobody visited in
  ``VISIT_ALERT_WEEKS`` weeks are flagged (also on the dashboard and the group page).
- ``/console/visit-plans``: a mobile team's visits (team, place, day), each announced
  to the place's groups by a broadcast sent at the chosen time (admin).
- ``/console/lenders``: lenders' branches and each loan source's condition (admin).
- ``/console/referrals``: referrals in the staff member's groups; she records what the
  lender did (approved, declined, repaid).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from console.audit import record
from console.auth import logged_in_staff, staff_required
from console.blueprint import bp
from console.dashboard import staff_scope
from console.scope import group_filter, group_or_404, visible_group_ids
from console.web import _, services, tr
from field import referrals as refs
from field.errors import FieldError
from field.models import LenderBranch, PlanStatus, Referral, Visit, VisitPlan
from field.plans import cancel_plan, plan_visit
from field.visits import flagged, last_visits, note_text, since_day, unvisited, visits_of
from field.workers import ROLE_LABELS, add_worker, assign, groups_of, promote
from groups.kinds import KIND_LABELS, size_warning, size_warning_of
from groups.models import Group, Member, Status
from groups.phones import try_normalise
from i18n import LANGUAGES, N_
from orgs.conditions import CONDITIONS
from orgs.conditions import NONE as NO_CONDITION
from orgs.models import FieldWorker, Organisation, OrgKind, Place
from reports.read import count_unvisited as kept_unvisited

FLAGGED_ROWS = 200  # the Visits page lists this many flagged groups (the count says how many in all)


def alert_weeks() -> int:
    return int(services().config.VISIT_ALERT_WEEKS)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# -- field workers (admin) -------------------------------------------------------------------

@bp.get("/field")
@staff_required(role="admin")
def field_workers() -> ResponseReturnValue:
    with services().db.transaction() as s:
        workers = list(s.scalars(select(FieldWorker).order_by(FieldWorker.name)))
        counts = dict(s.execute(select(Visit.field_worker_id, func.count()).group_by(Visit.field_worker_id)).all())
        rows = [dict(id=w.id, name=w.name, phone=w.phone, role=ROLE_LABELS[w.role.value], active=w.active,
                     promoted=w.member_id is not None, groups=", ".join(g.code for g in groups_of(s, w)),
                     visits=counts.get(w.id, 0)) for w in workers]
    return render_template("console/field_workers.html", rows=rows, roles=ROLE_LABELS, languages=LANGUAGES,
                           form=request.args)


@bp.post("/field")
@staff_required(role="admin")
def field_worker_add() -> ResponseReturnValue:
    form = request.form
    try:
        with services().db.transaction() as s:
            if form.get("member_phone"):
                phone = try_normalise(form["member_phone"]) or ""
                member = s.scalar(select(Member).where(Member.phone == phone, Member.status == Status.ACTIVE))
                if member is None:
                    raise FieldError("no_member", N_("There is no member with phone {phone}."),
                                     phone=form["member_phone"][:20])
                worker = promote(s, member, form.get("role", ""))
            else:
                worker = add_worker(s, phone=form.get("phone", ""), name=form.get("name", ""),
                                    role=form.get("role", ""), language=form.get("language", "en"))
            record(s, "field_worker.add", f"{worker.name} {worker.phone}", None,
                   {"name": worker.name, "phone": worker.phone, "role": worker.role.value,
                    "member_id": worker.member_id})
            worker_id = worker.id
    except FieldError as exc:
        flash(exc.render(tr()), "error")
        return redirect(url_for("console.field_workers"), code=303)
    flash(_("Field worker added."), "info")
    return redirect(url_for("console.field_worker", worker_id=worker_id), code=303)


@bp.get("/field/<int:worker_id>")
@staff_required(role="admin")
def field_worker(worker_id: int) -> ResponseReturnValue:
    with services().db.transaction() as s:
        worker = s.get(FieldWorker, worker_id) or abort(404)
        mine = {g.id for g in groups_of(s, worker)}
        groups = list(s.scalars(select(Group).where(Group.status == Status.ACTIVE).order_by(Group.code)))
        visits = [dict(on=v.visited_on, group=code, note=note_text(tr(), v.note), channel=v.channel)
                  for v, _name, code in visits_of(s, worker_id=worker.id)]
        view = dict(id=worker.id, name=worker.name, phone=worker.phone, role=ROLE_LABELS[worker.role.value])
    return render_template("console/field_worker.html", worker=view, groups=groups, mine=mine, visits=visits)


@bp.post("/field/<int:worker_id>/groups")
@staff_required(role="admin")
def field_worker_groups(worker_id: int) -> ResponseReturnValue:
    ids = [int(x) for x in request.form.getlist("group_id") if x.isdigit()]
    try:
        with services().db.transaction() as s:
            worker = s.get(FieldWorker, worker_id) or abort(404)
            before = [g.id for g in groups_of(s, worker)]
            kept = assign(s, worker, ids)
            record(s, "field_worker.groups", f"{worker.name} {worker.phone}", {"groups": before}, {"groups": kept})
    except FieldError as exc:
        flash(exc.render(tr()), "error")
        return redirect(url_for("console.field_worker", worker_id=worker_id), code=303)
    flash(_("Saved."), "info")
    return redirect(url_for("console.field_worker", worker_id=worker_id), code=303)


# -- visits -------------------------------------------------------------------------------------

@bp.get("/visits")
@staff_required
def visits() -> ResponseReturnValue:
    staff = logged_in_staff()
    weeks = alert_weeks()
    with services().db.transaction() as s:
        found = unvisited(s, _today(), weeks, where=group_filter(staff), limit=FLAGGED_ROWS)
        counts = dict(s.execute(select(Visit.group_id, func.count()).where(
            Visit.group_id.in_([u.group.id for u in found] or [-1])).group_by(Visit.group_id)).all())
        rows = [dict(id=u.group.id, code=u.group.code, name=u.group.name, last=u.last,
                     visits=counts.get(u.group.id, 0), flagged=True) for u in found]
        total = kept_unvisited(s, staff_scope(s, staff), since_day(_today(), weeks)) if weeks > 0 else 0
        ids = visible_group_ids(s, staff)
        recent = [dict(on=v.visited_on, group=code, gid=v.group_id, worker=name or "", note=note_text(tr(), v.note))
                  for v, name, code in visits_of(s, limit=500) if ids is None or v.group_id in ids][:50]
    return render_template("console/visits.html", rows=rows, recent=recent, weeks=weeks, total=total)


def field_panel(group: Group, known: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the group page shows of field work: its kind, size warning, visits, flag, referrals.

    ``known``: what the group page's one statement read (``console.groups.page_lists``): the
    group's ten latest visits as (day, worker's name, note), newest first, its active members
    and its loan condition; without it, they are read here."""
    if known is not None:
        visits = known["visits"]
        last = visits[0][0] if visits else None  # the newest visit's day: the latest
        warning = size_warning_of(group, known["active_members"])
        return dict(kind=KIND_LABELS.get(group.kind.value, group.kind.value),
                    size_warning=warning.render(tr()) if warning else None,
                    last=last, flagged=flagged(group, last, _today(), alert_weeks()), weeks=alert_weeks(),
                    visits=[dict(on=on, worker=name or "", note=note_text(tr(), note)) for on, name, note in visits],
                    condition=known["condition"] or NO_CONDITION)
    with services().db.transaction() as s:
        group = s.get_one(Group, group.id)
        last = last_visits(s, [group.id]).get(group.id)
        warning = size_warning(s, group)
        return dict(kind=KIND_LABELS.get(group.kind.value, group.kind.value),
                    size_warning=warning.render(tr()) if warning else None,
                    last=last, flagged=flagged(group, last, _today(), alert_weeks()), weeks=alert_weeks(),
                    visits=[dict(on=v.visited_on, worker=name or "", note=note_text(tr(), v.note))
                            for v, name, _code in visits_of(s, group_id=group.id, limit=10)],
                    condition=refs.condition_of(s, group=group))


def unvisited_count() -> int:
    """Groups in the staff member's scope nobody has visited in VISIT_ALERT_WEEKS weeks (the groups list;
    the dashboard reads it in its own statement): the kept ``quiet_on`` of each group, an index range."""
    weeks = alert_weeks()
    if weeks <= 0:
        return 0
    staff = logged_in_staff()
    with services().db.transaction() as s:
        return kept_unvisited(s, staff_scope(s, staff), since_day(_today(), weeks))


@bp.app_context_processor
def _field_helpers() -> dict[str, object]:
    return {"field_panel": field_panel, "unvisited_count": unvisited_count, "loan_conditions": lambda: CONDITIONS}


# -- visit plans (admin) --------------------------------------------------------------------------

@bp.get("/visit-plans")
@staff_required(role="admin")
def visit_plans() -> ResponseReturnValue:
    with services().db.transaction() as s:
        rows = [dict(id=p.id, team=p.team, place=name, on=p.visit_on, at=p.announce_at, status=p.status.value)
                for p, name in s.execute(select(VisitPlan, Place.name).join(Place, Place.id == VisitPlan.place_id)
                                         .order_by(VisitPlan.visit_on.desc(), VisitPlan.id.desc()).limit(200))]
        places = list(s.execute(select(Place.id, Place.name, Place.level).order_by(Place.path)).all())
    return render_template("console/visit_plans.html", rows=rows, places=places, form=request.args)


@bp.post("/visit-plans")
@staff_required(role="admin")
def visit_plan_add() -> ResponseReturnValue:
    form = request.form
    try:
        day = dt.date.fromisoformat(form.get("visit_on", ""))
        at = dt.datetime.fromisoformat(form.get("announce_at", "")).replace(tzinfo=dt.UTC)
        place_id = int(form.get("place_id", ""))
    except ValueError:
        flash(_("Write the day, the announcement's time and the place."), "error")
        return redirect(url_for("console.visit_plans"), code=303)
    try:
        with services().db.transaction() as s:
            plan = plan_visit(s, team=form.get("team", ""), place_id=place_id, visit_on=day, announce_at=at,
                              sender=form.get("sender", "").strip() or "Kassa", staff_id=logged_in_staff().id,
                              today=_today())
            record(s, "visit_plan.add", f"{plan.team} {plan.visit_on}", None,
                   {"team": plan.team, "place_id": plan.place_id, "visit_on": plan.visit_on.isoformat(),
                    "announce_at": plan.announce_at.isoformat(), "broadcast_id": plan.broadcast_id})
    except FieldError as exc:
        flash(exc.render(tr()), "error")
        return redirect(url_for("console.visit_plans"), code=303)
    flash(_("The visit is planned; its announcement goes at the time set."), "info")
    return redirect(url_for("console.visit_plans"), code=303)


@bp.post("/visit-plans/<int:plan_id>/cancel")
@staff_required(role="admin")
def visit_plan_cancel(plan_id: int) -> ResponseReturnValue:
    with services().db.transaction() as s:
        plan = s.get(VisitPlan, plan_id) or abort(404)
        if cancel_plan(s, plan):
            record(s, "visit_plan.cancel", f"{plan.team} {plan.visit_on}", {"status": "planned"},
                   {"status": PlanStatus.CANCELLED.value})
    return redirect(url_for("console.visit_plans"), code=303)


# -- lenders (admin) ------------------------------------------------------------------------------

@bp.get("/lenders")
@staff_required(role="admin")
def lenders() -> ResponseReturnValue:
    with services().db.transaction() as s:
        orgs = list(s.scalars(select(Organisation).where(Organisation.kind == OrgKind.LENDER)
                              .order_by(Organisation.name)))
        rows = []
        for org in orgs:
            branches = list(s.scalars(select(LenderBranch).where(LenderBranch.organisation_id == org.id)
                                      .order_by(LenderBranch.name)))
            rows.append(dict(id=org.id, name=org.name, condition=refs.condition_of(s, organisation_id=org.id),
                             branches=[dict(name=b.name, phone=b.phone, address=b.address) for b in branches]))
        places = list(s.execute(select(Place.id, Place.name, Place.level).order_by(Place.path)).all())
    return render_template("console/lenders.html", rows=rows, places=places, conditions=CONDITIONS)


@bp.post("/lenders/<int:org_id>/branches")
@staff_required(role="admin")
def lender_branch_add(org_id: int) -> ResponseReturnValue:
    form = request.form
    try:
        with services().db.transaction() as s:
            org = s.get(Organisation, org_id) or abort(404)
            place_id = int(form["place_id"]) if form.get("place_id", "").isdigit() else None
            branch = refs.add_branch(s, org, name=form.get("name", ""), phone=form.get("phone", ""),
                                     address=form.get("address", ""), place_id=place_id)
            record(s, "lender.branch", f"{org.name} {branch.name}", None,
                   {"name": branch.name, "phone": branch.phone, "address": branch.address, "place_id": place_id})
    except FieldError as exc:
        flash(exc.render(tr()), "error")
        return redirect(url_for("console.lenders"), code=303)
    flash(_("Saved."), "info")
    return redirect(url_for("console.lenders"), code=303)


@bp.post("/lenders/<int:org_id>/condition")
@staff_required(role="admin")
def lender_condition(org_id: int) -> ResponseReturnValue:
    return _set_condition(organisation_id=org_id, back=url_for("console.lenders"))


@bp.post("/groups/<int:group_id>/loan-condition")
@staff_required(role="admin")
def group_loan_condition(group_id: int) -> ResponseReturnValue:
    return _set_condition(group_id=group_id, back=url_for("console.group_page", group_id=group_id) + "#field")


def _set_condition(*, back: str, group_id: int | None = None, organisation_id: int | None = None
                   ) -> ResponseReturnValue:
    name = request.form.get("condition", "")
    try:
        with services().db.transaction() as s:
            group = group_or_404(s, logged_in_staff(), group_id) if group_id is not None else None
            if organisation_id is not None and s.get(Organisation, organisation_id) is None:
                abort(404)
            before = refs.condition_of(s, group=group, organisation_id=organisation_id)
            after = refs.set_condition(s, name, group=group, organisation_id=organisation_id)
            record(s, "loan.condition", f"group {group.code}" if group else f"lender {organisation_id}",
                   {"condition": before}, {"condition": after}, group_id=group_id)
    except FieldError as exc:
        flash(exc.render(tr()), "error")
        return redirect(back, code=303)
    flash(_("Saved."), "info")
    return redirect(back, code=303)


# -- referrals ------------------------------------------------------------------------------------

@bp.get("/referrals")
@staff_required
def referrals() -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as s:
        q = (select(Referral, Member.name, Group.code, Group.currency, Organisation.name)
             .join(Member, Member.id == Referral.member_id).join(Group, Group.id == Referral.group_id)
             .join(Organisation, Organisation.id == Referral.organisation_id)
             .where(group_filter(staff)).order_by(Referral.id.desc()).limit(500))
        rows = [dict(id=r.id, ref=r.ref, member=name, group=code, currency=currency, lender=lender,
                     amount=r.amount, status=refs.STATUS_LABELS[r.status.value], created=r.created_at,
                     next=[(n.value, refs.STATUS_LABELS[n.value]) for n in refs.NEXT.get(r.status, ())])
                for r, name, code, currency, lender in s.execute(q)]
    return render_template("console/referrals.html", rows=rows)


@bp.post("/referrals/<int:referral_id>")
@staff_required
def referral_move(referral_id: int) -> ResponseReturnValue:
    status = request.form.get("status", "")
    try:
        with services().db.transaction() as s:
            referral = s.get(Referral, referral_id) or abort(404)
            group_or_404(s, logged_in_staff(), referral.group_id)
            before = referral.status.value
            refs.move(s, referral, status)
            record(s, "referral.status", referral.ref, {"status": before}, {"status": referral.status.value},
                   group_id=referral.group_id)
    except FieldError as exc:
        flash(exc.render(tr()), "error")
        return redirect(url_for("console.referrals"), code=303)
    flash(_("Saved."), "info")
    return redirect(url_for("console.referrals"), code=303)

