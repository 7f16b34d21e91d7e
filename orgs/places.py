"""The place tree: adding places, and "everything under these places" as one WHERE clause.

``Place.path`` is ``/<root id>/.../<own id>/``; a place's subtree is every row
whose path starts with its own. Roll-ups and scopes use :func:`under` so the
tree's depth never costs a recursive query.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, false, or_, select, union
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

from groups.models import Coordinator, Group
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


def under(path_column: SQLCoreOperations[str], paths: Iterable[str]) -> ColumnElement[bool]:
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


def place_names(session: Session, path: str) -> list[str]:
    """The names along a place path (``/1/7/23/``), root first: one statement."""
    ids = [int(x) for x in path.strip("/").split("/") if x]
    names = dict(session.execute(select(Place.id, Place.name).where(Place.id.in_(ids))).all())
    return [names[i] for i in ids if i in names]


def region_name(session: Session, place: Place | None) -> str | None:
    """The name of the region-level ancestor (what ``Group.region`` holds), else the nearest place's."""
    if place is None:
        return None
    chain = ancestors(session, place)
    for p in chain:
        if p.level == PlaceLevel.REGION:
            return p.name
    return chain[-1].name if chain else place.name


def country_name(code: str) -> str:
    """The English name of an ISO 3166 country code (``KE`` -> ``Kenya``), else the code itself."""
    from babel import Locale

    code = (code or "").strip().upper()
    return Locale("en").territories.get(code, code) if code else code


def country_place(session: Session, code: str) -> Place:
    """The country-level place of an ISO code (its ``code`` is the ISO code), added if missing."""
    code = code.strip().upper()
    found = session.scalar(select(Place).where(Place.code == code, Place.level == PlaceLevel.COUNTRY))
    if found is None:
        found = session.scalar(select(Place).where(Place.parent_id.is_(None), Place.name == country_name(code)))
        if found is not None and found.code is None:
            found.code = code
    return found or add_place(session, country_name(code), PlaceLevel.COUNTRY, code=code)


def under_places_of(place_ids: Iterable[int] | Select[int]) -> ColumnElement[bool]:
    """Like :func:`groups_under` without a session: ``place_ids`` may be a SELECT of place ids."""
    from sqlalchemy.orm import aliased

    top = aliased(Place)
    subtree = (select(Place.id).join(top, Place.path.startswith(top.path))
               .where(top.id.in_(place_ids)))
    return Group.place_id.in_(subtree)


def set_group_place(session: Session, group: Group, place: Place | None) -> None:
    """Put ``group`` in ``place``; its ``region`` follows (the region-level ancestor's name)."""
    group.place_id = place.id if place is not None else None
    if place is not None:
        group.region = (region_name(session, place) or "")[:80] or None


def rename_place(session: Session, place: Place, name: str) -> None:
    """Rename a place; groups whose ``region`` is its name follow when it is a region (or a root)."""
    name = name.strip()
    old = place.name
    place.name = name
    session.flush()
    if old == name:
        return
    for group in session.scalars(select(Group).where(groups_under(session, [place.id]), Group.region == old)):
        group.region = (region_name(session, session.get(Place, group.place_id)) or "")[:80] or None


