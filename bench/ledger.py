"""Ledger benchmark: ``python -m bench.ledger [--pg URL] [--sqlite-only] [--years N]``.

Measures, on SQLite (a temporary file) and on PostgreSQL (``--pg`` or
``BENCH_DATABASE_URL``; the database is wiped and migrated):

- floor: a bare single-row primary-key SELECT in its own session, and a bare
  one-row INSERT committed on its own;
- postings per second one by one (one saving per committed transaction);
- a 20-member meeting in one transaction (20 savings + 20 social-fund postings);
- member position read latency on a group with ``--years`` (10) of weekly
  meetings of 20 members (savings, social fund, some fines; a share-out every
  52 weeks, as groups do; then a loan for every member): in its own session as a
  USSD hop does it (loading the group and the member too), and the call alone;
  plus mini-statement and group summary reads. On PostgreSQL the tables are
  vacuumed and analysed first, as autovacuum would have done over ten years.

Prints a Markdown table for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

import ledger
import migrations
from db import make_engine
from groups.models import Group, Member
from groups.service import add_member, create_group

MEMBERS = 20


@dataclass
class Figure:
    backend: str
    what: str
    value: str


def _reset(url: str) -> None:
    migrations.recreate(url)


def _latencies(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _ms(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return f"median {statistics.median(samples):.3f} ms, p95 {q[94]:.3f} ms, p99 {q[98]:.3f} ms"


def _group(make: sessionmaker[Session], code: str) -> tuple[int, int, list[int]]:
    with make.begin() as s:
        g = create_group(s, code=code, name=code, kind="shg", currency="KES", country="KE",
                         timezone="Africa/Nairobi", saving_amount=20000, social_fund_amount=5000,
                         fine_types={"late": 2000})
        base = 254710000000 + 1000 * (sum(map(ord, code)) % 900)
        people = [add_member(s, g, phone=f"+{base + i}", name=f"M{i}", role="treasurer" if i == 1 else "member")
                  for i in range(1, MEMBERS + 1)]
        return g.id, people[0].member_id, [p.member_id for p in people]


def floor(make: sessionmaker[Session], backend: str) -> list[Figure]:
    """A bare PK select (own session) and a bare committed INSERT: the database's own speed here."""
    with make.begin() as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, v BIGINT)"))
        s.execute(text("DELETE FROM bench_floor"))
        s.execute(text("INSERT INTO bench_floor (id, v) VALUES (1, 1)"))

    def select_one() -> None:
        with make() as s:
            s.execute(text("SELECT v FROM bench_floor WHERE id = 1")).scalar_one()

    select_one()
    sel = _latencies(select_one, 2000)
    ids = iter(range(2, 10**9))

    def insert_one() -> None:
        with make.begin() as s:
            s.execute(text("INSERT INTO bench_floor (id, v) VALUES (:i, 1)"), {"i": next(ids)})

    n = 500
    t0 = time.perf_counter()
    for _ in range(n):
        insert_one()
    rate = n / (time.perf_counter() - t0)
    with make.begin() as s:
        s.execute(text("DROP TABLE bench_floor"))
    return [Figure(backend, "floor: bare PK SELECT, own session", _ms(sel)),
            Figure(backend, "floor: bare INSERT, committed one by one", f"{rate:,.0f} /s")]


