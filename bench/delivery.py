"""Benchmark: 100,000 queued SMS handed to a provider by two worker processes, against a floor.

PostgreSQL (``BENCH_DATABASE_URL``, in its own schema ``bench_delivery`` so the
test suite never touches it) and Redis (``REDIS_URL``). A local provider stub
(``bench.provider_stub``, aiohttp) speaks Africa's Talking's HTTP on
127.0.0.1; the SDK's base URL points at it (``AT_API_URL``); the rate limit is
lifted (``SMS_RATE_PER_SECOND=0``).

Each round, interleaved (the order alternates round by round):

1. **Kassa**: the outbox holds N rows, a mix of reminders (a text of their own
   each: one request per message) and broadcast chunks (one text: one Africa's
   Talking request per 500 recipients; Twilio: one request per message),
   enqueued as the planner and the fan-out enqueue them (``send_many`` chunk
   jobs of 500). W ``python worker.py work`` processes (KassaWorker: the job
   runs in the worker process, no fork), already running and registered, send
   them; the clock runs from the enqueue to the last row recorded ``sent``.
2. **Floor**: W processes of a bare pooled HTTP client (one ``requests.Session``
   from ``providers.http_session`` and ``SMS_SEND_CONCURRENCY`` threads each) post
   exactly the same requests to the same stub: no database, no Redis, no SDK.

Reported: messages/s (total and per worker process), the ratio to the floor per
round and the median of those ratios, the load average, and where the CPU went
in each phase (the workers', the stub's, the floor clients' and the whole
machine's CPU seconds, from /proc). ``--flush N`` also measures recovery after
a ``FLUSHALL`` mid-send of N messages. ``--provider twilio`` speaks Twilio.

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
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

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
TWILIO_SID = "ACbench0000000000000000000000000"


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0]


TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes ``pids`` have used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy so far (all cores; /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK


class CpuMeter:
    """Where the CPU went during one phase: the workers, the stub, the floor's clients, the machine."""

    def __init__(self, workers: list[int], stub: int) -> None:
        self.workers, self.stub = workers, stub

    def __enter__(self) -> CpuMeter:
        self._start = (proc_cpu(self.workers), proc_cpu([self.stub]), _children_cpu(), machine_busy())
        return self

    def __exit__(self, *exc: object) -> None:
        end = (proc_cpu(self.workers), proc_cpu([self.stub]), _children_cpu(), machine_busy())
        self.workers_s, self.stub_s, self.clients_s, self.machine_s = (b - a for a, b in zip(self._start, end, strict=True))


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def phone(i: int) -> str:
    return f"+2547{i:08d}"


# -- the stub and the workers -------------------------------------------------------------------

def start_stub(port: int) -> subprocess.Popen[bytes]:
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


def worker_env(url: str, redis_url: str, port: int, concurrency: int, provider: str = "africastalking") -> dict[str, Any]:
    stub = f"http://127.0.0.1:{port}"
    return dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, SMS_BACKEND=provider,
                AT_USERNAME="kassa", AT_API_KEY="bench-key", AT_API_URL=stub,
                TWILIO_ACCOUNT_SID=TWILIO_SID, TWILIO_AUTH_TOKEN="bench-token", TWILIO_FROM="+15005550006",
                TWILIO_API_URL=stub, PUBLIC_URL="http://127.0.0.1:9", WEBHOOK_TOKEN="",
                SMS_RATE_PER_SECOND="0", SMS_SEND_CONCURRENCY=str(concurrency), KASSA_ENV="development")


def urls(schema: str = SCHEMA) -> tuple[str, str, str, str]:
    """(SQLAlchemy URL, psycopg conninfo, SQLAlchemy URL in ``schema``, Redis URL)."""
    base = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    conninfo = base.replace("postgresql+psycopg://", "postgresql://")
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    return base, conninfo, url, os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")


def setup_schema(conninfo: str, url: str, schema: str = SCHEMA) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    migrations.upgrade(url)


