"""Benchmark: 100,000 queued SMS handed to a provider by two worker processes, against a floor.

PostgreSQL (``BENCH_DATABASE_URL``, in its own schema ``bench_delivery`` so the
test suite never touches it) and Redis (``REDIS_URL``). A local provider stub
(``bench.provider_stub``, aiohttp) speaks Africa's Talking's HTTP on
127.0.0.1; the SDK's base URL points at it (``AT_API_URL``); the rate limit is
lifted (``SMS_RATE_PER_SECOND=0``).

Each round, interleaved:

1. **Kassa**: the outbox holds N rows, a mix of reminders (a text of their own
   each: one request per message) and broadcast chunks (one text: one request
   per 500 recipients), enqueued as the planner and the fan-out enqueue them
   (``send_many`` chunk jobs of 500). W ``python worker.py work`` processes
   (RQ, a forked job per chunk), already running, send them; the clock runs
   from the enqueue to the last row recorded ``sent``.
2. **Floor**: W processes of a bare pooled HTTP client (one ``requests.Session``
   and ``SMS_SEND_CONCURRENCY`` threads each) post exactly the same requests to
   the same stub: no database, no Redis, no SDK.

Reported: messages/s (total and per worker process), the ratio to the floor per
round and its median, the load average. ``--flush N`` also measures
recovery after a ``FLUSHALL`` mid-send of N messages.

Run: ``python -m bench.delivery [--messages 100000] [--rounds 3] [--workers 2]``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

import migrations  # noqa: E402
from config import Config  # noqa: E402
from messaging.models import Priority  # noqa: E402
from services import Services  # noqa: E402

SCHEMA = "bench_delivery"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kassa_delivery"
PORT = 5501
REMINDER = "Reminder: UPENDO meets tomorrow at 10:00. Bring your savings and loan book. Member {}"
BROADCAST = "Hand in Hand Kenya: the training on record keeping moves to Friday 10:00 at the chief's office."
CHUNK = 500


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0]


def phone(i: int) -> str:
    return f"+2547{i:08d}"


# -- the stub and the workers -------------------------------------------------------------------

def start_stub(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "bench.provider_stub", "--port", str(port)], cwd=ROOT)
    wait_for(f"http://127.0.0.1:{port}/health")
    return proc


def wait_for(url: str, seconds: float = 30) -> None:
    """Warm-up: return once ``url`` answers 200."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} never answered")
        time.sleep(0.1)


def worker_env(url: str, redis_url: str, port: int, concurrency: int) -> dict:
    return dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, SMS_BACKEND="africastalking",
                AT_USERNAME="kassa", AT_API_KEY="bench-key", AT_API_URL=f"http://127.0.0.1:{port}",
                SMS_RATE_PER_SECOND="0", SMS_SEND_CONCURRENCY=str(concurrency), KASSA_ENV="development")


