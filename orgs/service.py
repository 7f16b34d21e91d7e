"""Organisations, projects and centres: what the console and ``flask orgs|projects|centres`` share.

Functions raise :class:`OrgError` (a msgid with fields, shown translated) on
bad input and change nothing then; the caller owns the transaction.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from groups.models import Group, Member
from i18n import N_
from orgs.metrics import METRICS
from orgs.models import (
    Centre,
    CentrePlace,
    Organisation,
    OrgKind,
    Place,
    Project,
    ProjectCentre,
    ProjectGroup,
    ProjectMember,
    ProjectOrganisation,
    ProjectPlace,
    ProjectStaff,
    ProjectTarget,
)
from orgs.places import groups_under


class OrgError(ValueError):
    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message, self.params = message, params


def save_organisation(session: Session, name: str, kind: str, country: str = "",
                      org: Organisation | None = None) -> Organisation:
    name = name.strip()
    if not name or len(name) > 160:
        raise OrgError(N_("An organisation needs a name (at most 160 letters)."))
    try:
        kind_ = OrgKind(kind)
    except ValueError:
        raise OrgError(N_("Choose funder, implementer, partner or lender.")) from None
    country = country.strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise OrgError(N_("A two-letter country code such as KE, AZ or VN."))
    same = session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower()))
    if same is not None and (org is None or same != org.id):
        raise OrgError(N_("There is already an organisation called {name}."), name=name)
    if org is None:
        org = Organisation(name=name, kind=kind_, country=country or None)
        session.add(org)
    else:
        org.name, org.kind, org.country = name, kind_, country or None
    session.flush()
    return org


@dataclass
class ProjectForm:
    code: str
    name: str
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    implementer_id: int | None = None
    funder_ids: tuple[int, ...] = ()
    partner_ids: tuple[int, ...] = ()
    place_ids: tuple[int, ...] = ()
    targets: dict[str, int] | None = None  # metric -> target; a metric left out has none


def save_project(session: Session, form: ProjectForm, project: Project | None = None) -> Project:
    code = form.code.strip().upper()
    if not code or len(code) > 24 or not all(c.isalnum() or c in "-_" for c in code):
        raise OrgError(N_("A project code is letters, digits, - or _ (at most 24)."))
    name = form.name.strip()
    if not name or len(name) > 160:
        raise OrgError(N_("A project needs a name (at most 160 letters)."))
    if form.starts_on and form.ends_on and form.ends_on < form.starts_on:
        raise OrgError(N_("The project cannot end before it starts."))
    same = session.scalar(select(Project.id).where(Project.code == code))
    if same is not None and (project is None or same != project.id):
        raise OrgError(N_("There is already a project with the code {code}."), code=code)
    orgs = set(form.funder_ids) | set(form.partner_ids) | ({form.implementer_id} if form.implementer_id else set())
    if orgs and len(set(session.scalars(select(Organisation.id).where(Organisation.id.in_(orgs))))) != len(orgs):
        raise OrgError(N_("Choose organisations from the list."))
    places = set(form.place_ids)
    if places and len(set(session.scalars(select(Place.id).where(Place.id.in_(places))))) != len(places):
        raise OrgError(N_("Choose places from the list."))
    for metric, target in (form.targets or {}).items():
        if metric not in METRICS:
            raise OrgError(N_("{metric} is not a figure Kassa counts."), metric=metric)
        if target < 0:
            raise OrgError(N_("A target is a whole number, 0 or more."))
    if project is None:
        project = Project(code=code)
        session.add(project)
    project.code, project.name = code, name
    project.starts_on, project.ends_on, project.implementer_id = form.starts_on, form.ends_on, form.implementer_id
    session.flush()
    session.execute(delete(ProjectOrganisation).where(ProjectOrganisation.project_id == project.id))
    for role, ids in ((OrgKind.FUNDER, form.funder_ids), (OrgKind.PARTNER, form.partner_ids)):
        for oid in sorted(set(ids)):
            session.add(ProjectOrganisation(project_id=project.id, organisation_id=oid, role=role))
    session.execute(delete(ProjectPlace).where(ProjectPlace.project_id == project.id))
    for pid in sorted(places):
        session.add(ProjectPlace(project_id=project.id, place_id=pid))
    if form.targets is not None:
        session.execute(delete(ProjectTarget).where(ProjectTarget.project_id == project.id))
        for metric, target in sorted(form.targets.items()):
            session.add(ProjectTarget(project_id=project.id, metric=metric, target=target))
    session.flush()
    return project


def enrol_groups(session: Session, project: Project, group_ids: Iterable[int]) -> int:
    """Add groups to the project (those already in it are left); how many were added."""
    ids = set(group_ids)
    have = set(session.scalars(select(ProjectGroup.group_id).where(ProjectGroup.project_id == project.id,
                                                                    ProjectGroup.group_id.in_(ids)))) if ids else set()
    for gid in sorted(ids - have):
        session.add(ProjectGroup(project_id=project.id, group_id=gid))
    session.flush()
    return len(ids - have)


def groups_in_areas(session: Session, project: Project) -> list[int]:
    """The ids of the groups under the project's target areas."""
    places = list(session.scalars(select(ProjectPlace.place_id).where(ProjectPlace.project_id == project.id)))
    return list(session.scalars(select(Group.id).where(groups_under(session, places)))) if places else []


