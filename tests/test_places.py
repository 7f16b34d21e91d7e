"""The place tree: paths, subtrees and the region name a group keeps."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from groups.models import Group
from orgs.models import Place, PlaceLevel
from orgs.places import add_place, ancestors, find_or_add, groups_under, region_name

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tests.fixture_types import DemoPeople


def _tree(session: Session) -> tuple[Place, Place, Place, Place, Place, Place]:
    vn = add_place(session, "Việt Nam", PlaceLevel.COUNTRY)
    yb = add_place(session, "Yên Bái", PlaceLevel.REGION, vn)
    vc = add_place(session, "Văn Chấn", PlaceLevel.DISTRICT, yb)
    tt = add_place(session, "Tân Thịnh", PlaceLevel.COMMUNE, vc)
    t9 = add_place(session, "Thôn 9", PlaceLevel.VILLAGE, tt)
    other = add_place(session, "Lục Yên", PlaceLevel.DISTRICT, yb)
    return vn, yb, vc, tt, t9, other


def test_paths_and_ancestors(session: Session) -> None:
    vn, yb, vc, tt, t9, other = _tree(session)
    assert t9.path == f"/{vn.id}/{yb.id}/{vc.id}/{tt.id}/{t9.id}/"
    assert [p.name for p in ancestors(session, t9)] == ["Việt Nam", "Yên Bái", "Văn Chấn", "Tân Thịnh", "Thôn 9"]
    assert region_name(session, t9) == "Yên Bái"
    assert region_name(session, vn) == "Việt Nam"
    assert find_or_add(session, "Văn Chấn", PlaceLevel.DISTRICT, yb).id == vc.id
    assert find_or_add(session, "Nghĩa Lộ", PlaceLevel.DISTRICT, yb).id not in {vc.id, other.id}


def test_groups_under_a_place_roll_up_the_tree(session: Session, demo: DemoPeople) -> None:
    vn, yb, vc, tt, t9, other = _tree(session)
    groups = list(session.scalars(select(Group).order_by(Group.id)))
    assert len(groups) >= 2
    groups[0].place_id = t9.id
    groups[1].place_id = other.id
    session.flush()

    def codes(*places: Place) -> set[str]:
        return {g.code for g in session.scalars(select(Group).where(groups_under(session, [p.id for p in places])))}

    assert codes(vc) == {groups[0].code}
    assert codes(yb) == {groups[0].code, groups[1].code}
    assert codes(vc, other) == {groups[0].code, groups[1].code}
    assert codes(t9) == {groups[0].code}
    assert codes() == set()
    # A sibling whose id is a prefix of another's (/1/ and /12/) is not inside it.
    assert all(not p.path.startswith(t9.path) for p in session.scalars(select(Place)) if p.id != t9.id)
