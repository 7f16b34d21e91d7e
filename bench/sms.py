"""Benchmark: the inbound SMS webhook under load (stored before acknowledging).

``python -m bench.sms [--requests N] [--threads T] [--workers W]`` starts
gunicorn serving Kassa (``app:create_app()``) and, in the same run, the floor
(``bench.floor``: bare Flask doing one INSERT), then fires Africa's Talking
form posts from T client threads and reports latency percentiles and
throughput for: new messages (HELP from a registered member: inbox row,
command, reply outbox row, RQ enqueue), redeliveries of the same ids, and the
floor. After the run it checks that every acknowledged message is in the inbox.

Uses DATABASE_URL / REDIS_URL from the environment (the tables are emptied first:
use a database meant for benchmarks). Target: p99 under 30 ms for new messages.
"""
from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests

from services import of as services_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = 10
SENDERS = ["+254712000003", "+254712000004", "+254712000002", "+994501110003", "+994501110004"]


@dataclass(frozen=True)
class Figures:
    name: str
    count: int
    seconds: float
    p50: float
    p95: float
    p99: float
    worst: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def row(self) -> str:
        return (f"| {self.name} | {self.count} | {self.rate:.0f} | {self.p50:.1f} | {self.p95:.1f} | "
                f"{self.p99:.1f} | {self.worst:.1f} |")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(target: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """gunicorn serving ``target``, returned once every worker has loaded the app and it answers."""
    import tempfile

    from bench.ussd import _wait_ready

    ready = tempfile.mkdtemp(prefix="kassa-ready-")
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "-c", os.path.join(ROOT, "bench", "gunicorn_ready.py"), "--log-level", "warning", target]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(env, BENCH_READY_DIR=ready), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        _wait_ready(port, proc, ready, workers)
    except RuntimeError:
        proc.kill()
        raise
    return proc


def _loadavg() -> str:
    with open("/proc/loadavg") as fh:
        return fh.read().split()[0]


@dataclass
class Series:
    """Latencies (ms) and busy seconds of one case, gathered over interleaved rounds."""

    name: str
    latencies: list[float]
    seconds: float = 0.0

    def figures(self) -> Figures:
        q = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return Figures(self.name, len(self.latencies), self.seconds, q[49], q[94], q[98], max(self.latencies))


def _fire(url: str, forms: list[dict[str, Any]], threads: int, series: Series | None = None) -> None:
    """POST every form, spread over ``threads`` clients; latency in milliseconds."""
    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [forms[i::threads] for i in range(threads)]

    def client(chunk: list[dict[str, Any]]) -> None:
        session, mine = requests.Session(), []
        for form in chunk:
            start = time.perf_counter()
            response = session.post(url, data=form, timeout=10)
            mine.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {response.status_code} {response.text[:80]}")
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=client, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if series is not None:
        series.seconds += time.perf_counter() - start
        series.latencies.extend(latencies)


def _forms(n: int, prefix: str) -> list[dict[str, Any]]:
    return [{"from": SENDERS[i % len(SENDERS)], "to": "12345", "text": "HELP", "date": "2026-11-25 10:00:00",
             "id": f"{prefix}{i}", "linkId": "", "networkCode": "99999"} for i in range(n)]


def _prepare(db_url: str) -> None:
    import migrations
    from app import create_app
    from demo.groups import seed_demo
    from tests.conftest import truncate_all

    migrations.upgrade(db_url)
    app = create_app({"DATABASE_URL": db_url})
    services = services_of(app)
    truncate_all(services.db.engine)
    with services.db.transaction() as session:
        seed_demo(session)
    services.redis.flushdb()
    services.close()


def _stored(db_url: str) -> int:
    from sqlalchemy import func, select

    from db import make_engine
    from messaging.models import InboxMessage

    engine = make_engine(db_url)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(InboxMessage))
    engine.dispose()
    return int(count or 0)


def main(argv: list[str]) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--requests", type=int, default=4000)
    args.add_argument("--threads", type=int, default=8)
    args.add_argument("--workers", type=int, default=4)
    opts = args.parse_args(argv)
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT}/instance/bench-sms.sqlite3"
    env = dict(os.environ, DATABASE_URL=db_url, SMS_BACKEND="console", PYTHONPATH=ROOT)
    _prepare(db_url)
    kassa_port, floor_port = _free_port(), _free_port()
    servers = []
    try:
        servers.append(_serve("app:create_app()", kassa_port, opts.workers, env))
        servers.append(_serve("bench.floor:create_app()", floor_port, opts.workers, env))
        base = f"http://127.0.0.1:{kassa_port}/sms/africastalking"
        _fire(base, _forms(200, "warm-"), opts.threads)  # warm up connections and caches
        _fire(f"http://127.0.0.1:{floor_port}/floor", _forms(200, "warm-"), opts.threads)
        new, replay, floor_series = Series("new", []), Series("replay", []), Series("floor", [])
        per_round = opts.requests // ROUNDS
        rounds = []
        for r in range(ROUNDS):  # interleaved, so a noisy neighbour hits every case alike
            forms = _forms(per_round, f"ATXid_{r}_")
            one_new, one_floor = Series("new", []), Series("floor", [])
            load0 = _loadavg()
            _fire(base, forms, opts.threads, one_new)
            _fire(f"http://127.0.0.1:{floor_port}/floor", forms, opts.threads, one_floor)
            _fire(base, forms, opts.threads, replay)
            for total, one in ((new, one_new), (floor_series, one_floor)):
                total.latencies.extend(one.latencies)
                total.seconds += one.seconds
            fn, ff = one_new.figures(), one_floor.figures()
            rounds.append((r + 1, fn.rate, ff.rate, fn.rate / ff.rate, fn.p99, ff.p99, fn.p99 / ff.p99,
                           f"{load0} / {_loadavg()}"))
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=10)
    stored = _stored(db_url) - 200
    sent = per_round * ROUNDS
    _report(db_url, opts, [("new message (HELP)", new.figures()), ("redelivery (same id)", replay.figures()),
                           ("floor: bare Flask, one INSERT", floor_series.figures())], stored, sent)
    print("\n| round | new req/s | floor req/s | rate ratio | new p99 ms | floor p99 ms | p99 ratio | load avg |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rounds:
        print("| {} | {:.0f} | {:.0f} | {:.2f} | {:.1f} | {:.1f} | {:.2f} | {} |".format(*row))
    print(f"median of per-round ratios: rate {statistics.median(r[3] for r in rounds):.2f}, "
          f"p99 {statistics.median(r[6] for r in rounds):.2f}")
    return 0 if stored == sent else 1


def _report(db_url: str, opts: argparse.Namespace, figures: list[tuple[str, Figures]], stored: int, sent: int) -> None:
    backend = db_url.split(":", 1)[0]
    print(f"\nSMS inbound webhook, {backend}, gunicorn -w {opts.workers}, {opts.threads} client threads, "
          f"{opts.requests} requests each; {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| case | requests | req/s | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for name, f in figures:
        print(f.row().replace(f"| {f.name} |", f"| {name} |", 1))
    print(f"stored before ack: {stored} of {sent} acknowledged new messages are in the inbox")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
