"""Places, organisations, projects and centres in the console (admins), and the place/project
filter every report shares (``place_choices`` / ``project_choices`` in templates)."""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from console.audit import record
from console.auth import staff_required
from console.blueprint import bp
from console.dashboard import percent
from console.models import Staff
from console.web import _, services
from groups.models import Group
from i18n import N_
from orgs.importer import import_places
from orgs.metrics import METRICS
from orgs.models import (
    Centre,
    CentrePlace,
    Organisation,
    OrgKind,
    Place,
    PlaceLevel,
    Project,
    ProjectCentre,
    ProjectGroup,
    ProjectMember,
    ProjectOrganisation,
    ProjectPlace,
    ProjectStaff,
    ProjectTarget,
)
from orgs.places import add_place, ancestors, groups_under, rename_place, tree
from orgs.service import (
    OrgError,
    ProjectForm,
    enrol_groups,
    enrol_members,
    groups_in_areas,
    member_ids_by_phone,
    members_of_groups,
    save_centre,
    save_organisation,
    save_project,
    set_project_centres,
    set_project_staff,
    targets_and_actuals,
)

LEVEL_LABELS = {PlaceLevel.COUNTRY.value: N_("Country"), PlaceLevel.REGION.value: N_("Region"),
                PlaceLevel.DISTRICT.value: N_("District"), PlaceLevel.COMMUNE.value: N_("Commune"),
                PlaceLevel.VILLAGE.value: N_("Village")}
KIND_LABELS = {OrgKind.FUNDER.value: N_("Funder"), OrgKind.IMPLEMENTER.value: N_("Implementer"),
               OrgKind.PARTNER.value: N_("Partner"), OrgKind.LENDER.value: N_("Lender")}
MAX_UPLOAD = 5 * 1024 * 1024


def _error(exc: OrgError) -> str:
    return _(exc.message, **exc.params)


# -- what every report's filter offers ------------------------------------------------

def _places_of(s: Session) -> list[tuple[int, str]]:
    return [(p.id, "\u00a0\u00a0" * depth + p.name) for p, depth in tree(s)]


def _projects_of(s: Session) -> list[tuple[int, str]]:
    return [(p.id, f"{p.code} · {p.name}") for p in s.scalars(select(Project).order_by(Project.code))]


def remember_choices(session: Session) -> None:
    """Read the filter's choices with the view's own session (a page drawn inside its transaction:
    SQLite would refuse a second one)."""
    g.orgs_places, g.orgs_projects = _places_of(session), _projects_of(session)


def place_choices() -> list[tuple[int, str]]:
    """Every place as (id, name indented by its depth), for the place-tree filter."""
    if "orgs_places" not in g:
        with services().db.transaction() as s:
            remember_choices(s)
    places: list[tuple[int, str]] = g.orgs_places
    return places


def project_choices() -> list[tuple[int, str]]:
    if "orgs_projects" not in g:  # the projects only: the places are drawn once (place_options)
        with services().db.transaction() as s:
            g.orgs_projects = _projects_of(s)
    projects: list[tuple[int, str]] = g.orgs_projects
    return projects


#: The place filter's options, drawn once and kept this long (every report page shows the picker; a
#: national tree has thousands of places: reading and drawing them cost 40 ms a page). A place
#: changed through this process clears them at once; other processes see it within this time.
PLACE_OPTIONS_TTL = 60.0
_place_options: dict[int, tuple[float, str]] = {}  # per database (its Database object's id)


@event.listens_for(Session, "after_flush")
def _places_changed(session: Session, _context: object) -> None:
    if _place_options and any(isinstance(o, Place) for o in (*session.new, *session.dirty, *session.deleted)):
        _place_options.clear()


def place_options(selected: int | None) -> Markup:
    """The place filter's ``<option>`` list (empty when there are no places), ``selected`` marked."""
    now = time.monotonic()
    db = id(services().db)
    hit = _place_options.get(db)
    if hit is None or hit[0] <= now:
        html = "".join(f'<option value="{pid}">{escape(label)}</option>' for pid, label in place_choices())
        hit = _place_options[db] = (now + PLACE_OPTIONS_TTL, html)
    html = hit[1]
    if selected is not None:
        html = html.replace(f'<option value="{selected}">', f'<option value="{selected}" selected>', 1)
    return Markup(html)


