"""The dashboard's place and project filters on the national-scale seed (bench/dashboard_seed.py).

Adds a place tree to the seed once (a country per ISO code, a region place per
(country, region) text as migration orgs02 does, ten districts under each
region, every group in a district of its region) and a project holding one
group in four. Then, in process and interleaved round by round, reads the
dashboard's figures (``reports.read.dashboard``, one round trip) for:

- every group (the admin's dashboard: totals per region, kind and currency);
- one region by name (the region filter: the same totals, one region's rows);
- the same region as a place (its subtree's group ids, read per group by join);
- one district as a place (about a tenth of that region);
- a whole country as a place (every group of the seed's largest country);
- a project (one group in four) and a project within one region.

Reported per round: the median wall time of each read and its ratio to the
floor (``SELECT 1`` through the same session) measured in the same round;
then the median of the per-round ratios, the load average before and after.

Run: ``python -m bench.dashboard_seed`` once (``BENCH_DATABASE_URL``), then
``python -m bench.places [--rounds 5] [--reads 5]``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dashboard_seed  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    import psycopg
    from sqlalchemy.orm import Session

    from reports.read import Filters, GroupScope

DISTRICTS = 10


def add_tree(conn: psycopg.Connection[Any]) -> None:
    """The place tree and the project, once (skipped when the groups already sit in places)."""
    if conn.execute("SELECT count(*) FROM groups WHERE place_id IS NULL").fetchall()[0][0] == 0:
        return
    from babel import Locale

    names = Locale("en").territories
    conn.execute("DELETE FROM project_groups")
    conn.execute("DELETE FROM projects")
    conn.execute("UPDATE groups SET place_id = NULL")
    conn.execute("DELETE FROM places")
    countries = [r[0] for r in conn.execute("SELECT DISTINCT country FROM groups ORDER BY 1")]
    for code in countries:
        cid = conn.execute("INSERT INTO places (level, name, code, path) VALUES ('country', %s, %s, '') RETURNING id",
                           (names.get(code, code), code)).fetchall()[0][0]
        conn.execute("UPDATE places SET path = %s WHERE id = %s", (f"/{cid}/", cid))
        regions = [r[0] for r in conn.execute("SELECT DISTINCT region FROM groups WHERE country = %s", (code,))]
        for region in regions:
            rid = conn.execute("INSERT INTO places (parent_id, level, name, path) VALUES (%s, 'region', %s, '') "
                               "RETURNING id", (cid, region)).fetchall()[0][0]
            conn.execute("UPDATE places SET path = %s WHERE id = %s", (f"/{cid}/{rid}/", rid))
            for d in range(DISTRICTS):
                did = conn.execute("INSERT INTO places (parent_id, level, name, path) VALUES (%s, 'district', %s, '')"
                                   " RETURNING id", (rid, f"{region}-D{d}")).fetchall()[0][0]
                conn.execute("UPDATE places SET path = %s WHERE id = %s", (f"/{cid}/{rid}/{did}/", did))
    conn.execute(f"""
        UPDATE groups g SET place_id = d.id
        FROM places c JOIN places r ON r.parent_id = c.id JOIN places d ON d.parent_id = r.id
        WHERE c.code = g.country AND r.name = g.region AND d.name = g.region || '-D' || ((g.id / 140) % {DISTRICTS})""")
    pid = conn.execute("INSERT INTO projects (code, name) VALUES ('BENCH', 'Bench project') RETURNING id").fetchall()[0][0]
    conn.execute("INSERT INTO project_groups (project_id, group_id) SELECT %s, id FROM groups WHERE id %% 4 = 0", (pid,))
    conn.execute("ANALYZE places")
    conn.execute("ANALYZE groups")
    conn.execute("ANALYZE project_groups")
    conn.commit()


def cases(session: Session) -> list[tuple[str, Callable[[], GroupScope | None] | None, Filters, int | None]]:
    from sqlalchemy import func, select

    from groups.models import Group
    from orgs.models import Place, Project
    from orgs.places import group_ids_in
    from reports.read import Filters

    region = "R5"
    r5 = session.scalar(select(Place.id).where(Place.level == "region", Place.name == region))
    district = session.scalar(select(Place.id).where(Place.parent_id == r5).order_by(Place.id).limit(1))
    big = session.execute(select(Group.country, func.count()).group_by(Group.country)
                          .order_by(func.count().desc()).limit(1)).one()[0]
    country = session.scalar(select(Place.id).where(Place.code == big, Place.level == "country"))
    project = session.scalar(select(Project.id).where(Project.code == "BENCH"))

    from console.dashboard import staff_scope
    from console.models import Staff, StaffRole

    admin = Staff(role=StaffRole.ADMIN)

    def ids(place: int | None = None, proj: int | None = None) -> GroupScope | None:
        """The scope the console's dashboard reads for an admin (console.dashboard.staff_scope)."""
        return staff_scope(session, admin, Filters(place=place, project=proj))

    count = {name: session.scalar(select(func.count()).select_from(q.subquery())) for name, q in (
        ("region place", group_ids_in(r5)), ("district place", group_ids_in(district)),
        ("country place", group_ids_in(country)), ("project", group_ids_in(None, project)),
        ("project in a region", group_ids_in(r5, project)))}
    return [
        ("every group (admin)", None, Filters(), None),
        ("one region by name", None, Filters(region=region), None),
        # the scope is worked out inside each timed read (the exactness check is part of the cost)
        ("region place (subtree)", lambda: ids(r5), Filters(place=r5), count["region place"]),
        ("district place", lambda: ids(district), Filters(place=district), count["district place"]),
        (f"country place ({big})", lambda: ids(country), Filters(place=country), count["country place"]),
        ("project", lambda: ids(None, project), Filters(project=project), count["project"]),
        ("project in a region", lambda: ids(r5, project), Filters(place=r5, project=project),
         count["project in a region"]),
    ]


