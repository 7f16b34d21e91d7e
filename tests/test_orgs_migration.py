"""orgs02: free-text regions become places, nothing lost, on SQLite and PostgreSQL; and back."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text

import migrations
from db import make_engine

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Connection, Engine, Row

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])

GROUPS = [  # code, country, region
    ("KIS1", "KE", "Kisumu"),
    ("KIS2", "KE", "Kisumu"),
    ("NBO1", "KE", "Nairobi"),
    ("NOREG", "KE", None),
    ("BLANK", "KE", ""),
    ("CEN1", "KE", "Central"),
    ("CEN2", "UG", "Central"),  # the same region name in another country
    ("BERDE", "AZ", "Bərdə"),
]


@pytest.fixture(params=BACKENDS)
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A database at firsthour01 (before the place tree), with groups in several regions."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mig.sqlite3'}"
    else:
        base = os.environ["TEST_DATABASE_URL"]
        name = base.rsplit("/", 1)[1] + "_mig"
        from sqlalchemy import create_engine

        eng = create_engine(base, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        eng.dispose()
        url = base.rsplit("/", 1)[0] + "/" + name
    migrations.upgrade(url, "firsthour01")
    engine = make_engine(url)
    with engine.begin() as conn:
        for i, (code, country, region) in enumerate(GROUPS, 1):
            conn.execute(text(
                "INSERT INTO groups (id, code, name, kind, currency, country, language, timezone, region,"
                " meeting_weekday, meeting_time, meeting_place, meeting_every_weeks, saving_amount, share_value,"
                " shares_min, shares_max, social_fund_amount, off_rule_contribution, fine_types,"
                " loan_limit_multiplier, service_charge_bp, max_active_loans, plain_letters, status)"
                " VALUES (:id, :code, :code, 'vsla', 'KES', :country, 'en', 'UTC', :region, 1, '10:00:00', '', 1,"
                " 0, 0, 1, 5, 0, 'refuse', '{}', 3, 1000, 1, false, 'active')"),
                dict(id=i, code=code, country=country, region=region))
        conn.execute(text("INSERT INTO coordinators (id, phone, name, organisation, language, regions, all_groups)"
                          " VALUES (1, '+254700000009', 'Wanjiru', '', 'en', :regions, false)"),
                     dict(regions='["Kisumu", "Central", "Nowhere"]'))
    yield url, engine
    engine.dispose()
    if request.param == "postgresql":
        from sqlalchemy import create_engine

        eng = create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        eng.dispose()


def _places(conn: Connection) -> dict[int, Row[Any]]:
    return {r.id: r for r in conn.execute(text("SELECT id, parent_id, level, name, code, path FROM places"))}


def test_regions_become_places_and_back(old_db: tuple[str, Engine]) -> None:
    url, engine = old_db
    migrations.upgrade(url, "orgs02")
    with engine.connect() as conn:
        places = _places(conn)
        rows = {r.code: r for r in conn.execute(text("SELECT code, country, region, place_id FROM groups"))}
        for code, country, region in GROUPS:
            row = rows[code]
            assert row.region == region  # the text is kept as it was
            place = places[row.place_id]
            chain = [places[int(i)] for i in place.path.strip("/").split("/")]
            assert chain[0].level == "country" and chain[0].code == country and chain[0].parent_id is None
            if region:
                assert (place.level, place.name, place.parent_id) == ("region", region, chain[0].id)
            else:
                assert place.id == chain[0].id
        names = {places[rows[c].place_id].path.split("/")[1] for c in rows}
        assert {places[int(i)].name for i in names} == {"Kenya", "Uganda", "Azerbaijan"}
        assert rows["KIS1"].place_id == rows["KIS2"].place_id
        assert rows["CEN1"].place_id != rows["CEN2"].place_id  # Central, Kenya is not Central, Uganda
        assert rows["NOREG"].place_id == rows["BLANK"].place_id
        coordinator = {places[r[0]].name + "/" + str(places[r[0]].parent_id) for r in
                       conn.execute(text("SELECT place_id FROM coordinator_places WHERE coordinator_id = 1"))}
        kenya = places[rows["KIS1"].place_id].parent_id
        uganda = places[rows["CEN2"].place_id].parent_id
        assert coordinator == {f"Kisumu/{kenya}", f"Central/{kenya}", f"Central/{uganda}", "Nowhere/None"}
    # Upgrading a database with places already there adds none twice.
    migrations.downgrade(url, "orgs01")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM groups WHERE place_id IS NOT NULL")).scalar() == 0
        assert [r[0] for r in conn.execute(text("SELECT region FROM groups ORDER BY id"))] == [g[2] for g in GROUPS]
        count = conn.execute(text("SELECT count(*) FROM places")).scalar()
    migrations.upgrade(url, "orgs02")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM places")).scalar() == count
        assert conn.execute(text("SELECT count(*) FROM groups WHERE place_id IS NULL")).scalar() == 0
    migrations.downgrade(url, "firsthour01")
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT region FROM groups ORDER BY id"))] == [g[2] for g in GROUPS]
    migrations.upgrade(url)  # and to the head again