@bp.app_context_processor
def _filter_helpers() -> dict[str, Any]:
    return {"place_choices": place_choices, "place_options": place_options, "project_choices": project_choices,
            "level_labels": LEVEL_LABELS}


def _place_ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


# -- places ---------------------------------------------------------------------------

@bp.get("/places")
@staff_required(role="admin")
def places() -> ResponseReturnValue:
    with services().db.transaction() as s:
        rows = tree(s)
        counts = dict(s.execute(select(Group.place_id, func.count()).where(Group.place_id.is_not(None))
                                .group_by(Group.place_id)).all())
        return render_template("console/places.html", rows=rows, counts=counts, levels=list(LEVEL_LABELS),
                               errors=[])


@bp.post("/places")
@staff_required(role="admin")
def place_add() -> ResponseReturnValue:
    form = request.form
    name = form.get("name", "").strip()
    level = form.get("level", "")
    parent_id = form.get("parent", "")
    with services().db.transaction() as s:
        parent = s.get(Place, int(parent_id)) if parent_id.isdigit() else None
        problem = None
        if not name or len(name) > 120:
            problem = _("A place needs a name (at most 120 letters).")
        elif level not in LEVEL_LABELS:
            problem = _("Choose a level from the list.")
        elif parent_id and parent is None:
            problem = _("Choose places from the list.")
        elif s.scalar(select(Place.id).where((Place.parent_id == parent.id) if parent else Place.parent_id.is_(None),
                                             Place.name == name)):
            problem = _("{name} is already there.", name=name)
        if problem:
            flash(problem, "error")
            return redirect(url_for("console.places"), code=303)
        place = add_place(s, name, PlaceLevel(level), parent, code=form.get("code", "").strip()[:40] or None)
        record(s, "place.create", f"place {place.path}", None, {"name": name, "level": level,
                                                                 "parent": parent.name if parent else None})
    flash(_("{name} is added.", name=name), "info")
    return redirect(url_for("console.places"), code=303)


@bp.post("/places/<int:place_id>/rename")
@staff_required(role="admin")
def place_rename(place_id: int) -> ResponseReturnValue:
    name = request.form.get("name", "").strip()
    with services().db.transaction() as s:
        place = s.get(Place, place_id)
        if place is None:
            abort(404)
        if not name or len(name) > 120:
            flash(_("A place needs a name (at most 120 letters)."), "error")
            return redirect(url_for("console.places"), code=303)
        same_parent = Place.parent_id == place.parent_id if place.parent_id else Place.parent_id.is_(None)
        if s.scalar(select(Place.id).where(same_parent, Place.name == name, Place.id != place.id)):
            flash(_("{name} is already there.", name=name), "error")
            return redirect(url_for("console.places"), code=303)
        before = place.name
        rename_place(s, place, name)
        record(s, "place.rename", f"place {place.path}", {"name": before}, {"name": name})
    flash(_("Saved."), "info")
    return redirect(url_for("console.places"), code=303)


@bp.post("/places/import")
@staff_required(role="admin")
def places_import() -> ResponseReturnValue:
    upload = request.files.get("file")
    data = upload.read(MAX_UPLOAD + 1) if upload else b""
    if not data or len(data) > MAX_UPLOAD:
        flash(_("Choose a CSV file (at most 5 MB)."), "error")
        return redirect(url_for("console.places"), code=303)
    with services().db.transaction() as s:
        result = import_places(s, data)
        if result.errors:
            errors = [_(e.message, **e.params) for e in result.errors]
            rows = tree(s)
            return render_template("console/places.html", rows=rows, counts={}, levels=list(LEVEL_LABELS),
                                   errors=errors), 400
        record(s, "place.import", (upload.filename if upload else None) or "places.csv", None,
               {"rows": result.rows, "added": result.added, "codes": result.updated})
    flash(_("{rows} rows read: {added} places added.", rows=result.rows, added=result.added), "info")
    return redirect(url_for("console.places"), code=303)


# -- centres ----------------------------------------------------------------------------

