"""Project actuals from programmes (orgs.metrics): people trained, equipped, businesses started.

Counted over the programmes that belong to the project (``Programme.project_id``), optionally
only for beneficiaries of groups under some places (the place-tree filter).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

from groups.models import Group
from i18n import N_
from orgs.metrics import metric
from programmes.models import Business, Enrolment, Programme


def _programmes(project_id: int) -> Select[int]:
    return select(Programme.id).where(Programme.project_id == project_id)


def _under(session: Session, column: SQLCoreOperations[int | None], place_ids: Iterable[int] | None
           ) -> ColumnElement[bool] | None:
    if place_ids is None:
        return None
    from orgs.places import groups_under

    clause: ColumnElement[bool] = column.in_(select(Group.id).where(groups_under(session, place_ids)))
    return clause


def _count_enrolments(session: Session, project_id: int, place_ids: Iterable[int] | None,
                      *where: ColumnElement[bool]) -> int:
    q = select(func.count()).select_from(Enrolment).where(Enrolment.programme_id.in_(_programmes(project_id)), *where)
    under = _under(session, Enrolment.group_id, place_ids)
    return int(session.scalar(q if under is None else q.where(under)) or 0)


@metric("people_enrolled", N_("People enrolled"))
def people_enrolled(session: Session, project_id: int, place_ids: Iterable[int] | None = None) -> int:
    return _count_enrolments(session, project_id, place_ids)


@metric("people_trained", N_("People trained"))
def people_trained(session: Session, project_id: int, place_ids: Iterable[int] | None = None) -> int:
    """Beneficiaries who completed their programme's training."""
    return _count_enrolments(session, project_id, place_ids, Enrolment.completed_on.is_not(None))


@metric("equipped", N_("People equipped"))
def equipped(session: Session, project_id: int, place_ids: Iterable[int] | None = None) -> int:
    return _count_enrolments(session, project_id, place_ids, Enrolment.equipped_on.is_not(None))


@metric("businesses_started", N_("Businesses started"))
def businesses_started(session: Session, project_id: int, place_ids: Iterable[int] | None = None) -> int:
    q = select(func.count()).select_from(Business).where(Business.programme_id.in_(_programmes(project_id)))
    under = _under(session, Business.group_id, place_ids)
    return int(session.scalar(q if under is None else q.where(under)) or 0)
