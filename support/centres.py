"""Which resource centre a request for help belongs to: the one covering her group's place."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.models import Group
from orgs.models import Centre, CentrePlace, Place


def centre_for_place(session: Session, place_id: int | None) -> Centre | None:
    """The active centre covering ``place_id`` (the nearest cover wins), else the first active centre."""
    if place_id is not None:
        path = session.scalar(select(Place.path).where(Place.id == place_id))
        if path:
            ids = [int(x) for x in path.strip("/").split("/") if x]
            covers = session.execute(
                select(Centre, Place.path).join(CentrePlace, CentrePlace.centre_id == Centre.id)
                .join(Place, Place.id == CentrePlace.place_id)
                .where(CentrePlace.place_id.in_(ids), Centre.active.is_(True))).all()
            if covers:
                return max(covers, key=lambda row: (len(row[1]), -row[0].id))[0]
    return default_centre(session)


def default_centre(session: Session) -> Centre | None:
    return session.scalar(select(Centre).where(Centre.active.is_(True)).order_by(Centre.id).limit(1))


def centre_for_group(session: Session, group: Group | None) -> Centre | None:
    return centre_for_place(session, group.place_id if group is not None else None)