def enrol_members(session: Session, project: Project, member_ids: Iterable[int], on: dt.date | None = None) -> int:
    ids = set(member_ids)
    have = set(session.scalars(select(ProjectMember.member_id).where(
        ProjectMember.project_id == project.id, ProjectMember.member_id.in_(ids)))) if ids else set()
    for mid in sorted(ids - have):
        session.add(ProjectMember(project_id=project.id, member_id=mid, enrolled_on=on))
    session.flush()
    return len(ids - have)


def members_of_groups(session: Session, group_ids: Iterable[int]) -> list[int]:
    from groups.models import Membership, Status

    ids = list(group_ids)
    return list(session.scalars(select(Membership.member_id).where(
        Membership.group_id.in_(ids), Membership.status == Status.ACTIVE).distinct())) if ids else []


def member_ids_by_phone(session: Session, phones: Iterable[str]) -> tuple[list[int], list[str]]:
    """Members found by phone (any format), and the phones that are not a member's."""
    from groups.phones import PhoneError, normalise_phone

    found, missing = [], []
    for raw in phones:
        raw = raw.strip()
        if not raw:
            continue
        try:
            mid = session.scalar(select(Member.id).where(Member.phone == normalise_phone(raw)))
        except PhoneError:
            mid = None
        (found.append(mid) if mid is not None else missing.append(raw))
    return found, missing


def set_project_staff(session: Session, project: Project, staff_ids: Iterable[int]) -> None:
    session.execute(delete(ProjectStaff).where(ProjectStaff.project_id == project.id))
    for sid in sorted(set(staff_ids)):
        session.add(ProjectStaff(project_id=project.id, staff_id=sid))
    session.flush()


def set_project_centres(session: Session, project: Project, centre_ids: Iterable[int]) -> None:
    session.execute(delete(ProjectCentre).where(ProjectCentre.project_id == project.id))
    for cid in sorted(set(centre_ids)):
        session.add(ProjectCentre(project_id=project.id, centre_id=cid))
    session.flush()


def save_centre(session: Session, name: str, place_id: int | None, covers: Iterable[int], target_days: int = 7,
                active: bool = True, centre: Centre | None = None) -> Centre:
    name = name.strip()
    if not name or len(name) > 160:
        raise OrgError(N_("A centre needs a name (at most 160 letters)."))
    if not 1 <= target_days <= 365:
        raise OrgError(N_("A whole number from {low} to {high}."), low=1, high=365)
    same = session.scalar(select(Centre.id).where(func.lower(Centre.name) == name.lower()))
    if same is not None and (centre is None or same != centre.id):
        raise OrgError(N_("There is already a centre called {name}."), name=name)
    covers = set(covers)
    wanted = covers | ({place_id} if place_id else set())
    if wanted and len(set(session.scalars(select(Place.id).where(Place.id.in_(wanted))))) != len(wanted):
        raise OrgError(N_("Choose places from the list."))
    if centre is None:
        centre = Centre(name=name)
        session.add(centre)
    centre.name, centre.place_id, centre.target_days, centre.active = name, place_id, target_days, active
    session.flush()
    session.execute(delete(CentrePlace).where(CentrePlace.centre_id == centre.id))
    for pid in sorted(covers):
        session.add(CentrePlace(centre_id=centre.id, place_id=pid))
    session.flush()
    return centre


@dataclass
class TargetLine:
    metric: str
    label: str  # msgid
    target: int | None
    actual: int

    @property
    def percent(self) -> int | None:
        return None if not self.target else self.actual * 100 // self.target


def targets_and_actuals(session: Session, project: Project, place_ids: Iterable[int] | None = None) -> list[TargetLine]:
    """Each metric with a target (then every other metric) against what it counts, under ``place_ids``."""
    targets = dict(session.execute(select(ProjectTarget.metric, ProjectTarget.target)
                                   .where(ProjectTarget.project_id == project.id)).all())
    ids = list(place_ids) if place_ids is not None else None
    lines = [TargetLine(name, m.label, targets.get(name), m.count(session, project.id, ids))
             for name, m in METRICS.items()]
    return sorted(lines, key=lambda line: (line.target is None, list(METRICS).index(line.metric)))