def _one(conn: Any, sql: str) -> int:
    """The one number a ``SELECT count(*)`` answers."""
    row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--reads", type=int, default=5, help="reads of each case per round (the median is kept)")
    args = p.parse_args(argv)
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from db import make_engine
    from reports.read import dashboard

    with dashboard_seed.connect() as conn:
        start = time.perf_counter()
        add_tree(conn)
        print(f"place tree ready in {time.perf_counter() - start:.1f} s", flush=True)
        # The tree and the project were written around the commit hooks: their rollups (and each
        # group's place path and projects) recomputed as ``flask reports rebuild`` does, by
        # reports.rollups_sql's statements, when they do not match the tree yet.
        stale = _one(conn, "SELECT count(*) FROM report_groups r JOIN groups g ON g.id = r.group_id "
                     "JOIN places p ON p.id = g.place_id WHERE r.place_path <> p.path")
        if stale or _one(conn, "SELECT count(*) FROM report_rollups") == 0:
            from reports.rollups_sql import rollups, whereabouts

            start = time.perf_counter()
            for stmt in whereabouts("postgresql") + rollups():
                conn.execute(stmt)  # no parameters: psycopg sends the % of LIKE as written
            conn.commit()
            conn.execute("ANALYZE report_rollups")
            conn.execute("ANALYZE report_rollup_weeks")
            conn.commit()
            print(f"rollups recomputed in {time.perf_counter() - start:.1f} s", flush=True)
    engine = make_engine(dashboard_seed.sqlalchemy_url(dashboard_seed.base_url()))
    today = dashboard_seed.TODAY
    load_before = os.getloadavg()
    ratios: dict[str, list[float]] = {}
    with Session(engine) as session:
        plan = cases(session)
        print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; groups per case: "
              + ", ".join(f"{name}: {n:,}" for name, _s, _f, n in plan if n is not None))
        for rnd in range(1, args.rounds + 1):
            def timed(fn: Callable[[], object]) -> float:
                times = []
                for _ in range(args.reads):
                    t0 = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - t0)
                return statistics.median(times)

            floor = timed(lambda: session.execute(text("SELECT 1")).scalar())
            row = []
            for name, scope, filters, _n in plan:
                def read(s: Callable[[], GroupScope | None] | None = scope, f: Filters = filters) -> object:
                    return dashboard(session, s() if s is not None else s, f, today=today, prices={})

                ms = timed(read)
                ratios.setdefault(name, []).append(ms / floor)
                row.append(f"{name} {ms * 1000:.1f} ms")
            print(f"round {rnd}: floor {floor * 1000:.2f} ms; " + "; ".join(row), flush=True)
            session.rollback()
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print("median of per-round ratios to the floor:")
    for name, values in ratios.items():
        print(f"  {name:<28} {statistics.median(values):>10.0f}x")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
