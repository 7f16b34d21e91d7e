"""The place tree: adding places, and "everything under these places" as one WHERE clause.

``Place.path`` is ``/<root id>/.../<own id>/``; a place's subtree is every row
whose path starts with its own. Roll-ups and scopes use :func:`under` so the
tree's depth never costs a recursive query.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from groups.models import Group
from orgs.models import Place, PlaceLevel


def add_place(session: Session, name: str, level: PlaceLevel, parent: Place | None = None,
              code: str | None = None) -> Place:
    """A new place under ``parent`` (flushed: it has its id and path)."""
    place = Place(name=name.strip(), level=level, parent_id=parent.id if parent else None, code=code)
    session.add(place)
    session.flush()
    place.path = f"{parent.path if parent else '/'}{place.id}/"
    session.flush()
    return place


def find_or_add(session: Session, name: str, level: PlaceLevel, parent: Place | None = None) -> Place:
    """The place of that name under ``parent`` (case and spaces as typed are kept), added if missing."""
    same_parent = Place.parent_id == parent.id if parent else Place.parent_id.is_(None)
    found = session.scalar(select(Place).where(same_parent, Place.name == name.strip()))
    return found or add_place(session, name, level, parent)


def paths_of(session: Session, place_ids: Iterable[int]) -> list[str]:
    ids = list(place_ids)
    if not ids:
        return []
    return list(session.scalars(select(Place.path).where(Place.id.in_(ids))))


def under(path_column: ColumnElement[str], paths: Iterable[str]) -> ColumnElement[bool]:
    """True for rows whose place path lies in (or is) one of ``paths``."""
    clauses = [path_column.startswith(p, autoescape=True) for p in paths]
    return or_(*clauses) if clauses else false()


def groups_under(session: Session, place_ids: Iterable[int]) -> ColumnElement[bool]:
    """A WHERE clause on ``Group``: groups sitting anywhere under the given places."""
    paths = paths_of(session, place_ids)
    subtree = select(Place.id).where(under(Place.path, paths))
    return Group.place_id.in_(subtree)


def ancestors(session: Session, place: Place) -> list[Place]:
    """From the root down to ``place`` itself."""
    ids = [int(x) for x in place.path.strip("/").split("/") if x]
    rows = {p.id: p for p in session.scalars(select(Place).where(Place.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def region_name(session: Session, place: Place | None) -> str | None:
    """The name of the region-level ancestor (what ``Group.region`` holds), else the nearest place's."""
    if place is None:
        return None
    chain = ancestors(session, place)
    for p in chain:
        if p.level == PlaceLevel.REGION:
            return p.name
    return chain[-1].name if chain else place.name