def start_workers(n: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    """``python worker.py work`` processes (KassaWorker: jobs run in the worker process, no fork)."""
    cmd = [sys.executable, "worker.py", "work"]
    return [subprocess.Popen(cmd, cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            for _ in range(n)]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
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
        return int(conn.execute("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')").fetchall()[0][0])


def wait_sent(conninfo: str, timeout: float = 1800) -> float:
    deadline = time.monotonic() + timeout
    while unsent(conninfo):
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not finish")
        time.sleep(0.2)
    return time.perf_counter()


# -- the floor ----------------------------------------------------------------------------------

def floor_requests(messages: int, broadcast_share: float, provider: str = "africastalking") -> list[dict[str, Any]]:
    """The same forms Kassa's channel posts, for the same rows (Twilio: one message per request)."""
    broadcasts = int(messages * broadcast_share) // CHUNK * CHUNK
    reminders = messages - broadcasts
    if provider == "twilio":
        twilio = {"From": "+15005550006", "StatusCallback": "http://127.0.0.1:9/sms/twilio/status"}
        return ([dict(twilio, To=phone(i), Body=REMINDER.format(i)) for i in range(1, reminders + 1)]
                + [dict(twilio, To=phone(i), Body=BROADCAST) for i in range(1, broadcasts + 1)])
    base: dict[str, Any] = {"username": "kassa", "bulkSMSMode": 1}
    out = [dict(base, to=phone(i), message=REMINDER.format(i)) for i in range(1, reminders + 1)]
    for start in range(1, broadcasts + 1, CHUNK):
        out.append({**base, "to": ",".join(phone(i) for i in range(start, start + CHUNK)), "message": BROADCAST,
                    "enqueue": 1})
    return out


def _floor_process(forms: list[dict[str, Any]], port: int, threads: int, provider: str, start_at: float,
                   out: Queue[Any]) -> None:
    from providers import http_session

    session = http_session(threads)
    if provider == "twilio":
        url = f"http://127.0.0.1:{port}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
        session.auth = (TWILIO_SID, "bench-token")
        headers = {"Accept": "application/json"}
    else:
        url = f"http://127.0.0.1:{port}/version1/messaging"
        headers = {"Accept": "application/json", "apiKey": "bench-key"}

    def post(form: dict[str, Any]) -> int:
        res = session.post(url, data=form, headers=headers, timeout=(3.05, 9.05))
        res.raise_for_status()
        body = res.json()
        return len(body["SMSMessageData"]["Recipients"]) if provider != "twilio" else int(bool(body["sid"]))

    while time.time() < start_at:
        time.sleep(0.001)
    begin = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        sent = sum(pool.map(post, forms))
    out.put((sent, time.perf_counter() - begin))


def run_floor(forms: list[dict[str, Any]], workers: int, port: int, threads: int,
              provider: str = "africastalking") -> tuple[int, float]:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 1.0
    procs = [ctx.Process(target=_floor_process, args=(forms[i::workers], port, threads, provider, start_at, out))
             for i in range(workers)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(r[0] for r in results), max(r[1] for r in results)


# -- Kassa --------------------------------------------------------------------------------------

def run_kassa(services: Services, conninfo: str, messages: int, share: float, tag: str) -> tuple[int, float]:
    from messaging.bulk import enqueue_sends

    reminders, broadcasts = seed(conninfo, messages, share, tag)
    begin = time.perf_counter()
    enqueue_sends(services, reminders, Priority.NOTICE)
    enqueue_sends(services, broadcasts, Priority.BULK)
    end = wait_sent(conninfo)
    return len(reminders) + len(broadcasts), end - begin


def run_flush(services: Services, conninfo: str, messages: int, share: float, tag: str) -> dict[str, Any]:
    """FLUSHALL a second into the send; the sweeper (as a minute later) hands the rest to drain jobs."""
    from messaging.bulk import enqueue_sends
    from messaging.sweeper import sweep

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
    p.add_argument("--provider", default="africastalking", choices=["africastalking", "twilio"],
                   help="the HTTP API the stub speaks and the workers use")
    p.add_argument("--flush", type=int, default=0, metavar="N",
                   help="also measure recovery after a FLUSHALL one second into sending N messages")
    args = p.parse_args(argv)
    base, conninfo, url, redis_url = urls()
    setup_schema(conninfo, url)
    services = Services.build(Config.from_env(overrides={"DATABASE_URL": url, "REDIS_URL": redis_url}))
    services.redis.flushdb()
    stub = start_stub(args.port)
    workers = start_workers(args.workers, worker_env(url, redis_url, args.port, args.concurrency, args.provider))
    forms = floor_requests(args.messages, args.broadcast_share, args.provider)
    wait_workers(services, args.workers)
    print(f"# delivery bench {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {args.provider}; {args.messages:,} SMS "
          f"({args.broadcast_share:.0%} broadcast), {len(forms):,} provider requests; {args.workers} worker "
          f"processes x {args.concurrency} in flight; load {loadavg()}", flush=True)
    print("| round | SMS | Kassa s | Kassa msg/s | per worker process | floor SMS | floor s | floor msg/s | ratio "
          "| load avg |\n|---|---|---|---|---|---|---|---|---|---|", flush=True)
    rows, cpu = [], []
    wpids = [w.pid for w in workers]
    try:
        for r in range(args.rounds):
            load0 = loadavg()
            # interleaved; the order alternates so neither side always runs in the other's wake
            kassa_cpu, floor_cpu = CpuMeter(wpids, stub.pid), CpuMeter(wpids, stub.pid)
            for side in ("kassa", "floor") if r % 2 == 0 else ("floor", "kassa"):
                if side == "kassa":
                    with kassa_cpu:
                        sent, secs = run_kassa(services, conninfo, args.messages, args.broadcast_share, f"r{r}")
                else:
                    with floor_cpu:
                        fsent, fsecs = run_floor(forms, args.workers, args.port, args.concurrency, args.provider)
            cpu.append((r + 1, secs, kassa_cpu.workers_s, kassa_cpu.stub_s, kassa_cpu.machine_s,
                        1e6 * kassa_cpu.workers_s / sent, fsecs, floor_cpu.clients_s, floor_cpu.stub_s,
                        floor_cpu.machine_s, 1e6 * floor_cpu.clients_s / fsent))
            k, f = sent / secs, fsent / fsecs
            rows.append((r + 1, sent, secs, k, k / args.workers, fsent, fsecs, f, k / f, f"{load0} / {loadavg()}"))
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
    if cpu:
        print("\nCPU seconds per phase (2 cores = 2 CPU s per wall second; 'machine' counts every process, "
              "the other engineers' too):\n\n| round | Kassa wall s | workers CPU s | stub CPU s | machine CPU s "
              "| workers CPU µs per SMS | floor wall s | floor clients CPU s | stub CPU s | machine CPU s "
              "| clients CPU µs per SMS |\n|---|---|---|---|---|---|---|---|---|---|---|")
        for c in cpu:
            print("| {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.0f} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.0f} |"
                  .format(*c))
    if rows:
        print(f"median of per-round ratios to the floor {statistics.median(row[8] for row in rows):.2f}; "
              f"median Kassa {statistics.median(row[3] for row in rows):.0f} msg/s "
              f"({statistics.median(row[4] for row in rows):.0f} per worker process); "
              f"median floor {statistics.median(row[7] for row in rows):.0f} msg/s")
    return 0


def wait_workers(services: Services, n: int, seconds: float = 60) -> None:
    """Warm-up: return once ``n`` RQ workers have registered (each answers for its queues)."""
    from rq import Worker

    deadline = time.monotonic() + seconds
    while len(Worker.all(connection=services.redis)) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(Worker.all(connection=services.redis))} of {n} workers started")
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
