"""Project metrics: the counts a project's targets are measured against.

A metric is a name (``ProjectTarget.metric``), a label for people, and a
function ``(session, project_id, place_ids) -> int`` that counts the rows
behind it for one project, optionally only under some places (the place-tree
filter). Each feature registers its own (groups formed here; referrals,
people trained, grants ... where those features live) with :func:`metric`, so
the project page shows targets against actuals without knowing every feature.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groups.models import Group, Status
from i18n import N_
from orgs.models import ProjectGroup

Counter = Callable[[Session, int, "Iterable[int] | None"], int]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str  # an N_() msgid, translated where shown
    count: Counter


METRICS: dict[str, Metric] = {}


def metric(name: str, label: str) -> Callable[[Counter], Counter]:
    def register(fn: Counter) -> Counter:
        METRICS[name] = Metric(name, label, fn)
        return fn
    return register


@metric("groups_formed", N_("Groups formed"))
def groups_formed(session: Session, project_id: int, place_ids: Iterable[int] | None = None) -> int:
    q = (select(func.count()).select_from(ProjectGroup).join(Group, Group.id == ProjectGroup.group_id)
         .where(ProjectGroup.project_id == project_id, Group.status == Status.ACTIVE))
    if place_ids is not None:
        from orgs.places import groups_under

        q = q.where(groups_under(session, place_ids))
    return int(session.scalar(q) or 0)


@metric("referrals", N_("Referrals to outside lenders"))
def referrals(session: Session, project_id: int, place_ids: Iterable[int] | None = None) -> int:
    """Referrals confirmed for the project's lenders (referred, then approved or repaid: not declined)."""
    from field.models import Referral
    from field.referrals import MADE

    q = (select(func.count()).select_from(Referral)
         .where(Referral.project_id == project_id, Referral.status.in_(MADE)))
    if place_ids is not None:
        from orgs.places import groups_under

        q = q.join(Group, Group.id == Referral.group_id).where(groups_under(session, place_ids))
    return int(session.scalar(q) or 0)


@metric("visits", N_("Field visits"))
def visits(session: Session, project_id: int, place_ids: Iterable[int] | None = None) -> int:
    """Visits field workers logged to the project's groups."""
    from field.models import Visit

    q = (select(func.count()).select_from(Visit).join(ProjectGroup, ProjectGroup.group_id == Visit.group_id)
         .where(ProjectGroup.project_id == project_id))
    if place_ids is not None:
        from orgs.places import groups_under

        q = q.join(Group, Group.id == Visit.group_id).where(groups_under(session, place_ids))
    return int(session.scalar(q) or 0)
