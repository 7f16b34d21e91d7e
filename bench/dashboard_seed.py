"""The national-scale seed for the dashboard benchmark (bench/dashboard.py), made once and reused.

PostgreSQL only, in its own schema ``dash_bench`` of ``BENCH_DATABASE_URL``
(so the test suite's resets and bench/outreach.py's schema are untouched):

- 300,000 groups and 4.5 million members, COPYed by bench/outreach.py's ``seed``
  (140 regions, one in five groups a VSLA, all in INR); to have more than one
  currency, one group in ten is made a Kenyan (KES) group and one in twenty a
  Vietnamese (VND) one;
- the dashboard's aggregates as ``flask reports rebuild`` and the commit hooks
  leave them: a figures row per group, twelve weeks of moves per group
  (3.6 million rows), the totals and weeks per region, kind and currency, and
  this month's SMS per group. The money figures are drawn at random (the
  ledger itself is not seeded: the dashboard never reads it); members are the
  real counts.

- the activity a group's page shows (``seed_activity``): the benchmarked group
  (id 12345) gets a treasurer, a chair and eight weeks of real books posted
  through the ledger (``demo.history``: savings, fines, two loans, one
  of them overdue, closed meetings, a help request), its figures row rewritten
  by the commit hooks as in production; then the outbox gets two million
  reminders to the first 2 million members (group by group, as a reminder run
  writes them, so the group's own SMS are far older than the newest 20,000
  rows) and the inbox 300,000 SMS from members, a few from the group's.

Run: ``python -m bench.dashboard_seed`` (``--groups`` to scale down;
``--activity-only`` to redo only the last step on an existing seed). About
five to ten minutes on the 2-core machine.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench import outreach  # noqa: E402

SCHEMA = "dash_bench"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kassa_dash"
TODAY = dt.date(2026, 11, 30)
WEEKS = 12
FIG = ("groups, members, savings, social_fund, cash_box, bank, service_charges, fines, loans_outstanding, "
       "active_loans, overdue_loans, par_base, par30, due_so_far, paid_on_time, meetings")


def base_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


def sqlalchemy_url(base: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{SCHEMA}"


def connect(autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(outreach.raw_conninfo(base_url()), options=f"-csearch_path={SCHEMA}",
                           autocommit=autocommit)


def create_tables() -> None:
    """Every table and index of the models (tables and indexes added by a later merge appear on the next run)."""
    from db import make_engine
    from dbschema import metadata

    engine = make_engine(sqlalchemy_url(base_url()))
    metadata.create_all(engine)
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    engine.dispose()


def seed_people(groups: int, per_group: int) -> None:
    with psycopg.connect(outreach.raw_conninfo(base_url()), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    create_tables()
    with connect() as conn:
        outreach.seed(conn, groups, per_group, broadcast=min(1_000_000, groups * per_group // 5))
        conn.execute("UPDATE groups SET currency = 'KES', country = 'KE' WHERE id % 10 = 3")
        conn.execute("UPDATE groups SET currency = 'VND', country = 'VN' WHERE id % 20 = 7")
        conn.commit()


def seed_figures() -> None:
    """The aggregates, as the commit hooks would have kept them."""
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    with connect() as conn:
        for table in ("report_groups", "report_group_weeks", "report_totals", "report_weeks", "report_sms",
                      "report_sms_totals"):
            conn.execute(f"TRUNCATE {table}")
        # Per group: money in its currency's minor units (VND has none), loans on one group in two.
        conn.execute(f"""
            INSERT INTO report_groups (group_id, region, kind, currency, as_of, refresh_at, {FIG})
            SELECT g.id, coalesce(g.region, ''), g.kind, g.currency, %(today)s, NULL,
                   1, m.n, s.savings, s.savings / 12, s.savings / 5, s.savings / 7, s.savings / 40, s.savings / 90,
                   l.loans, CASE WHEN l.loans > 0 THEN 1 + g.id %% 3 ELSE 0 END,
                   CASE WHEN g.id %% 9 = 0 THEN 1 ELSE 0 END, l.loans,
                   CASE WHEN g.id %% 17 = 0 THEN l.loans / 2 ELSE 0 END, l.loans / 3, greatest(l.loans / 3 - (g.id %% 13) * 10, 0),
                   20 + g.id %% 30
            FROM groups g
            JOIN (SELECT group_id, count(*) AS n FROM memberships WHERE status = 'active' GROUP BY group_id) m
              ON m.group_id = g.id
            CROSS JOIN LATERAL (SELECT (CASE g.currency WHEN 'VND' THEN 1000 ELSE 100 END)
                                       * (m.n * (200 + (g.id::bigint * 7919) %% 1800)) AS savings) s
            CROSS JOIN LATERAL (SELECT CASE WHEN g.id %% 2 = 0 THEN s.savings / 3 ELSE 0 END AS loans) l
        """, {"today": TODAY})
        # Twelve weeks of moves per group: savings and loans grew, about one meeting a week.
        conn.execute(f"""
            INSERT INTO report_group_weeks (group_id, week, {FIG})
            SELECT r.group_id, %(monday)s - 7 * w, 0, 0, r.savings / 40, r.social_fund / 40, 0, 0, 0, 0,
                   r.loans_outstanding / 50, 0, 0, r.par_base / 50, r.par30 / 60, 0, 0,
                   CASE WHEN (r.group_id + w) %% 6 = 0 THEN 0 ELSE 1 END
            FROM report_groups r CROSS JOIN generate_series(0, {WEEKS - 1}) AS w
        """, {"monday": monday})
        conn.execute(f"""
            INSERT INTO report_totals (region, kind, currency, {FIG})
            SELECT region, kind, currency, {', '.join(f'sum({c})' for c in FIG.split(', '))}
            FROM report_groups GROUP BY region, kind, currency
        """)
        conn.execute(f"""
            INSERT INTO report_weeks (week, region, kind, currency, {FIG})
            SELECT w.week, r.region, r.kind, r.currency, {', '.join(f'sum(w.{c})' for c in FIG.split(', '))}
            FROM report_group_weeks w JOIN report_groups r USING (group_id)
            GROUP BY w.week, r.region, r.kind, r.currency
        """)
        month = TODAY.replace(day=1)
        conn.execute("""
            INSERT INTO report_sms (group_id, month, sent, segments)
            SELECT group_id, %(month)s, members * 5, members * 6 FROM report_groups
        """, {"month": month})
        conn.execute("""
            INSERT INTO report_sms_totals (month, region, kind, currency, sent, segments)
            SELECT s.month, r.region, r.kind, r.currency, sum(s.sent), sum(s.segments)
            FROM report_sms s JOIN report_groups r USING (group_id) GROUP BY s.month, r.region, r.kind, r.currency
        """)
        conn.commit()
    with connect(autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


BENCH_GROUP = 12345


def seed_activity(outbox_rows: int = 2_000_000, inbox_rows: int = 300_000) -> None:
    """The bench group's books (through the ledger and its commit hooks), then a large outbox and inbox."""
    from sqlalchemy import select, text, update
    from sqlalchemy.orm import Session

    import reports.maintain  # noqa: F401  (the commit hooks that keep the aggregates)
    from db import make_engine
    from demo.history import seed_history
    from groups.models import Group, Membership, Role

    with connect() as conn:
        conn.execute("TRUNCATE outbox, inbox RESTART IDENTITY")
        conn.commit()
    engine = make_engine(sqlalchemy_url(base_url()))
    with Session(engine) as s:
        group = s.get(Group, BENCH_GROUP)
        assert group is not None, "seed the groups first"
        first = s.scalar(select(Membership.id).where(Membership.group_id == group.id)
                         .order_by(Membership.number).limit(1))
        assert first is not None, "seed the groups first"
        s.execute(update(Membership).where(Membership.id == first).values(role=Role.TREASURER))
        s.execute(update(Membership).where(Membership.id == first + 1).values(role=Role.CHAIR))
        # bench/outreach.py's seed gives every group bare loans (for its reminders); the bench group's
        # loans are the ones its books post, so its bare ones go while it has no books yet
        s.execute(text("DELETE FROM ledger_loans l WHERE l.group_id = :g AND NOT EXISTS "
                       "(SELECT 1 FROM ledger_txns t WHERE t.group_id = :g)"), {"g": group.id})
        posted = seed_history(s, group)
        s.commit()
    engine.dispose()
    with connect() as conn:
        members = conn.execute("SELECT count(*) FROM members").fetchall()[0][0]
        reached = min(outbox_rows, members)
        conn.execute("""
            INSERT INTO outbox (to_phone, member_id, group_id, text, language, encoding, segments, priority,
                                kind, dedupe_key, status, provider, provider_id, attempts, created_at, updated_at,
                                sent_at)
            SELECT m.phone, m.id, ms.group_id, 'Kassa: your group meets tomorrow at 10:00. Bring your savings.',
                   m.language, 'gsm7', 1, 1, 'reminder', 'bench:rem:' || n, 'delivered', 'bench', 'p' || n, 1,
                   now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour'
            FROM generate_series(1, %(n)s) AS n
            JOIN members m ON m.id = (n - 1) %% %(members)s + 1
            JOIN memberships ms ON ms.member_id = m.id
            ORDER BY n
        """, {"n": outbox_rows, "members": members})
        conn.execute("""
            INSERT INTO inbox (provider, provider_message_id, from_phone, "to", text, status, command, attempts,
                               received_at, processed_at)
            SELECT 'bench', 'in' || n, m.phone, '22333', 'SAVE 100', 'done', 'save', 1,
                   now() - interval '1 day' + n * interval '100 ms', now() - interval '1 day'
            FROM generate_series(1, %(n)s) AS n
            JOIN members m ON m.id = CASE WHEN n %% 20000 = 0 THEN %(ours)s + (n / 20000) %% 15
                                          ELSE (n::bigint * 7919) %% %(members)s + 1 END
            ORDER BY n
        """, {"n": inbox_rows, "members": members, "ours": (BENCH_GROUP - 1) * 15 + 1})
        conn.commit()
    with connect(autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE outbox")
        conn.execute("VACUUM ANALYZE inbox")
        conn.execute("VACUUM ANALYZE")
    print(f"group {BENCH_GROUP}: books {'posted' if posted else 'already there'}; outbox {outbox_rows:,} rows "
          f"({reached:,} members), inbox {inbox_rows:,}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--groups", type=int, default=300_000)
    p.add_argument("--per-group", type=int, default=15)
    p.add_argument("--figures-only", action="store_true", help="keep the groups and members, redo the aggregates")
    p.add_argument("--activity-only", action="store_true",
                   help="keep the groups, members and aggregates; redo the bench group's books, outbox and inbox")
    p.add_argument("--outbox", type=int, default=2_000_000, help="outbox rows (reminders)")
    p.add_argument("--inbox", type=int, default=300_000, help="inbox rows")
    args = p.parse_args(argv)
    start = time.perf_counter()
    if args.activity_only:
        create_tables()
        seed_activity(args.outbox, args.inbox)
        print(f"activity in {time.perf_counter() - start:.0f} s", flush=True)
        return 0
    if not args.figures_only:
        seed_people(args.groups, args.per_group)
        print(f"seeded {args.groups:,} groups, {args.groups * args.per_group:,} members "
              f"in {time.perf_counter() - start:.0f} s", flush=True)
    else:
        create_tables()
    seed_figures()
    print(f"aggregates in {time.perf_counter() - start:.0f} s", flush=True)
    seed_activity(args.outbox, args.inbox)
    print(f"activity in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
