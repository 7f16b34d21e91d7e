"""orgs02 free-text regions become places; coordinators' regions become coordinator_places

Every group gets a place: a country place per ``groups.country`` (named in
English from the ISO code, its ``code`` the ISO code) and, under it, a
region-level place per distinct (country, region) text; a group without a
region sits in its country. ``groups.region`` is left as it was (the code keeps
it as the region's name from now on). Each coordinator's ``regions`` become
rows of ``coordinator_places``: every region-level place of that name (a name
no group uses becomes a root region place, so nothing is lost).

Downgrade drops ``coordinator_places`` and unsets ``groups.place_id``; the
places stay (orgs01's downgrade drops the table), and ``groups.region`` and
``coordinators.regions`` were never changed.

Revision ID: orgs02
Revises: orgs01
"""
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Row
from alembic import op

revision = 'orgs02'
down_revision = 'orgs01'
branch_labels = None
depends_on = None

places = sa.Table('places', sa.MetaData(), sa.Column('id', sa.Integer, primary_key=True),
                  sa.Column('parent_id', sa.Integer), sa.Column('level', sa.String), sa.Column('name', sa.String),
                  sa.Column('code', sa.String), sa.Column('path', sa.String))
groups = sa.table('groups', sa.column('id', sa.Integer), sa.column('country', sa.String),
                  sa.column('region', sa.String), sa.column('place_id', sa.Integer))
coordinators = sa.table('coordinators', sa.column('id', sa.Integer), sa.column('regions', sa.JSON))
coordinator_places = sa.table('coordinator_places', sa.column('coordinator_id', sa.Integer),
                              sa.column('place_id', sa.Integer))


def _country_name(code: str) -> str:
    from babel import Locale

    return str(Locale('en').territories.get(code, code))


def _add(conn: Connection, name: str, level: str, parent: tuple[int, str] | None, code: str | None = None) -> tuple[int, str]:
    key = conn.execute(places.insert().values(
        name=name[:120], level=level, parent_id=parent[0] if parent else None, code=code, path='')
    ).inserted_primary_key
    assert key is not None  # a single-row INSERT
    new_id: int = key[0]
    path = f"{parent[1] if parent else '/'}{new_id}/"
    conn.execute(places.update().where(places.c.id == new_id).values(path=path))
    return new_id, path


def _find(conn: Connection, name: str, parent_id: int | None) -> Row[Any, Any] | None:
    same_parent = places.c.parent_id == parent_id if parent_id is not None else places.c.parent_id.is_(None)
    return conn.execute(sa.select(places.c.id, places.c.path).where(same_parent, places.c.name == name[:120])).first()


def upgrade() -> None:
    op.create_table('coordinator_places',
    sa.Column('coordinator_id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['coordinator_id'], ['coordinators.id'], name=op.f('fk_coordinator_places_coordinator_id_coordinators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['place_id'], ['places.id'], name=op.f('fk_coordinator_places_place_id_places'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('coordinator_id', 'place_id', name=op.f('pk_coordinator_places'))
    )
    with op.batch_alter_table('coordinator_places', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordinator_places_place_id'), ['place_id'], unique=False)

    conn = op.get_bind()
    countries: dict[str, tuple[int, str]] = {}
    keys = conn.execute(sa.select(groups.c.country, groups.c.region).distinct()).all()
    for country, region in sorted(keys, key=lambda k: (k[0] or '', k[1] or '')):
        code = (country or '').strip().upper()
        if code not in countries:
            found = conn.execute(sa.select(places.c.id, places.c.path)
                                 .where(places.c.code == code, places.c.level == 'country')).first() if code else None
            found = found or _find(conn, _country_name(code) if code else '?', None)
            countries[code] = tuple(found) if found else _add(conn, _country_name(code) if code else '?', 'country',
                                                             None, code or None)
        top = countries[code]
        text = (region or '').strip()
        if text:
            found = _find(conn, text, top[0])
            place = tuple(found) if found else _add(conn, text, 'region', top)
        else:
            place = top
        same_region = groups.c.region == region if region is not None else groups.c.region.is_(None)
        same_country = groups.c.country == country if country is not None else groups.c.country.is_(None)
        conn.execute(groups.update().where(same_country, same_region, groups.c.place_id.is_(None))
                     .values(place_id=place[0]))

    for coord_id, regions in conn.execute(sa.select(coordinators.c.id, coordinators.c.regions)).all():
        if isinstance(regions, str):
            regions = json.loads(regions)
        ids: set[int] = set()
        for name in regions or []:
            name = (name or '').strip()
            if not name:
                continue
            region_ids = {r[0] for r in conn.execute(sa.select(places.c.id).where(
                places.c.level == 'region', places.c.name == name[:120]))}
            if not region_ids:
                root = _find(conn, name, None)
                region_ids = {root[0] if root else _add(conn, name, 'region', None)[0]}
            ids |= region_ids
        for place_id in sorted(ids):
            conn.execute(coordinator_places.insert().values(coordinator_id=coord_id, place_id=place_id))


def downgrade() -> None:
    op.execute(groups.update().values(place_id=None))
    with op.batch_alter_table('coordinator_places', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coordinator_places_place_id'))
    op.drop_table('coordinator_places')