def postings(make: sessionmaker[Session], backend: str) -> list[Figure]:
    """One saving per transaction; then 20-member meetings in one transaction each."""
    gid, tid, mids = _group(make, "BENCHP")
    start = dt.date(2020, 1, 6)
    n = 400
    t0 = time.perf_counter()
    for i in range(n):
        with make.begin() as s:
            g, t = s.get_one(Group, gid), s.get_one(Member, tid)
            ledger.record_saving(s, g, s.get_one(Member, mids[i % MEMBERS]), key=f"one-{i}", actor=t,
                                 on=start + dt.timedelta(weeks=i // MEMBERS))
    one = n / (time.perf_counter() - t0)
    meetings = 20
    t0 = time.perf_counter()
    for w in range(meetings):
        _meeting(make, gid, tid, mids, start + dt.timedelta(weeks=100 + w), f"m{w}", fines=False)
    elapsed = time.perf_counter() - t0
    return [Figure(backend, "postings one by one (1 saving per transaction)", f"{one:,.0f} postings/s"),
            Figure(backend, "20-member meeting in one transaction (40 postings)",
                   f"{elapsed / meetings * 1000:,.1f} ms per meeting = {40 * meetings / elapsed:,.0f} postings/s")]


def _meeting(make: sessionmaker[Session], gid: int, tid: int, mids: list[int], on: dt.date, tag: str,
             fines: bool) -> None:
    with make.begin() as s:
        g, t = s.get(Group, gid), s.get(Member, tid)
        assert g is not None and t is not None
        for mid in mids:
            m = s.get_one(Member, mid)
            ledger.record_saving(s, g, m, key=f"{tag}-s-{mid}", actor=t, on=on)
            ledger.record_social(s, g, m, key=f"{tag}-c-{mid}", actor=t, on=on)
            if fines and (mid + on.toordinal() // 7) % 5 == 0:
                ledger.record_fine(s, g, m, fine_type="late", key=f"{tag}-f-{mid}", actor=t, on=on)
        ledger.close_meeting(s, g, actor=t, on=on)


def history(make: sessionmaker[Session], backend: str, years: int) -> list[Figure]:
    """A group with ``years`` of weekly meetings, some loans; then read latencies."""
    gid, tid, mids = _group(make, "BENCHH")
    weeks = 52 * years
    start = dt.date.today() - dt.timedelta(weeks=weeks + 1)
    t0 = time.perf_counter()
    for w in range(weeks):
        _meeting(make, gid, tid, mids, start + dt.timedelta(weeks=w), f"h{w}", fines=True)
        if w % 52 == 51 and w < weeks - 1:  # the last cycle stays open
            _share_out(make, gid, tid, f"so{w}")
    build = time.perf_counter() - t0
    _loans(make, gid, tid, mids)
    with make() as s:
        postings_n = s.execute(text("SELECT count(*) FROM ledger_txns WHERE group_id = :g"), {"g": gid}).scalar_one()
    if backend == "postgresql":
        with make.kw["bind"].connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    reader = mids[5]

    def position() -> None:
        with make() as s:
            g, m = s.get(Group, gid), s.get(Member, reader)
            assert g is not None and m is not None
            ledger.member_position(s, g, m)

    def statement() -> None:
        with make() as s:
            g, m = s.get(Group, gid), s.get(Member, reader)
            assert g is not None and m is not None
            ledger.mini_statement(s, g, m, 5)

    def summary() -> None:
        with make() as s:
            g = s.get(Group, gid)
            assert g is not None
            ledger.group_summary(s, g)

    def audit() -> None:
        with make() as s:
            g = s.get(Group, gid)
            assert g is not None and ledger.audit(s, g) == []

    with make() as held:
        g_held, m_held = held.get(Group, gid), held.get(Member, reader)
        assert g_held is not None and m_held is not None

        def call_alone() -> None:
            ledger.member_position(held, g_held, m_held)

        call_alone()
        alone = _latencies(call_alone, 2000)
    position()
    t_audit = _latencies(audit, 1)[0]
    return [
        Figure(backend, f"history: {years} years x 52 weekly meetings x {MEMBERS} members",
               f"{postings_n:,} postings built in {build:,.0f} s"),
        Figure(backend, "member position read (own session, loads group and member)",
               _ms(_latencies(position, 2000))),
        Figure(backend, "member position call alone (group and member in hand)", _ms(alone)),
        Figure(backend, "mini-statement, last 5 (own session)", _ms(_latencies(statement, 1000))),
        Figure(backend, "group summary (own session)", _ms(_latencies(summary, 300))),
        Figure(backend, "audit: every leg summed vs cached balances", f"{t_audit:,.0f} ms (passes)"),
    ]


def _share_out(make: sessionmaker[Session], gid: int, tid: int, key: str) -> None:
    with make.begin() as s:
        g, t = s.get(Group, gid), s.get(Member, tid)
        assert g is not None and t is not None
        ledger.share_out(s, g, key=key, actor=t)


def _loans(make: sessionmaker[Session], gid: int, tid: int, mids: list[int]) -> None:
    """An active loan with a repayment for every member but the treasurer (chair: member 2)."""
    with make.begin() as s:
        g = s.get(Group, gid)
        assert g is not None
        from sqlalchemy import select

        from groups.models import Membership, Role

        chair_ms = s.scalar(select(Membership).where(Membership.group_id == gid, Membership.member_id == mids[1]))
        assert chair_ms is not None
        chair_ms.role = Role.CHAIR
        s.flush()
        t, chair = s.get_one(Member, tid), s.get(Member, mids[1])
        for mid in mids[2:]:
            m = s.get_one(Member, mid)
            loan = ledger.request_loan(s, g, m, 100000, purpose="trade", term=12, unit="week", key=f"ask-{mid}")
            ledger.decide_loan(s, g, loan.ref, approve=True, actor=chair, key=f"ok-{mid}")
            ledger.disburse_loan(s, g, loan.ref, actor=t, key=f"pay-{mid}")
            ledger.record_repayment(s, g, m, 5000, key=f"rep-{mid}", actor=t)


def run(url: str, backend: str, years: int) -> list[Figure]:
    _reset(url)
    engine = make_engine(url)
    make = sessionmaker(engine, expire_on_commit=False)
    try:
        return floor(make, backend) + postings(make, backend) + history(make, backend, years)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL URL to wipe and use (default: $BENCH_DATABASE_URL)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args()
    figures: list[Figure] = []
    load0 = open("/proc/loadavg").read().split()[0]
    with tempfile.TemporaryDirectory() as tmp:
        figures += run(f"sqlite:///{tmp}/bench.sqlite3", "sqlite", args.years)
    if args.pg and not args.sqlite_only:
        figures += run(args.pg, "postgresql", args.years)
    load1 = open("/proc/loadavg").read().split()[0]
    print(f"\n{dt.date.today()} · {os.cpu_count()} cores · load average {load0} before, {load1} after\n")
    print("| backend | measure | result |\n|---|---|---|")
    for f in figures:
        print(f"| {f.backend} | {f.what} | {f.value} |")


if __name__ == "__main__":
    main()
