"""Benchmark: scale-out. Two web processes and several RQ workers on one PostgreSQL and one
Redis share the work, and nothing is done twice.

``python -m bench.scaleout [--messages N] [--workers W] [--rounds R] [--threads T]``

Each round runs two set-ups, in alternating order so background load hits both alike:

- **floor**: one web process (gunicorn ``-w 1``) and one worker (``python worker.py work``);
- **scale-out**: two web processes (two gunicorn masters on two ports, as on two machines)
  and W worker processes.

The load is N inbound SMS (``BAL`` from the demo members, each a new provider id),
posted by T client threads to the web processes in turn, and every one posted a
second time (a provider's redelivery) to the *other* web process. Each message
means: the webhook stores it and enqueues its command; a worker runs the command
(reads the ledger, writes the reply to the outbox, enqueues its sending); a worker
sends the reply (console backend). A round ends when every reply is delivered.

Reported per set-up and round: messages per second end to end (first post to last
reply delivered), how the jobs were shared among the workers (RQ records which
worker ran each job), and the checks that nothing was done twice: one inbox row
and one reply per message, every reply sent in one attempt with its own provider
id. The figure of merit is the median over rounds of scale-out / floor throughput.

Uses ``BENCH_DATABASE_URL`` (else ``DATABASE_URL``; PostgreSQL) and ``REDIS_URL``; the
tables and the Redis database are emptied first.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from services import of as services_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SENDERS = ["+254712000003", "+254712000004", "+254712000002", "+254712000001", "+994501110003",
           "+994501110004", "+84912000003", "+84912000004"]


@dataclass
class Outcome:
    setup: str
    webs: int
    workers: int
    messages: int
    seconds: float
    post_seconds: float  # of which the clients spent posting (each message twice)
    inbox_rows: int
    replies: int
    delivered: int
    max_attempts: int
    distinct_provider_ids: int
    jobs_by_worker: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def nothing_twice(self) -> bool:
        return (self.inbox_rows == self.messages == self.replies == self.delivered
                == self.distinct_provider_ids and self.max_attempts == 1)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(db_url: str, redis_url: str, metrics_dir: str) -> dict[str, Any]:
    return dict(os.environ, DATABASE_URL=db_url, REDIS_URL=redis_url, SMS_BACKEND="console",
                SMS_RATE_PER_SECOND="1000000", LOG_LEVEL="WARNING", PROMETHEUS_MULTIPROC_DIR=metrics_dir)


def _start_web(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", "--no-control-socket", "app:create_app()"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/health", timeout=2)
            return proc, base
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("web process did not start")


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "worker.py", "work"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _prepare(db_url: str) -> None:
    import migrations
    from app import create_app
    from demo.groups import seed_demo

    migrations.recreate(db_url)
    app = create_app({"DATABASE_URL": db_url})
    services = services_of(app)
    with services.db.transaction() as session:
        seed_demo(session, history=True)
    services.redis.flushdb()  # the demo's help-request SMS stay pending: not part of the load
    with services.db.engine.begin() as conn:
        from sqlalchemy import delete

        from messaging.models import OutboxMessage
        conn.execute(delete(OutboxMessage))
    services.close()


def _post(bases: list[str], n: int, prefix: str, threads: int) -> None:
    forms = [{"from": SENDERS[i % len(SENDERS)], "to": "12345", "text": "BAL", "date": "2026-11-30 10:00:00",
              "id": f"{prefix}-{i}", "linkId": "", "networkCode": "99999"} for i in range(n)]
    errors: list[str] = []

    def client(k: int) -> None:
        with requests.Session() as http:
            for i in range(k, n, threads):
                first, second = bases[i % len(bases)], bases[(i + 1) % len(bases)]
                for base in (first, second):  # the message, then the provider's redelivery elsewhere
                    r = http.post(base + "/sms/africastalking", data=forms[i], timeout=30)
                    if r.status_code != 200:
                        errors.append(f"{r.status_code} {r.text[:80]}")

    pool = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} posts failed, e.g. {errors[0]}")


def _count(db_url: str, prefix: str) -> tuple[int, int, int, int, int]:
    from sqlalchemy import func, select

    from db import make_engine
    from messaging.models import InboxMessage, OutboxMessage, OutStatus

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            inbox = conn.execute(select(func.count()).select_from(InboxMessage)
                                 .where(InboxMessage.provider_message_id.like(f"{prefix}-%"))).scalar_one()
            row = conn.execute(select(func.count(), func.count(OutboxMessage.provider_id.distinct()),
                                      func.coalesce(func.max(OutboxMessage.attempts), 0))
                               .where(OutboxMessage.status == OutStatus.DELIVERED)).one()
            total = conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
            return inbox, total, row[0], row[1], row[2]
    finally:
        engine.dispose()


def _jobs_by_worker(redis_url: str, db_url: str) -> dict[str, Counter[str]]:
    """Which worker ran each job (RQ keeps finished jobs, with their worker's name, for 500 s)."""
    import redis
    from rq.job import Job
    from sqlalchemy import select

    from db import make_engine
    from messaging.models import InboxMessage, OutboxMessage

    engine = make_engine(db_url)
    with engine.connect() as conn:
        ids = [f"inbox-{i}" for i in conn.execute(select(InboxMessage.id)).scalars()]
        ids += [f"send-{i}" for i in conn.execute(select(OutboxMessage.id)).scalars()]
    engine.dispose()
    client = redis.Redis.from_url(redis_url)
    shares: dict[str, Counter[str]] = {}
    for job in Job.fetch_many(ids, connection=client):
        if job is not None:
            shares.setdefault(job.worker_name or "?", Counter())[(job.func_name or "?").rsplit(".", 1)[-1]] += 1
    client.close()
    return shares


def run_setup(name: str, db_url: str, redis_url: str, webs: int, workers: int, n: int, threads: int,
              prefix: str) -> Outcome:
    import redis

    _prepare(db_url)
    metrics_dir = tempfile.mkdtemp(prefix="kassa-metrics-")
    env = _env(db_url, redis_url, metrics_dir)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        bases = []
        for _ in range(webs):
            proc, base = _start_web(env)
            procs.append(proc)
            bases.append(base)
        procs += [_start_worker(env) for _ in range(workers)]
        r = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 60
        while len(r.smembers("rq:workers")) < workers and time.monotonic() < deadline:
            time.sleep(0.2)
        r.close()
        started = time.monotonic()
        _post(bases, n, prefix, threads)
        posted = time.monotonic() - started
        deadline = time.monotonic() + 900
        while True:
            inbox, total, delivered, distinct, attempts = _count(db_url, prefix)
            if delivered >= n or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        seconds = time.monotonic() - started
        shares = _jobs_by_worker(redis_url, db_url)
    finally:
        _stop(procs)
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return Outcome(name, webs, workers, n, seconds, posted, inbox, total, delivered, attempts, distinct, shares)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    opts = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers and workers on the way out
    db_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not db_url or not db_url.startswith("postgresql") or not redis_url:
        print("set BENCH_DATABASE_URL (PostgreSQL) and REDIS_URL", file=sys.stderr)
        return 2
    with open("/proc/loadavg") as fh:
        load_before = fh.read().split()[:3]
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.python_version()}, "
          f"{os.cpu_count()} cores, load average {' '.join(load_before)}")
    outcomes: list[tuple[Outcome, Outcome]] = []
    for k in range(opts.rounds):
        order = [("floor", 1, 1), ("scale-out", 2, opts.workers)]
        if k % 2:
            order.reverse()
        done = {}
        for name, webs, workers in order:
            done[name] = run_setup(name, db_url, redis_url, webs, workers, opts.messages, opts.threads,
                                   prefix=f"r{k}-{name}")
            o = done[name]
            shares = "; ".join(f"{w.rsplit('.', 1)[-1]}: " + ", ".join(f"{c[j]} {j}" for j in sorted(c))
                               for w, c in sorted(o.jobs_by_worker.items()))
            print(f"round {k + 1} {name:<9} webs={webs} workers={workers} {o.messages} messages in "
                  f"{o.seconds:.1f} s = {o.rate:.1f}/s (posting {o.post_seconds:.1f} s); inbox rows {o.inbox_rows}, replies {o.replies}, "
                  f"delivered {o.delivered}, provider ids {o.distinct_provider_ids}, max attempts "
                  f"{o.max_attempts}: nothing twice {'yes' if o.nothing_twice else 'NO'}; jobs by worker pid: "
                  f"{shares}", flush=True)
        outcomes.append((done["floor"], done["scale-out"]))
    ratios = [s.rate / f.rate for f, s in outcomes]
    with open("/proc/loadavg") as fh:
        load_after = fh.read().split()[:3]
    print(f"\nscale-out / floor throughput per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"median {statistics.median(ratios):.2f}; load average after {' '.join(load_after)}")
    ok = all(o.nothing_twice for pair in outcomes for o in pair)
    shared = all(len(s.jobs_by_worker) == s.workers for _, s in outcomes)
    print(f"nothing done twice in any run: {ok}; every scale-out worker took a share: {shared}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
