"""Benchmark: a treasurer's 20-member ``SAVE``, from the webhook to the last receipt handed to the provider.

PostgreSQL (``BENCH_DATABASE_URL``, its own schema ``bench_endtoend``), Redis
(``REDIS_URL``, emptied), the provider stub (``bench.provider_stub``, Africa's
Talking's HTTP, logging the arrival time of every message), one gunicorn web
process serving the real webhook (``POST /sms/africastalking``) and W
``python worker.py work`` processes sending to the stub, the rate limit lifted.

G groups are seeded (each SAVEs once: a second SAVE at the same meeting would
break the group's saving rule), each a treasurer (member 1) and 20 members (2..21). A
treasurer sends ``SAVE 2 200 3 200 ... 21 200``: the webhook stores it and
enqueues its command; a worker posts the 20 savings and writes 20 receipts and
the treasurer's reply to the outbox; workers hand those 21 SMS to the stub.
**Latency** of one SAVE = the stub's arrival time of the last of its 21 SMS
minus the moment its webhook POST started.

Each round (interleaved, the order alternating):

- **idle** (the floor): ``--idle`` SAVEs one after another, each waiting for its
  last SMS: the latency with nothing else going on;
- **steady load**: treasurers at a fixed rate (``--rate`` SAVEs per second,
  open loop: a SAVE starts at its scheduled time whether or not the earlier
  ones are done) for ``--duration`` seconds, each group at most once.

Reported per round: p50 and p99 latency under load and idle, their ratio, the
rate asked for and the rate reached (SAVEs started per second, and how late the
latest started: flagged when the run fell short of its rate), the webhook's
own p50/p99 answer time, the load average.

Run: ``python -m bench.endtoend [--rate 2] [--duration 30] [--rounds 3] [--workers 2]``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests

from bench import delivery as d
from bench.ussd import serve

if TYPE_CHECKING:
    from services import Services

SCHEMA = "bench_endtoend"
MEMBERS = 20
AMOUNT = 200


def phone(group: int, number: int) -> str:
    return f"+25472{group:03d}{number:04d}"


def save_text() -> str:
    return "SAVE " + " ".join(f"{n} {AMOUNT}" for n in range(2, MEMBERS + 2))


def seed(url: str, groups: int) -> None:
    from sqlalchemy.orm import Session

    from db import make_engine
    from groups.service import add_member, create_group

    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        for g in range(groups):
            group = create_group(session, code=f"E2E{g:03d}", name=f"Bench group {g}", kind="shg", currency="KES",
                                 country="KE", timezone="Africa/Nairobi", saving_amount=AMOUNT * 100)
            add_member(session, group, phone=phone(g, 1), name=f"Treasurer {g}", role="treasurer", number=1)
            for n in range(2, MEMBERS + 2):
                add_member(session, group, phone=phone(g, n), name=f"Member {g}-{n}", number=n)
    engine.dispose()


@dataclass
class Save:
    group: int
    scheduled: float  # time.time()
    started: float = 0.0
    answered: float = 0.0
    status: int = 0


def post_save(http: requests.Session, base: str, save: Save, msg_id: str) -> None:
    form = {"from": phone(save.group, 1), "to": "12345", "text": save_text(),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"), "id": msg_id, "linkId": "",
            "networkCode": "63902"}
    save.started = time.time()
    res = http.post(base + "/sms/africastalking", data=form, timeout=30)
    save.answered = time.time()
    save.status = res.status_code


def arrivals(stub: str) -> dict[str, float]:
    """number -> the latest arrival at the stub."""
    last: dict[str, float] = {}
    for at, number in requests.get(stub + "/arrivals", timeout=30).json():
        last[number] = max(at, last.get(number, 0.0))
    return last


def latencies(stub: str, saves: list[Save], timeout: float) -> list[float]:
    """Wait until every SAVE's 21 SMS reached the stub; each SAVE's latency (s)."""
    deadline = time.monotonic() + timeout
    while True:
        last = arrivals(stub)
        done = [s for s in saves if all(phone(s.group, n) in last for n in range(1, MEMBERS + 2))]
        if len(done) == len(saves):
            return [max(last[phone(s.group, n)] for n in range(1, MEMBERS + 2)) - s.started for s in saves]
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(done)} of {len(saves)} SAVEs fully delivered")
        time.sleep(0.2)


def reset(stub: str) -> None:
    requests.post(stub + "/reset", timeout=10).raise_for_status()


def run_idle(base: str, stub: str, groups: list[int], tag: str) -> list[float]:
    out = []
    with requests.Session() as http:
        for g in groups:
            reset(stub)
            save = Save(g, time.time())
            post_save(http, base, save, f"{tag}-{g}")
            out += latencies(stub, [save], 60)
    return out


def run_load(base: str, stub: str, groups: list[int], rate: float, tag: str) -> tuple[list[Save], list[float]]:
    """Open loop: SAVE i starts at t0 + i / rate, on a pool of client threads."""
    reset(stub)
    local = threading.local()

    def one(save: Save) -> None:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        delay = save.scheduled - time.time()
        if delay > 0:
            time.sleep(delay)
        post_save(local.http, base, save, f"{tag}-{save.group}")

    t0 = time.time() + 0.5
    saves = [Save(g, t0 + i / rate) for i, g in enumerate(groups)]
    with ThreadPoolExecutor(max(8, int(rate * 4))) as pool:
        list(pool.map(one, saves))
    return saves, latencies(stub, saves, 600)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def warm_up(base: str, stub: str, services: Services, workers: int) -> None:
    """Every server answers before the clock runs: the web process (/ready: its database and Redis),
    the stub, the workers (registered with RQ), and one SAVE end to end (not counted)."""
    d.wait_for(base + "/ready", 60)
    d.wait_for(stub + "/health", 30)
    d.wait_workers(services, workers)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=2.0, help="SAVEs per second under load")
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--idle", type=int, default=10, help="SAVEs one at a time per round (the floor)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--web", type=int, default=2, help="gunicorn worker processes")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--port", type=int, default=d.PORT + 3)
    args = p.parse_args(argv)
    from config import Config
    from services import Services

    _base, conninfo, url, redis_url = d.urls(SCHEMA)
    d.setup_schema(conninfo, url, SCHEMA)
    load_n = int(args.rate * args.duration)
    per_round = load_n + args.idle  # each group SAVEs once: a second SAVE at the same meeting breaks its rule
    groups = args.rounds * per_round + 1
    seed(url, groups)
    services = Services.build(Config.from_env(overrides={"DATABASE_URL": url, "REDIS_URL": redis_url}))
    services.redis.flushdb()
    env = d.worker_env(url, redis_url, args.port, args.concurrency)
    stub_proc = d.start_stub(args.port)
    stub = f"http://127.0.0.1:{args.port}"
    workers = d.start_workers(args.workers, env)
    rows = []
    try:
        with serve("app:create_app()", args.web, {k: env[k] for k in env}) as base:
            warm_up(base, stub, services, args.workers)
            run_idle(base, stub, [groups - 1], "warm")  # connections, caches, imports: not counted
            print(f"# end-to-end bench {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
                  f"Python {platform.python_version()}; SAVE of {MEMBERS} members ({MEMBERS + 1} SMS each); "
                  f"{args.web} web processes, {args.workers} worker processes x {args.concurrency} in flight; "
                  f"load at {args.rate:g} SAVE/s for {args.duration:g} s; load {d.loadavg()}", flush=True)
            print("| round | load p50 s | load p99 s | idle p50 s | idle p99 s | p50 ratio | rate asked / reached "
                  "| latest start late by s | webhook p50 / p99 ms | load avg |\n"
                  "|---|---|---|---|---|---|---|---|---|---|", flush=True)
            for r in range(args.rounds):
                load0 = d.loadavg()
                tag = f"r{r}-{time.time_ns()}"
                first = r * per_round
                for side in ("load", "idle") if r % 2 == 0 else ("idle", "load"):
                    if side == "load":
                        saves, loaded = run_load(base, stub, list(range(first, first + load_n)), args.rate, tag)
                    else:
                        idle = run_idle(base, stub, list(range(first + load_n, first + per_round)), tag)
                bad = [s for s in saves if s.status != 200]
                starts = sorted(s.started for s in saves)
                reached = (len(starts) - 1) / (starts[-1] - starts[0]) if len(starts) > 1 else 0.0
                late = max(s.started - s.scheduled for s in saves)
                answers = [1000 * (s.answered - s.started) for s in saves]
                flag = "" if reached >= 0.95 * args.rate and late < 1.0 else " **short of its rate**"
                rows.append((pct(loaded, 50), pct(loaded, 99), pct(idle, 50), pct(idle, 99)))
                print(f"| {r + 1} | {pct(loaded, 50):.2f} | {pct(loaded, 99):.2f} | {pct(idle, 50):.2f} | "
                      f"{pct(idle, 99):.2f} | {pct(loaded, 50) / pct(idle, 50):.2f} | {args.rate:g} / {reached:.2f}"
                      f"{flag} | {late:.2f} | {pct(answers, 50):.0f} / {pct(answers, 99):.0f} | "
                      f"{load0} / {d.loadavg()} |" + (f" {len(bad)} webhook errors" if bad else ""), flush=True)
    finally:
        d.stop(workers)
        stub_proc.terminate()
        stub_proc.wait()
        services.close()
    if rows:
        print(f"median over rounds: p50 {statistics.median(r[0] for r in rows):.2f} s, p99 "
              f"{statistics.median(r[1] for r in rows):.2f} s under load; idle p50 "
              f"{statistics.median(r[2] for r in rows):.2f} s; median of per-round p50 ratios "
              f"{statistics.median(r[0] / r[2] for r in rows):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