def _centre_page(centre: Centre | None, form: dict[str, Any], covers: set[int], status: int = 200,
                 error: str = "") -> ResponseReturnValue:
    with services().db.transaction() as s:
        centres = list(s.scalars(select(Centre).order_by(Centre.name)))
        cover_names = {c.id: [p.name for p in s.scalars(select(Place).join(CentrePlace).where(
            CentrePlace.centre_id == c.id).order_by(Place.name))] for c in centres}
        rows = tree(s)
    return render_template("console/centres.html", centres=centres, cover_names=cover_names, rows=rows,
                           centre=centre, form=form, covers=covers, error=error), status


@bp.get("/centres")
@staff_required(role="admin")
def centres() -> ResponseReturnValue:
    return _centre_page(None, {"target_days": "7", "active": "1"}, set())


@bp.get("/centres/<int:centre_id>")
@staff_required(role="admin")
def centre_edit(centre_id: int) -> ResponseReturnValue:
    with services().db.transaction() as s:
        centre = s.get(Centre, centre_id) or abort(404)
        covers = set(s.scalars(select(CentrePlace.place_id).where(CentrePlace.centre_id == centre.id)))
        form = {"name": centre.name, "place": str(centre.place_id or ""), "target_days": str(centre.target_days),
                "active": "1" if centre.active else ""}
    return _centre_page(centre, form, covers)


@bp.post("/centres")
@bp.post("/centres/<int:centre_id>")
@staff_required(role="admin")
def centre_save(centre_id: int | None = None) -> ResponseReturnValue:
    form = request.form.to_dict()
    covers = set(_place_ids(request.form.getlist("covers")))
    place = form.get("place", "")
    days = form.get("target_days", "7").strip()
    try:
        with services().db.transaction() as s:
            centre = s.get(Centre, centre_id) if centre_id else None
            if centre_id and centre is None:
                abort(404)
            before = None if centre is None else {"name": centre.name}
            centre = save_centre(s, form.get("name", ""), int(place) if place.isdigit() else None, covers,
                                 int(days) if days.isdigit() else 0, bool(form.get("active")), centre)
            record(s, "centre.save", f"centre {centre.name}", before,
                   {"name": centre.name, "covers": sorted(covers), "target_days": centre.target_days})
            name = centre.name
    except OrgError as exc:
        with services().db.transaction() as s:
            centre = s.get(Centre, centre_id) if centre_id else None
        return _centre_page(centre, form, covers, 400, _error(exc))
    flash(_("{name} is saved.", name=name), "info")
    return redirect(url_for("console.centres"), code=303)


# -- organisations ------------------------------------------------------------------------

@bp.route("/organisations", methods=["GET", "POST"])
@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
@staff_required(role="admin")
def organisations(org_id: int | None = None) -> ResponseReturnValue:
    error, form = "", request.form.to_dict()
    with services().db.transaction() as s:
        org = s.get(Organisation, org_id) if org_id else None
        if org_id and org is None:
            abort(404)
        if request.method == "POST":
            try:
                before = None if org is None else {"name": org.name, "kind": org.kind.value}
                saved = save_organisation(s, form.get("name", ""), form.get("kind", ""), form.get("country", ""), org)
                record(s, "organisation.save", f"organisation {saved.name}", before,
                       {"name": saved.name, "kind": saved.kind.value, "country": saved.country})
                flash(_("{name} is saved.", name=saved.name), "info")
                return redirect(url_for("console.organisations"), code=303)
            except OrgError as exc:
                error = _error(exc)
        elif org is not None:
            form = {"name": org.name, "kind": org.kind.value, "country": org.country or ""}
        orgs = list(s.scalars(select(Organisation).order_by(Organisation.name)))
        return render_template("console/organisations.html", orgs=orgs, org=org, form=form, error=error,
                               kinds=KIND_LABELS), 400 if error else 200


# -- projects ---------------------------------------------------------------------------