def start_workers(n: int, env: dict, fork: bool = True) -> list[subprocess.Popen]:
    cmd = [sys.executable, "worker.py", "work"] + ([] if fork else ["--no-fork"])
    return [subprocess.Popen(cmd, cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            for _ in range(n)]


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        p.wait(30)


# -- the outbox ---------------------------------------------------------------------------------

def seed(conninfo: str, messages: int, broadcast_share: float, tag: str) -> tuple[list[int], list[int]]:
    """Write the rows (reminders, then broadcast) straight into an empty outbox; their ids."""
    broadcasts = int(messages * broadcast_share) // CHUNK * CHUNK
    reminders = messages - broadcasts
    with psycopg.connect(conninfo, options=f"-csearch_path={SCHEMA}") as conn:
        conn.execute("TRUNCATE outbox RESTART IDENTITY")
        conn.execute(
            "INSERT INTO outbox (to_phone, text, language, encoding, segments, priority, kind, dedupe_key, "
            "status, attempts, created_at, updated_at) "
            "SELECT '+2547' || lpad(g::text, 8, '0'), replace(%s, '{}', g::text), 'en', 'gsm7', 1, %s, "
            "'reminder', %s || '-r-' || g, 'pending', 0, now(), now() FROM generate_series(1, %s) g",
            (REMINDER, int(Priority.NOTICE), tag, reminders))
        conn.execute(
            "INSERT INTO outbox (to_phone, text, language, encoding, segments, priority, kind, dedupe_key, "
            "status, attempts, created_at, updated_at) "
            "SELECT '+2547' || lpad(g::text, 8, '0'), %s, 'en', 'gsm7', 1, %s, 'broadcast', %s || '-b-' || g, "
            "'pending', 0, now(), now() FROM generate_series(1, %s) g",
            (BROADCAST, int(Priority.BULK), tag, broadcasts))
        conn.commit()
        r = [x for (x,) in conn.execute("SELECT id FROM outbox WHERE kind = 'reminder' ORDER BY id")]
        b = [x for (x,) in conn.execute("SELECT id FROM outbox WHERE kind = 'broadcast' ORDER BY id")]
    return r, b


def unsent(conninfo: str) -> int:
    with psycopg.connect(conninfo, options=f"-csearch_path={SCHEMA}") as conn:
        return conn.execute("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')").fetchone()[0]


def wait_sent(conninfo: str, timeout: float = 1800) -> float:
    deadline = time.monotonic() + timeout
    while unsent(conninfo):
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not finish")
        time.sleep(0.2)
    return time.perf_counter()


# -- the floor ----------------------------------------------------------------------------------

def floor_requests(messages: int, broadcast_share: float) -> list[dict]:
    """The same forms Kassa's Africa's Talking channel posts, for the same rows."""
    broadcasts = int(messages * broadcast_share) // CHUNK * CHUNK
    reminders = messages - broadcasts
    base = {"username": "kassa", "bulkSMSMode": 1}
    out = [dict(base, to=phone(i), message=REMINDER.format(i)) for i in range(1, reminders + 1)]
    for start in range(1, broadcasts + 1, CHUNK):
        out.append(dict(base, to=",".join(phone(i) for i in range(start, start + CHUNK)), message=BROADCAST,
                        enqueue=1))
    return out


def _floor_process(forms: list[dict], port: int, threads: int, start_at: float, out) -> None:
    from channels import http_session

    session = http_session(threads)
    url = f"http://127.0.0.1:{port}/version1/messaging"
    headers = {"Accept": "application/json", "apiKey": "bench-key"}

    def post(form: dict) -> int:
        res = session.post(url, data=form, headers=headers, timeout=(3.05, 9.05))
        res.raise_for_status()
        return len(res.json()["SMSMessageData"]["Recipients"])

    while time.time() < start_at:
        time.sleep(0.001)
    begin = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        sent = sum(pool.map(post, forms))
    out.put((sent, time.perf_counter() - begin))


def run_floor(forms: list[dict], workers: int, port: int, threads: int) -> tuple[int, float]:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 1.0
    procs = [ctx.Process(target=_floor_process, args=(forms[i::workers], port, threads, start_at, out))
             for i in range(workers)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(r[0] for r in results), max(r[1] for r in results)


# -- Kassa --------------------------------------------------------------------------------------

def run_kassa(services: Services, conninfo: str, messages: int, share: float, tag: str) -> tuple[int, float]:
    from outreach.bulk import enqueue_sends

    reminders, broadcasts = seed(conninfo, messages, share, tag)
    begin = time.perf_counter()
    enqueue_sends(services, reminders, Priority.NOTICE)
    enqueue_sends(services, broadcasts, Priority.BULK)
    end = wait_sent(conninfo)
    return len(reminders) + len(broadcasts), end - begin


def run_flush(services: Services, conninfo: str, messages: int, share: float, tag: str) -> dict:
    """FLUSHALL a second into the send; the sweeper (as a minute later) hands the rest to drain jobs."""
    from messaging.sweeper import sweep
    from outreach.bulk import enqueue_sends

    reminders, broadcasts = seed(conninfo, messages, share, tag)
    begin = time.perf_counter()
    enqueue_sends(services, reminders, Priority.NOTICE)
    enqueue_sends(services, broadcasts, Priority.BULK)
    time.sleep(1.0)
    services.redis.flushdb()  # what FLUSHALL does to us, without touching the shared server's other databases
    flushed = time.perf_counter()
    left = unsent(conninfo)
    swept = time.perf_counter()
    handed = sweep(services, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2))
    end = wait_sent(conninfo)
    return {"left": left, "handed": handed, "flush_at": flushed - begin, "recovery": end - swept,
            "total": end - begin}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=100_000)
    p.add_argument("--broadcast-share", type=float, default=0.4)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--port", type=int, default=PORT)
    p.add_argument("--no-fork", action="store_true", help="workers run jobs in their own process")
    p.add_argument("--flush", type=int, default=0, metavar="N",
                   help="also measure recovery after a FLUSHALL one second into sending N messages")
    args = p.parse_args(argv)
    base = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    conninfo = base.replace("postgresql+psycopg://", "postgresql://")
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{SCHEMA}"
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    migrations.upgrade(url)
    services = Services.build(Config.from_env(overrides={"DATABASE_URL": url, "REDIS_URL": redis_url}))
    services.redis.flushdb()
    stub = start_stub(args.port)
    workers = start_workers(args.workers, worker_env(url, redis_url, args.port, args.concurrency),
                            fork=not args.no_fork)
    forms = floor_requests(args.messages, args.broadcast_share)
    print(f"# delivery bench {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {args.messages:,} SMS ({args.broadcast_share:.0%} broadcast), "
          f"{len(forms):,} provider requests; {args.workers} worker processes x {args.concurrency} in flight"
          f"{' (--no-fork)' if args.no_fork else ''}",
          flush=True)
    rows = []
    try:
        for r in range(args.rounds):
            load0 = loadavg()
            sent, secs = run_kassa(services, conninfo, args.messages, args.broadcast_share, f"r{r}")
            fsent, fsecs = run_floor(forms, args.workers, args.port, args.concurrency)
            k, f = sent / secs, fsent / fsecs
            rows.append((r + 1, sent, secs, k, k / args.workers, fsent, fsecs, f, k / f, f"{load0}/{loadavg()}"))
            print("| {} | {:,} | {:.1f} | {:.0f} | {:.0f} | {:,} | {:.1f} | {:.0f} | {:.2f} | {} |".format(*rows[-1]),
                  flush=True)
        if args.flush:
            fl = run_flush(services, conninfo, args.flush, args.broadcast_share, "flush")
            print(f"FLUSHALL at {fl['flush_at']:.1f} s with {fl['left']:,} rows unsent; the sweep handed "
                  f"{fl['handed']:,} to drain jobs; recovery (sweep to last sent) {fl['recovery']:.1f} s "
                  f"= {fl['left'] / fl['recovery']:.0f} msg/s; whole run {fl['total']:.1f} s; "
                  f"load {loadavg()}", flush=True)
    finally:
        stop(workers)
        stub.terminate()
        stub.wait()
        services.close()
    ratios = [row[8] for row in rows]
    print(f"median ratio to floor {statistics.median(ratios):.2f}; median Kassa "
          f"{statistics.median(row[3] for row in rows):.0f} msg/s "
          f"({statistics.median(row[4] for row in rows):.0f} per worker process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
