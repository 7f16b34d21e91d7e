"""Which groups a staff member may see: all for an admin, a coordinator's groups, places and regions."""
from __future__ import annotations

from flask import abort
from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from console.models import Staff
from groups.models import Group
from orgs.places import coordinator_clause


def group_filter(staff: Staff) -> ColumnElement[bool]:
    """A WHERE clause on ``Group`` that keeps the groups ``staff`` may see."""
    if staff.is_admin:
        return true()
    coord = staff.coordinator
    if coord is None:
        return false()
    if coord.all_groups:
        return true()
    return coordinator_clause(coord)  # her groups, her places' subtrees, her (pre-tree) regions


def visible_group_ids(session: Session, staff: Staff) -> set[int] | None:
    """The ids of the groups ``staff`` may see; ``None`` means all of them (an admin)."""
    if staff.is_admin or (staff.coordinator is not None and staff.coordinator.all_groups):
        return None
    return set(session.scalars(select(Group.id).where(group_filter(staff))))


def can_see(session: Session, staff: Staff, group_id: int) -> bool:
    return session.scalar(select(Group.id).where(Group.id == group_id, group_filter(staff))) is not None


def group_or_404(session: Session, staff: Staff, group_id: int) -> Group:
    """The group, or 404 when it does not exist or is not ``staff``'s to see (the same answer)."""
    group = session.scalar(select(Group).where(Group.id == group_id, group_filter(staff)))
    if group is None:
        abort(404)
    return group