def _project_form_values(s: Session, project: Project | None) -> dict[str, Any]:
    if project is None:
        return {"code": "", "name": "", "starts_on": "", "ends_on": "", "implementer": "", "funders": [],
                "partners": [], "places": [], "targets": {}}
    roles = s.execute(select(ProjectOrganisation.organisation_id, ProjectOrganisation.role)
                      .where(ProjectOrganisation.project_id == project.id)).all()
    return {"code": project.code, "name": project.name,
            "starts_on": project.starts_on.isoformat() if project.starts_on else "",
            "ends_on": project.ends_on.isoformat() if project.ends_on else "",
            "implementer": str(project.implementer_id or ""),
            "funders": [str(o) for o, r in roles if r == OrgKind.FUNDER],
            "partners": [str(o) for o, r in roles if r == OrgKind.PARTNER],
            "places": [str(p) for p in s.scalars(select(ProjectPlace.place_id)
                                                 .where(ProjectPlace.project_id == project.id))],
            "targets": {m: str(t) for m, t in s.execute(select(ProjectTarget.metric, ProjectTarget.target)
                                                       .where(ProjectTarget.project_id == project.id))}}


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@bp.get("/projects")
@staff_required(role="admin")
def projects() -> ResponseReturnValue:
    with services().db.transaction() as s:
        found = list(s.scalars(select(Project).order_by(Project.code)))
        groups = dict(s.execute(select(ProjectGroup.project_id, func.count()).group_by(ProjectGroup.project_id)).all())
        return render_template("console/projects.html", projects=found, groups=groups)


@bp.route("/projects/new", methods=["GET", "POST"])
@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@staff_required(role="admin")
def project_edit(project_id: int | None = None) -> ResponseReturnValue:
    error = ""
    with services().db.transaction() as s:
        project = s.get(Project, project_id) if project_id else None
        if project_id and project is None:
            abort(404)
        values = _project_form_values(s, project)
        if request.method == "POST":
            f = request.form
            values = {"code": f.get("code", ""), "name": f.get("name", ""), "starts_on": f.get("starts_on", ""),
                      "ends_on": f.get("ends_on", ""), "implementer": f.get("implementer", ""),
                      "funders": f.getlist("funders"), "partners": f.getlist("partners"),
                      "places": f.getlist("places"),
                      "targets": {m: f.get(f"target_{m}", "").strip() for m in METRICS}}
            try:
                bad = [m for m, v in values["targets"].items() if v and not v.isdigit()]
                if bad:
                    raise OrgError(N_("A target is a whole number, 0 or more."))
                try:
                    starts, ends = _date(values["starts_on"]), _date(values["ends_on"])
                except ValueError:
                    raise OrgError(N_("Write the date as YYYY-MM-DD.")) from None
                form = ProjectForm(
                    code=values["code"], name=values["name"], starts_on=starts, ends_on=ends,
                    implementer_id=int(values["implementer"]) if values["implementer"].isdigit() else None,
                    funder_ids=tuple(_place_ids(values["funders"])), partner_ids=tuple(_place_ids(values["partners"])),
                    place_ids=tuple(_place_ids(values["places"])),
                    targets={m: int(v) for m, v in values["targets"].items() if v})
                before = None if project is None else _project_form_values(s, project)
                saved = save_project(s, form, project)
                record(s, "project.save", f"project {saved.code}", before, _project_form_values(s, saved))
                flash(_("{name} is saved.", name=saved.name), "info")
                return redirect(url_for("console.project_page", project_id=saved.id), code=303)
            except OrgError as exc:
                error = _error(exc)
        orgs = list(s.scalars(select(Organisation).order_by(Organisation.name)))
        return render_template("console/project_form.html", project=project, form=values, error=error, orgs=orgs,
                               rows=tree(s), metrics=METRICS), 400 if error else 200


