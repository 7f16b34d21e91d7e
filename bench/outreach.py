"""Benchmark: reminders for 300,000 groups / 4.5 million members, a broadcast to 1,000,000.

PostgreSQL only (``BENCH_DATABASE_URL``, default the worker's database, in its
own schema ``bench`` so the test suite's schema resets never touch it). Seeds
with COPY (groups, members, and one member in five a borrower with an active
loan, so the planner's per-borrower path runs), then measures, in the same run,
``--rounds`` times (median of the per-round ratios):

1. planning when 1% of the groups are due (first round), then when all of them
   are due (the planner's cost follows the groups due, not all groups), by
   ``--planners`` processes at once;
2. the floor for (1): a bare COPY of exactly the rows the planner wrote into
   an empty twin of the outbox (same columns, indexes and constraints), from
   as many connections at once as there were planners;
3. a broadcast fan-out to the 1,000,000 members of one region (one process);
4. its floor, measured the same way from one connection.

Run: ``python -m bench.outreach`` (``--groups`` / ``--per-group`` / ``--broadcast``
to scale down). Prints a Markdown table for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

import migrations  # noqa: E402
from config import Config  # noqa: E402
from services import Services  # noqa: E402

UTC = dt.UTC
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kassa_worker"
SCHEMA = "bench"
NOW = dt.datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # a Monday morning
LANGS = ["en"] * 40 + ["ml"] * 25 + ["az"] * 15 + ["sw"] * 10 + ["vi"] * 10
ZONES = ["Asia/Kolkata"] * 6 + ["Africa/Nairobi", "Asia/Baku", "Asia/Ho_Chi_Minh", "Europe/Stockholm"]
REGION_BROADCAST = "Thrissur"


@dataclass
class Figure:
    name: str
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def sqlalchemy_url(base: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{SCHEMA}"


def raw_conninfo(base: str) -> str:
    return base.replace("postgresql+psycopg://", "postgresql://")


def reset_schema(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")


def connect(conninfo: str) -> psycopg.Connection:
    return psycopg.connect(conninfo, options=f"-csearch_path={SCHEMA}")


def seed(conn: psycopg.Connection, groups: int, per_group: int, broadcast: int) -> None:
    """COPY ``groups`` groups of ``per_group`` members; the first groups form the broadcast region."""
    rnd = random.Random(6)
    region_groups = -(-broadcast * 50 // (per_group * 49))  # every 50th member has sent STOP
    meeting_on = NOW.date() + dt.timedelta(days=2)
    far = NOW + dt.timedelta(days=3)
    group_lang = [None] + [rnd.choice(LANGS) for _ in range(groups)]
    cols = ("id, code, name, kind, currency, country, language, timezone, region, meeting_weekday, "
            "meeting_time, meeting_place, meeting_every_weeks, saving_amount, share_value, shares_min, "
            "shares_max, social_fund_amount, off_rule_contribution, fine_types, loan_limit_multiplier, "
            "service_charge_bp, max_active_loans, plain_letters, status, reminder_days_before, "
            "reminder_time, next_meeting_on, next_reminder_at")
    with conn.cursor() as cur, cur.copy(f"COPY groups ({cols}) FROM STDIN") as copy:
        for g in range(1, groups + 1):
            vsla = g % 5 == 0
            copy.write_row((g, f"G{g}", f"Ayalkoottam {g}", "vsla" if vsla else "shg", "INR", "IN",
                            group_lang[g], rnd.choice(ZONES),
                            REGION_BROADCAST if g <= region_groups else f"R{g % 140}",
                            meeting_on.weekday(), dt.time(10, 0), f"Anganwadi {g % 977}", 1,
                            0 if vsla else 10000, 5000 if vsla else 0, 1, 5 if vsla else 1,
                            1000 * (g % 3), "refuse", "{}", 3, 200, 1, g % 7 == 0, "active", 1,
                            dt.time(18, 0), meeting_on, far))
    with conn.cursor() as cur, cur.copy(
            "COPY members (id, phone, name, language, pin_failures, pin_locked, opted_out, plain_letters, status) "
            "FROM STDIN") as copy:
        for m in range(1, groups * per_group + 1):
            # most members speak their group's language; one in seven another one
            lang = rnd.choice(LANGS) if m % 7 == 0 else group_lang[(m - 1) // per_group + 1]
            copy.write_row((m, f"+91{7000000000 + m}", f"Member {m}", lang, 0, False,
                            m % 50 == 0, True if m % 11 == 0 else None, "active"))
    with conn.cursor() as cur, cur.copy(
            "COPY memberships (id, group_id, member_id, number, role, status) FROM STDIN") as copy:
        for m in range(1, groups * per_group + 1):
            copy.write_row((m, (m - 1) // per_group + 1, m, (m - 1) % per_group + 1, "member", "active"))
    seed_borrowers(conn, groups, per_group)
    for table in ("groups", "members", "memberships", "ledger_cycles", "ledger_loans"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))")
    conn.commit()


#: One member in BORROWER_EVERY has an active loan (weekly instalments, some behind, some ahead).
BORROWER_EVERY = 5


def seed_borrowers(conn: psycopg.Connection, groups: int, per_group: int) -> int:
    """A cycle per group and an active loan for every BORROWER_EVERY-th member: the planner's
    per-borrower path (the reminder names the instalment she owes) runs for them."""
    start = NOW.date() - dt.timedelta(weeks=12)
    with conn.cursor() as cur, cur.copy("COPY ledger_cycles (id, group_id, number, started_on, share_value) "
                                        "FROM STDIN") as copy:
        for g in range(1, groups + 1):
            copy.write_row((g, g, 1, start, 5000 if g % 5 == 0 else 0))
    loans = 0
    with conn.cursor() as cur, cur.copy(
            "COPY ledger_loans (id, group_id, member_id, cycle_id, request_key, principal, charge, charge_bp, purpose, "
            "term, unit, status, requested_on, disbursed_on, principal_paid, charge_paid) FROM STDIN") as copy:
        for m in range(BORROWER_EVERY, groups * per_group + 1, BORROWER_EVERY):
            g = (m - 1) // per_group + 1
            weeks_ago = 1 + m % 8  # paid out 1-8 weeks ago, 10 weekly instalments of 110
            paid = 10000 * (m % 3) // 3  # some paid nothing, some a third, some two thirds
            loans += 1
            copy.write_row((loans, g, m, g, f"bench-loan-{m}", 100000, 10000, 200, "business", 10, "week",
                            "active", NOW.date() - dt.timedelta(weeks=weeks_ago, days=3),
                            NOW.date() - dt.timedelta(weeks=weeks_ago), paid, 0))
    return loans


def vacuum(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True, options=f"-csearch_path={SCHEMA}") as conn:
        conn.execute("VACUUM ANALYZE")


def make_due(conn: psycopg.Connection, fraction_upto: int) -> int:
    """Make groups with id <= ``fraction_upto`` due one minute before NOW, and only those.

    Then VACUUM the groups: these updates leave a dead row version and index
    entry per group, which in production autovacuum clears long before the
    groups are due (their cursors moved a week earlier); this server runs with
    autovacuum off, and the planner would otherwise wade through them.
    """
    conn.execute("UPDATE groups SET next_reminder_at = %s WHERE next_reminder_at <= %s",
                 (NOW + dt.timedelta(days=3), NOW))
    cur = conn.execute("UPDATE groups SET next_reminder_at = %s WHERE id <= %s",
                       (NOW - dt.timedelta(minutes=1), fraction_upto))
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE groups")
    conn.autocommit = False
    return cur.rowcount


def floor(conn: psycopg.Connection, where: str, parallel: int = 1) -> Figure:
    """COPY the rows the code path wrote (``where`` on outbox) into an empty twin of the outbox, from
    ``parallel`` connections at once (as many as the code path wrote with), each a share of the rows."""
    from concurrent.futures import ThreadPoolExecutor

    cols = ("to_phone, member_id, group_id, text, language, encoding, segments, priority, kind, "
            "dedupe_key, status, attempts")
    conn.execute("DROP TABLE IF EXISTS outbox_floor")
    # columns, collations, defaults, indexes (partial ones too), check constraints ...
    conn.execute("CREATE TABLE outbox_floor (LIKE outbox INCLUDING ALL)")
    for (fk,) in conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                              "WHERE conrelid = 'outbox'::regclass AND contype = 'f'").fetchall():
        conn.execute(f"ALTER TABLE outbox_floor ADD {fk}")  # ... and whatever foreign keys the outbox has
    conn.commit()
    parts = []
    for k in range(parallel):
        buf = tempfile.TemporaryFile()
        with conn.cursor() as cur, cur.copy(f"COPY (SELECT {cols} FROM outbox WHERE ({where}) AND id % {parallel} "
                                            f"= {k} ORDER BY id) TO STDOUT") as out:
            for chunk in out:
                buf.write(chunk)
        buf.seek(0)
        parts.append(buf)
    rows = conn.execute(f"SELECT count(*) FROM outbox WHERE {where}").fetchall()[0][0]
    conn.commit()
    conns = [psycopg.connect(conn.info.dsn, options=f"-csearch_path={SCHEMA}") for _ in parts]

    def write(pair: tuple[psycopg.Connection[Any], IO[bytes]]) -> None:
        c, buf = pair
        with c.cursor() as cur, cur.copy(f"COPY outbox_floor ({cols}) FROM STDIN") as copy:
            while data := buf.read(1 << 20):
                copy.write(data)
        c.commit()

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(write, zip(conns, parts, strict=True)))
    seconds = time.perf_counter() - start
    for c, buf in zip(conns, parts, strict=True):
        c.close()
        buf.close()
    conn.execute("DROP TABLE outbox_floor")
    conn.commit()
    return Figure("floor", rows, seconds)


def truncate_outbox(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE outbox RESTART IDENTITY")
    conn.commit()


def empty_queues(services: Services) -> None:
    for name in ("high", "default", "bulk"):
        services.queue(name).empty()  # type: ignore[no-untyped-call]  # unannotated in rq


def _planner_process(url: str, redis_url: str, limit: int, out: Queue[tuple[int, int, int]]) -> None:
    from outreach.planner import run_planner

    services = Services.build(Config.from_env(overrides={"DATABASE_URL": url, "REDIS_URL": redis_url}))
    summary = run_planner(services, NOW, limit=limit)
    services.close()
    out.put((summary.due, summary.stale, summary.reminders))


def run_planners(services: Services, n: int, limit: int) -> tuple[int, int, int]:
    """``n`` planner processes at once (they share the due groups with SKIP LOCKED)."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    out: Queue[tuple[int, int, int]] = ctx.Queue()
    procs = [ctx.Process(target=_planner_process, args=(services.config.DATABASE_URL, services.config.REDIS_URL,
                                                         limit, out)) for _ in range(n)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return (sum(r[0] for r in results), sum(r[1] for r in results), sum(r[2] for r in results))


def bench_planner(services: Services, conn: psycopg.Connection, groups: int, planners: int,
                  one_percent: bool = True) -> list[Figure]:
    one = max(1, groups // 100)
    figures = []
    runs = (("plan reminders, 1% of groups due", one),) if one_percent else ()
    for label, upto in runs + (("plan reminders, all groups due", groups),):
        truncate_outbox(conn)
        due = make_due(conn, upto)
        start = time.perf_counter()
        got, stale, reminders = run_planners(services, planners, limit=1000)
        seconds = time.perf_counter() - start
        assert got == due and stale == 0, (got, due, stale)
        figures.append(Figure(f"{label} ({due:,} groups, {planners} planners)", reminders, seconds))
        empty_queues(services)
    borrowers, named = conn.execute(
        "SELECT count(DISTINCT o.member_id), count(*) FILTER (WHERE o.language = 'en' AND o.text ILIKE '%loan%') "
        "FROM outbox o JOIN ledger_loans l ON l.member_id = o.member_id AND l.status = 'active' "
        "WHERE o.kind = 'reminder'").fetchall()[0]
    conn.commit()
    print(f"  reminders to {borrowers:,} borrowers; {named:,} of the English ones name a loan instalment "
          "(the planner's per-borrower path)", flush=True)
    figures.append(Figure(f"floor: COPY of the same reminder rows ({planners} connections at once)",
                          *_floor_args(floor(conn, "kind = 'reminder'", planners))))
    return figures


def _floor_args(fig: Figure) -> tuple[int, float]:
    return fig.rows, fig.seconds


def bench_broadcast(services: Services, conn: psycopg.Connection, batch: int) -> list[Figure]:
    from outreach import broadcast as bc

    truncate_outbox(conn)
    with services.db.transaction() as session:
        b = bc.create_broadcast(session, coordinator=None, target=bc.Target(regions=(REGION_BROADCAST,)),
                                message="Kudumbashree mela on Saturday at the panchayat hall, 10:00.",
                                key=f"bench-{time.time()}", sender="CDS Thrissur")
        bc.confirm(session, b, NOW, enqueue=False)
        recipients = b.recipients
    start = time.perf_counter()
    summary = bc.run_fan_out(services, b.id, batch=batch)
    seconds = time.perf_counter() - start
    assert summary.done and summary.written == recipients, (summary, recipients)
    empty_queues(services)
    return [Figure(f"broadcast fan-out ({recipients:,} recipients, {batch:,} groups per batch)", summary.written, seconds),
            Figure("floor: COPY of the same broadcast rows (1 connection, as the fan-out)",
                   *_floor_args(floor(conn, "kind = 'broadcast'", 1)))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--groups", type=int, default=300_000)
    p.add_argument("--per-group", type=int, default=15)
    p.add_argument("--broadcast", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=500, help="broadcast fan-out: groups per transaction")
    p.add_argument("--planners", type=int, default=2, help="planner processes at once")
    p.add_argument("--only", choices=("planner", "broadcast"), default=None, help="run one part")
    p.add_argument("--reuse", action="store_true", help="keep an already seeded bench schema")
    p.add_argument("--rounds", type=int, default=3, help="code path then its floor, per round")
    args = p.parse_args(argv)
    base = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    conninfo = raw_conninfo(base)
    url = sqlalchemy_url(base)
    if not args.reuse:
        reset_schema(conninfo)
        migrations.upgrade(url)
        start = time.perf_counter()
        with connect(conninfo) as conn:
            seed(conn, args.groups, args.per_group, args.broadcast)
        vacuum(conninfo)
        print(f"seeded {args.groups:,} groups, {args.groups * args.per_group:,} members "
              f"in {time.perf_counter() - start:.0f} s", flush=True)
    cfg = Config.from_env(overrides={"DATABASE_URL": url,
                                     "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4")})
    services = Services.build(cfg)
    services.redis.ping()
    figures: list[Figure] = []
    ratios: dict[str, list[float]] = {"plan": [], "fan-out": []}
    with connect(conninfo) as conn:
        for r in range(args.rounds):
            load0 = loadavg()
            found: list[Figure] = []
            if args.only != "broadcast":
                found += bench_planner(services, conn, args.groups, args.planners, one_percent=r == 0)
                ratios["plan"].append(found[-2].rate / found[-1].rate)
            if args.only != "planner":
                found += bench_broadcast(services, conn, args.batch)
                ratios["fan-out"].append(found[-2].rate / found[-1].rate)
            for f in found:
                f.name = f"round {r + 1}: {f.name}"
                print(f"{f.name}: {f.rows:,} rows in {f.seconds:.1f} s", flush=True)
            figures += found
            print(f"round {r + 1} load average {load0} / {loadavg()}", flush=True)
        truncate_outbox(conn)
    services.close()
    print(report(figures, ratios, args))
    return 0


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def report(figures: list[Figure], ratios: dict[str, list[float]], args: argparse.Namespace) -> str:
    import statistics

    out = io.StringIO()
    out.write(f"\n{dt.datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores; "
              f"{platform.python_version()}; {args.groups:,} groups x {args.per_group} members, one in "
              f"{BORROWER_EVERY} with an active loan; {args.rounds} rounds; load average now {loadavg()}.\n\n")
    out.write("| run | rows | seconds | rows/s |\n|---|---:|---:|---:|\n")
    for f in figures:
        out.write(f"| {f.name} | {f.rows:,} | {f.seconds:.1f} | {f.rate:,.0f} |\n")
    for name, found in ratios.items():
        if found:
            out.write(f"\n{name} / floor rate per round: {', '.join(f'{x:.2f}' for x in found)}; "
                      f"median {statistics.median(found):.2f}")
    out.write("\n")
    return out.getvalue()


if __name__ == "__main__":
    sys.exit(main())
