"""``flask places import|list``, ``flask orgs add|list``, ``flask projects add|enrol|show``,
``flask centres add``: the place tree, organisations, projects and centres for scripts."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from cli import services
from groups.models import Group
from i18n import translator
from orgs.importer import import_places
from orgs.models import Organisation, OrgKind, Place, Project
from orgs.places import tree
from orgs.service import (
    OrgError,
    ProjectForm,
    enrol_groups,
    enrol_members,
    groups_in_areas,
    members_of_groups,
    save_centre,
    save_organisation,
    save_project,
    targets_and_actuals,
)

places = AppGroup("places", help="The place tree: country, region, district, commune, village.")
orgs = AppGroup("orgs", help="Organisations: funders, implementers, partners, lenders.")
projects = AppGroup("projects", help="Projects: period, funders, implementer, target areas, targets.")
centres = AppGroup("centres", help="Centres and the places they cover.")


def _say(msgid: str, **params: object) -> str:
    return translator("en").gettext(msgid, **params)


@places.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def places_import(file: Path) -> None:
    """Add the places of a CSV file (country,region,district,commune,village[,code]); again adds nothing."""
    with services().db.transaction() as session:
        result = import_places(session, file.read_bytes())
        if result.errors:
            for err in result.errors:
                click.echo(_say(err.message, **err.params), err=True)
            raise click.ClickException(f"{len(result.errors)} bad row(s): imported nothing")
    click.echo(f"{result.rows} rows: {result.added} places added, {result.updated} codes set")


@places.command("list")
def places_list() -> None:
    """The tree, indented."""
    with services().db.transaction() as session:
        for place, depth in tree(session):
            code = f"  [{place.code}]" if place.code else ""
            click.echo(f"{'  ' * depth}{place.name} ({place.level.value}, #{place.id}){code}")


def _place(session: Session, text: str) -> Place:
    """A place by id, code, or path of names (``Kenya/Kisumu``)."""
    if text.isdigit() and (p := session.get(Place, int(text))) is not None:
        return p
    if (p := session.scalar(select(Place).where(Place.code == text))) is not None:
        return p
    parent = None
    for name in [n.strip() for n in text.split("/") if n.strip()]:
        same = (Place.parent_id == parent.id) if parent else Place.parent_id.is_(None)
        parent = session.scalar(select(Place).where(same, Place.name == name))
        if parent is None:
            raise click.ClickException(f"no place {text!r} (an id, a code, or names such as Kenya/Kisumu)")
    if parent is None:
        raise click.ClickException(f"no place {text!r}")
    return parent


def _org(session: Session, name: str) -> int:
    found = session.scalar(select(Organisation.id).where(Organisation.name == name))
    if found is None:
        raise click.ClickException(f"no organisation {name!r} (flask orgs add)")
    return found


@orgs.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in OrgKind]), required=True)
@click.option("--country", default="", help="ISO code, such as AZ.")
def orgs_add(name: str, kind: str, country: str) -> None:
    try:
        with services().db.transaction() as session:
            org = save_organisation(session, name, kind, country)
            click.echo(f"organisation #{org.id} {org.name} ({org.kind.value})")
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None


@orgs.command("list")
def orgs_list() -> None:
    with services().db.transaction() as session:
        for org in session.scalars(select(Organisation).order_by(Organisation.name)):
            click.echo(f"{org.id:>4} {org.kind.value:<12} {org.country or '':<3} {org.name}")


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise click.ClickException(f"{text!r} is not a date (YYYY-MM-DD)") from None


@projects.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--starts", help="YYYY-MM-DD")
@click.option("--ends", help="YYYY-MM-DD")
@click.option("--implementer", help="Organisation name.")
@click.option("--funder", "funders", multiple=True, help="Organisation name (repeatable).")
@click.option("--partner", "partners", multiple=True, help="Organisation name (repeatable).")
@click.option("--place", "places_", multiple=True, help="Target area: id, code or Country/Region/... (repeatable).")
@click.option("--target", "targets", multiple=True, help="metric=number, such as groups_formed=40 (repeatable).")
def projects_add(code: str, name: str, starts: str | None, ends: str | None, implementer: str | None,
                 funders: tuple[str, ...], partners: tuple[str, ...], places_: tuple[str, ...],
                 targets: tuple[str, ...]) -> None:
    """Create a project (or update the one with that code)."""
    parsed: dict[str, int] = {}
    for item in targets:
        metric, _, number = item.partition("=")
        if not number.strip().isdigit():
            raise click.ClickException(f"--target {item!r}: write metric=number")
        parsed[metric.strip()] = int(number)
    try:
        with services().db.transaction() as session:
            form = ProjectForm(code=code, name=name, starts_on=_date(starts), ends_on=_date(ends),
                               implementer_id=_org(session, implementer) if implementer else None,
                               funder_ids=tuple(_org(session, f) for f in funders),
                               partner_ids=tuple(_org(session, p) for p in partners),
                               place_ids=tuple(_place(session, p).id for p in places_), targets=parsed)
            existing = session.scalar(select(Project).where(Project.code == code.strip().upper()))
            project = save_project(session, form, existing)
            click.echo(f"project {project.code}: {project.name}")
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None


@projects.command("enrol")
@click.argument("code")
@click.option("--group", "groups_", multiple=True, help="Group code (repeatable).")
@click.option("--in-areas", is_flag=True, help="Every group under the project's target areas.")
@click.option("--with-members", is_flag=True, help="Enrol the groups' members too.")
def projects_enrol(code: str, groups_: tuple[str, ...], in_areas: bool, with_members: bool) -> None:
    with services().db.transaction() as session:
        project = session.scalar(select(Project).where(Project.code == code.strip().upper()))
        if project is None:
            raise click.ClickException(f"no project {code}")
        ids = []
        for gc in groups_:
            gid = session.scalar(select(Group.id).where(Group.code == gc.strip().upper()))
            if gid is None:
                raise click.ClickException(f"no group {gc}")
            ids.append(gid)
        if in_areas:
            ids += groups_in_areas(session, project)
        added = enrol_groups(session, project, ids)
        members = enrol_members(session, project, members_of_groups(session, ids)) if with_members else 0
        click.echo(f"{added} groups and {members} members enrolled in {project.code}")


@projects.command("show")
@click.argument("code")
@click.option("--place", "place", help="Only under this place (id, code or Country/Region/...).")
def projects_show(code: str, place: str | None) -> None:
    """Targets against actual figures."""
    t = translator("en")
    with services().db.transaction() as session:
        project = session.scalar(select(Project).where(Project.code == code.strip().upper()))
        if project is None:
            raise click.ClickException(f"no project {code}")
        where = [_place(session, place).id] if place else None
        click.echo(f"{project.code}  {project.name}")
        for line in targets_and_actuals(session, project, where):
            target = "-" if line.target is None else str(line.target)
            click.echo(f"  {t.gettext(line.label):<30} {line.actual:>8} / {target}")


@centres.command("add")
@click.argument("name")
@click.option("--at", "at", help="Where the centre stands: id, code or Country/Region/...")
@click.option("--covers", multiple=True, help="A place it covers (repeatable).")
@click.option("--target-days", default=7, show_default=True)
def centres_add(name: str, at: str | None, covers: tuple[str, ...], target_days: int) -> None:
    try:
        with services().db.transaction() as session:
            centre = save_centre(session, name, _place(session, at).id if at else None,
                                 [_place(session, c).id for c in covers], target_days)
            click.echo(f"centre #{centre.id} {centre.name} covers {len(covers)} places")
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None


COMMANDS = [places, orgs, projects, centres]
