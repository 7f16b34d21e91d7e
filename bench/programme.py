"""Programme reports over 100,000 beneficiaries, against a floor query in the same run.

PostgreSQL, in its own schema ``prog_bench`` of ``BENCH_DATABASE_URL`` (default: the
``TEST_DATABASE_URL`` of the helper's env; the test suite only ever drops ``public``):

- seed (``--seed``, Core bulk inserts): 2,000 groups in 40 regions, 100,000 members
  (50 a group, genders drawn), one in seven with a vulnerability category, every one
  enrolled in one programme with a course of four sessions per group (400,000
  attendance rows drawn at 85%), about 70,000 grants (26 trades), 40,000 businesses;
  the enrolment milestones as programmes.service writes them;
- measure: ``programmes.reports.programme_report`` as the console calls it (admin by
  region, gender, category and month; a coordinator's one region) and the floor
  (``SELECT count(*) FROM enrolments WHERE programme_id = 1``: one scan of the same
  rows, no grouping), request by request interleaved, in rounds; per round each case's
  p95 over the floor's p95; the figure is the median of those ratios. Load average
  before and after.

Run: ``python -m bench.programme --seed`` once, then ``python -m bench.programme``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, insert, select, text  # noqa: E402

SCHEMA = "prog_bench"
TODAY = dt.date(2026, 11, 30)
REGIONS = [f"Region {i:02d}" for i in range(40)]


def base_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        raise SystemExit("set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL URL")
    return url


def engine() -> Engine:
    from db import make_engine

    sep = "&" if "?" in base_url() else "?"
    return make_engine(f"{base_url()}{sep}options=-csearch_path%3D{SCHEMA}")


def _chunks(rows: list[dict[str, Any]], n: int = 20_000) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


def seed(groups: int = 2000, per_group: int = 50) -> None:
    from dbschema import metadata
    from groups.models import Group, Member, Membership
    from programmes.models import (
        Attendance,
        Business,
        Course,
        Enrolment,
        Grant,
        MemberCategory,
        Programme,
        ProgrammeGroup,
        ProgrammeTrade,
        StageReached,
        TrainingSession,
    )
    from programmes.service import add_months, load_trades

    rng = random.Random(2026)
    eng = engine()
    with eng.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    metadata.create_all(eng)
    started = time.perf_counter()
    from sqlalchemy.orm import Session

    with Session(eng) as s:
        load_trades(s)
        s.commit()
    with eng.begin() as conn:
        trade_ids = list(conn.scalars(select(text("id")).select_from(text("trades"))))
        conn.execute(insert(Programme), [dict(id=1, code="SEP", name="Self-employment programme", currency="AZN",
                                              stages=["mobilised", "trained", "financed", "growing"],
                                              completion_percent=80, income_bands=[50000, 150000, 500000])])
        conn.execute(insert(ProgrammeTrade), [dict(programme_id=1, trade_id=t) for t in trade_ids])
        conn.execute(insert(Course), [dict(id=1, programme_id=1, code="SIYB", name="Start and Improve Your Business",
                                           sessions=4, required=True)])
        conn.execute(insert(Group), [dict(id=g, code=f"G{g:05d}", name=f"Group {g}", kind="shg", currency="AZN",
                                          country="AZ", language="az", timezone="Asia/Baku",
                                          region=REGIONS[g % len(REGIONS)]) for g in range(1, groups + 1)])
        conn.execute(insert(ProgrammeGroup), [dict(programme_id=1, group_id=g, enrolled_on=dt.date(2025, 1, 1))
                                              for g in range(1, groups + 1)])
        members, memberships, enrolments, stages, cats = [], [], [], [], []
        attendance, sessions, grants, businesses = [], [], [], []
        mid = 0
        for g in range(1, groups + 1):
            first = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 500))
            for k in range(4):
                sessions.append(dict(id=(g - 1) * 4 + k + 1, course_id=1, on=first + dt.timedelta(days=7 * k),
                                     group_id=g, venue=""))
            for n in range(1, per_group + 1):
                mid += 1
                enrolled = first - dt.timedelta(days=rng.randint(10, 60))
                members.append(dict(id=mid, phone=f"+99450{mid:07d}", name=f"Member {mid}", language="az",
                                    gender=rng.choice(["female", "female", "female", "male", None]),
                                    pin_failures=0, pin_locked=False, opted_out=False, status="active"))
                memberships.append(dict(id=mid, group_id=g, member_id=mid, number=n, role="member", status="active"))
                present = [k for k in range(4) if rng.random() < 0.85]
                for k in present:
                    attendance.append(dict(session_id=(g - 1) * 4 + k + 1, enrolment_id=mid, source="sms"))
                trained = first + dt.timedelta(days=7 * present[0]) if present else None
                completed = first + dt.timedelta(days=21) if len(present) >= 4 * 0.8 else None
                e = dict(id=mid, programme_id=1, member_id=mid, group_id=g, region=REGIONS[g % len(REGIONS)],
                         enrolled_on=enrolled, trained_on=trained, completed_on=completed)
                stages.append(dict(enrolment_id=mid, stage="mobilised", reached_on=enrolled, source="auto", programme_id=1,
                                   group_id=g))
                if completed:
                    stages.append(dict(enrolment_id=mid, stage="trained", reached_on=completed, source="auto",
                                       programme_id=1, group_id=g))
                if rng.random() < 1 / 7:
                    cats.append(dict(member_id=mid, category=rng.choice(["disability", "fallen", "displaced",
                                                                          "social_assistance"])))
                if completed and rng.random() < 0.85:
                    given = completed + dt.timedelta(days=rng.randint(10, 90))
                    status = rng.choice(["confirmed"] * 8 + ["pending", "disputed"])
                    grants.append(dict(programme_id=1, enrolment_id=mid, group_id=g, trade_id=rng.choice(trade_ids), items="Kit",
                                       value=rng.randint(5, 50) * 10000, currency="AZN", given_on=given, status=status))
                    e["equipped_on"] = given
                    if status == "confirmed":
                        e["confirmed_on"] = given + dt.timedelta(days=3)
                        stages.append(dict(enrolment_id=mid, stage="financed", reached_on=e["confirmed_on"],
                                           source="auto", programme_id=1, group_id=g))
                        if rng.random() < 0.6 and given < TODAY:
                            start = given + dt.timedelta(days=rng.randint(5, 30))
                            closed = start + dt.timedelta(days=rng.randint(30, 600)) if rng.random() < 0.3 else None
                            businesses.append(dict(programme_id=1, enrolment_id=mid, group_id=g,
                                                   trade_id=rng.choice(trade_ids), region=e["region"],
                                                   started_on=start, six_months_on=add_months(start, 6),
                                                   twelve_months_on=add_months(start, 12), closed_on=closed))
                enrolments.append(e)
        for table, rows in ((Member, members), (Membership, memberships), (TrainingSession, sessions),
                            (Enrolment, enrolments), (StageReached, stages), (MemberCategory, cats),
                            (Attendance, attendance), (Grant, grants), (Business, businesses)):
            keys = sorted({k for r in rows for k in r})
            for chunk in _chunks([{k: r.get(k) for k in keys} for r in rows]):
                conn.execute(insert(table), chunk)
        conn.execute(text("ANALYZE"))
    print(f"seeded {mid} beneficiaries, {len(attendance)} attendance rows, {len(grants)} grants, "
          f"{len(businesses)} businesses in {time.perf_counter() - started:.0f} s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(rounds: int, requests: int) -> None:
    from sqlalchemy.orm import Session

    from groups.models import Group
    from programmes.reports import programme_report

    eng = engine()
    coordinator = select(Group.id).where(Group.region == "Region 07")
    floor_sql = text("SELECT count(*) FROM enrolments WHERE programme_id = 1")
    cases: dict[str, Callable[[Session], object]] = {
        "floor: count(*) of the programme's enrolments": lambda s: s.execute(floor_sql).scalar(),
        "report by region, admin (100,000)": lambda s: programme_report(s, 1, by="region", today=TODAY),
        "report by gender, admin": lambda s: programme_report(s, 1, by="gender", today=TODAY),
        "report by category, admin": lambda s: programme_report(s, 1, by="category", today=TODAY),
        "report by month, admin": lambda s: programme_report(s, 1, by="period", today=TODAY),
        "report by region, coordinator (one region)": lambda s: programme_report(s, 1, by="region", groups=coordinator,
                                                                                  today=TODAY),
    }
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    with Session(eng) as s:  # warm the caches once
        for fn in cases.values():
            fn(s)
        total = programme_report(s, 1, today=TODAY).total
    print(f"{dt.date.today()} (bench date {TODAY}), {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
          f"{rounds} rounds x {requests} requests per case, interleaved request by request; "
          f"load average before {' '.join(load_before)}")
    print(f"report total: {total}")
    ratios: dict[str, list[float]] = {name: [] for name in cases}
    rows = []
    for r in range(1, rounds + 1):
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(requests):
            for name, fn in cases.items():
                with Session(eng) as s:
                    t0 = time.perf_counter()
                    fn(s)
                    times[name].append((time.perf_counter() - t0) * 1000)
        floor95 = percentile(next(iter(times.values())), 0.95)
        for name, values in times.items():
            p50, p95 = statistics.median(values), percentile(values, 0.95)
            ratios[name].append(p95 / floor95)
            rows.append(f"| {r} | {name} | {p50:.1f} | {p95:.1f} | {p95 / floor95:.2f} |")
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    print("\n| round | case | p50 ms | p95 ms | p95 / floor p95 |\n|---:|---|---:|---:|---:|")
    print("\n".join(rows))
    print("\n| case | median of per-round p95 ratios |\n|---|---:|")
    for name, values in ratios.items():
        print(f"| {name} | {statistics.median(values):.2f} |")
    print(f"\nload average after {' '.join(load_after)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", action="store_true", help="(re)make the 100,000 beneficiaries first")
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    if args.seed:
        seed(args.groups)
    measure(args.rounds, args.requests)


if __name__ == "__main__":
    main()