def tree(session: Session, max_depth: int | None = None) -> list[tuple[Place, int]]:
    """Every place with its depth (0 for a root), in tree order (parents first, siblings by name)."""
    places = list(session.scalars(select(Place)))
    children: dict[int | None, list[Place]] = {}
    for p in places:
        children.setdefault(p.parent_id, []).append(p)
    for kids in children.values():
        kids.sort(key=lambda p: p.name.casefold())
    out: list[tuple[Place, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        if max_depth is not None and depth > max_depth:
            return
        for p in children.get(parent, []):
            out.append((p, depth))
            walk(p.id, depth + 1)

    walk(None, 0)
    return out


def coordinator_clause(coordinator: Coordinator, regions: bool = True) -> ColumnElement[bool]:
    """A WHERE clause on ``Group``: the groups a coordinator serves (not counting ``all_groups``).

    Her linked groups, the groups under her places (``coordinator_places``, the subtree) and,
    for data from before the place tree, the groups whose ``region`` is one of her ``regions``.
    """
    from groups.models import CoordinatorGroup
    from orgs.models import CoordinatorPlace

    clauses: list[ColumnElement[bool]] = [
        Group.id.in_(select(CoordinatorGroup.group_id).where(CoordinatorGroup.coordinator_id == coordinator.id)),
        under_places_of(select(CoordinatorPlace.place_id).where(CoordinatorPlace.coordinator_id == coordinator.id)),
    ]
    if regions and coordinator.regions:
        clauses.append(Group.region.in_(list(coordinator.regions)))
    return or_(*clauses)


def coordinator_group_ids(coordinator: Coordinator, regions: bool = True, outside: Iterable[str] = ()) -> Select[int]:
    """The ids of :func:`coordinator_clause`'s groups as a SELECT that reads indexes only.

    The same groups, as a UNION of her linked groups, the groups under her places
    (``groups.place_id``'s index) and, with ``regions``, her regions' groups
    (``groups.region``'s index): an OR of ``IN (subquery)`` tests cannot use an
    index, so ``coordinator_clause`` scans every group (300,000 rows, a third of
    a second, once per reference in the dashboard's statement). ``outside``: only groups
    whose region is none of these (or none).
    """
    from groups.models import CoordinatorGroup
    from orgs.models import CoordinatorPlace

    outside = list(outside)
    keep = [or_(Group.region.is_(None), Group.region.not_in(outside))] if outside else []
    parts = [select(Group.id.label("id")).join(CoordinatorGroup, CoordinatorGroup.group_id == Group.id)
             .where(CoordinatorGroup.coordinator_id == coordinator.id, *keep),
             select(Group.id.label("id")).where(under_places_of(
                 select(CoordinatorPlace.place_id).where(CoordinatorPlace.coordinator_id == coordinator.id)), *keep)]
    if regions and coordinator.regions:
        parts.append(select(Group.id.label("id")).where(Group.region.in_(list(coordinator.regions)), *keep))
    ids = union(*parts).subquery("coordinator_group_ids")
    return select(ids.c.id)


def coordinator_places(session: Session, coordinator_id: int) -> list[Place]:
    from orgs.models import CoordinatorPlace

    return list(session.scalars(select(Place).join(CoordinatorPlace, CoordinatorPlace.place_id == Place.id)
                                .where(CoordinatorPlace.coordinator_id == coordinator_id).order_by(Place.path)))


def set_coordinator_places(session: Session, coordinator_id: int, place_ids: Iterable[int]) -> None:
    from sqlalchemy import delete

    from orgs.models import CoordinatorPlace

    session.execute(delete(CoordinatorPlace).where(CoordinatorPlace.coordinator_id == coordinator_id))
    for pid in sorted(set(place_ids)):
        session.add(CoordinatorPlace(coordinator_id=coordinator_id, place_id=pid))
    session.flush()


def group_ids_in(place_id: int | None = None, project_id: int | None = None,
                 *where: ColumnElement[bool]) -> Select[int]:
    """A SELECT of the ids of the groups under ``place_id`` (its subtree) and in ``project_id``,
    and ``where`` (a staff member's scope): what the reports read against ``report_groups`` by join."""
    from orgs.models import ProjectGroup

    stmt = select(Group.id).where(*where)
    if place_id is not None:
        stmt = stmt.where(under_places_of([place_id]))
    if project_id is not None:
        stmt = stmt.where(Group.id.in_(select(ProjectGroup.group_id).where(ProjectGroup.project_id == project_id)))
    return stmt


def place_for_region(session: Session, country: str, region: str | None) -> Place:
    """The place a group with this country code and free-text region sits in (as orgs02 migrated
    them): the region-level place of that name in the country, else the country; added if missing."""
    top = country_place(session, country)
    text = (region or "").strip()
    if not text:
        return top
    found = session.scalar(select(Place).where(Place.parent_id == top.id, Place.name == text[:120]))
    return found or add_place(session, text[:120], PlaceLevel.REGION, top)


def exact_region_names(session: Session, place_id: int) -> tuple[str, ...] | None:
    """The region names whose groups are exactly the groups under a country or region place, else None.

    The dashboard keeps totals per region name (``report_totals``): when a place's groups are
    exactly those of some region names (no group under it outside them, no group of those names
    elsewhere: the same name in two countries is not), the place filter reads those few rows
    instead of every group's own (a country of 255,000 groups: milliseconds, not seconds).
    """
    from sqlalchemy import func

    place = session.get(Place, place_id)
    if place is None or place.level not in (PlaceLevel.COUNTRY, PlaceLevel.REGION):
        return None
    names = sorted(set(session.scalars(select(Place.name).where(
        Place.level == PlaceLevel.REGION, Place.path.startswith(place.path, autoescape=True)))))
    if not names:
        return None
    subtree = select(Place.id).where(Place.path.startswith(place.path, autoescape=True))
    inside, inside_named = session.execute(select(func.count(), func.count().filter(Group.region.in_(names)))
                                           .where(Group.place_id.in_(subtree))).one()
    named = session.scalar(select(func.count()).select_from(Group).where(Group.region.in_(names)))
    return tuple(names) if inside == inside_named == named else None