@bp.get("/projects/<int:project_id>")
@staff_required(role="admin")
def project_page(project_id: int) -> ResponseReturnValue:
    place = request.args.get("place", "")
    place_id = int(place) if place.isdigit() else None
    with services().db.transaction() as s:
        project = s.get(Project, project_id) or abort(404)
        remember_choices(s)
        lines = targets_and_actuals(s, project, [place_id] if place_id else None)
        roles = s.execute(select(Organisation, ProjectOrganisation.role).join(
            ProjectOrganisation, ProjectOrganisation.organisation_id == Organisation.id)
            .where(ProjectOrganisation.project_id == project.id).order_by(Organisation.name)).all()
        areas = list(s.scalars(select(Place).join(ProjectPlace).where(ProjectPlace.project_id == project.id)
                               .order_by(Place.path)))
        area_paths = {a.id: " › ".join(p.name for p in ancestors(s, a)) for a in areas}
        # The figures rolled up the tree: each target area, then the places under the filter.
        rollup = [(a, area_paths[a.id], targets_and_actuals(s, project, [a.id])) for a in areas]
        group_q = select(Group).join(ProjectGroup, ProjectGroup.group_id == Group.id).where(
            ProjectGroup.project_id == project.id)
        if place_id:
            group_q = group_q.where(groups_under(s, [place_id]))
        groups = list(s.scalars(group_q.order_by(Group.code).limit(200)))
        n_groups = s.scalar(select(func.count()).select_from(group_q.subquery()))
        n_members = s.scalar(select(func.count()).select_from(ProjectMember).where(
            ProjectMember.project_id == project.id))
        staff_ids = set(s.scalars(select(ProjectStaff.staff_id).where(ProjectStaff.project_id == project.id)))
        centre_ids = set(s.scalars(select(ProjectCentre.centre_id).where(ProjectCentre.project_id == project.id)))
        all_staff = list(s.scalars(select(Staff).order_by(Staff.name)))
        all_centres = list(s.scalars(select(Centre).order_by(Centre.name)))
        return render_template("console/project.html", project=project, lines=lines, roles=roles, areas=areas,
                               area_paths=area_paths, rollup=rollup, groups=groups, n_groups=n_groups,
                               n_members=n_members, staff_ids=staff_ids, centre_ids=centre_ids,
                               all_staff=all_staff, all_centres=all_centres, place_id=place_id,
                               kinds=KIND_LABELS, percent=percent)


@bp.post("/projects/<int:project_id>/enrol")
@staff_required(role="admin")
def project_enrol(project_id: int) -> ResponseReturnValue:
    f = request.form
    what = f.get("what", "")
    with services().db.transaction() as s:
        project = s.get(Project, project_id) or abort(404)
        if what == "groups":
            codes = [c.strip().upper() for c in f.get("codes", "").replace("\n", ",").split(",") if c.strip()]
            found = dict(s.execute(select(Group.code, Group.id).where(Group.code.in_(codes))).all()) if codes else {}
            missing = [c for c in codes if c not in found]
            if missing:
                flash(_("There is no group with the code {code}.", code=", ".join(missing)), "error")
                return redirect(url_for("console.project_page", project_id=project.id), code=303)
            ids = list(found.values())
            if f.get("in_areas"):
                ids += groups_in_areas(s, project)
            added = enrol_groups(s, project, ids)
            members = enrol_members(s, project, members_of_groups(s, ids), dt.date.today()) \
                if f.get("with_members") else 0
            record(s, "project.enrol_groups", f"project {project.code}", None, {"groups": added, "members": members})
            flash(_("{groups} groups and {members} members enrolled.", groups=added, members=members), "info")
        elif what == "members":
            ids, missing = member_ids_by_phone(s, f.get("phones", "").replace(",", "\n").split("\n"))
            if missing:
                flash(_("No member has the phone number {phone}.", phone=", ".join(missing)), "error")
                return redirect(url_for("console.project_page", project_id=project.id), code=303)
            added = enrol_members(s, project, ids, dt.date.today())
            record(s, "project.enrol_members", f"project {project.code}", None, {"members": added})
            flash(_("{groups} groups and {members} members enrolled.", groups=0, members=added), "info")
        elif what == "staff":
            ids = _place_ids(f.getlist("staff"))
            set_project_staff(s, project, [i for i in ids if s.get(Staff, i) is not None])
            record(s, "project.staff", f"project {project.code}", None, {"staff": ids})
            flash(_("Saved."), "info")
        elif what == "centres":
            ids = _place_ids(f.getlist("centres"))
            set_project_centres(s, project, [i for i in ids if s.get(Centre, i) is not None])
            record(s, "project.centres", f"project {project.code}", None, {"centres": ids})
            flash(_("Saved."), "info")
        else:
            abort(400)
    return redirect(url_for("console.project_page", project_id=project_id), code=303)
