"""USSD load benchmark: gunicorn serving Kassa vs. a floor (bare Flask, one Redis GET and SET).

Both are served by the same gunicorn settings, on PostgreSQL and a real Redis,
and driven in the same run by the same locust swarm playing multi-hop member
journeys (bench/ussd_load.py). Reported: throughput as a ratio of the floor's,
and p50/p99 latency at a paced 200 hops per second. Also: how long a member
waits for "service busy" when Redis or the database does not answer.

    python -m bench.ussd [--workers 4] [--duration 15]
      (BENCH_DATABASE_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/kassa_ussd;
       BENCH_REDIS_URL, default redis://127.0.0.1:6379/3 -- both are emptied first)
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from services import of as services_of

ROOT = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kassa_ussd")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
PEPPER = "bench-pepper"
MEMBERS = 200
#: Members who dial once each (half the journeys): Kassa's caller cache is cold for them.
COLD = 600
#: A member's journey: home, savings, back, next meeting, home, statement, more, home.
JOURNEY = ["", "1", "0", "4", "00", "5", "98", "00"]
WEEKS = 8


def prepare(db_url: str, redis_url: str) -> tuple[list[str], list[str]]:
    """Empty database and Redis db, migrate, seed a group of MEMBERS + COLD with WEEKS of savings;
    the phones that dial again and again, and those that dial once."""
    import redis

    import migrations

    migrations.recreate(db_url)
    redis.Redis.from_url(redis_url).flushdb()
    phones = _seed(db_url)
    _vacuum(db_url)
    return phones


def _vacuum(db_url: str) -> None:
    """VACUUM ANALYZE after seeding, as autovacuum soon would: otherwise it runs during the first round."""
    import psycopg

    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _seed(db_url: str) -> tuple[list[str], list[str]]:
    import ledger
    from db import Database
    from demo.groups import seed_demo
    from groups.service import add_member, create_group
    from ledger.books import group_today
    from security.pins import hash_pin

    db = Database(db_url)
    pin_hash = hash_pin("2580", PEPPER)  # one hash for all: seeding speed, not realism
    with db.transaction() as s:
        seed_demo(s)
        group = create_group(s, code="BENCH", name="Bench Women Group", kind="shg", currency="KES", country="KE",
                             timezone="Africa/Nairobi", meeting_weekday=1, meeting_place="Market hall",
                             saving_amount=20000, social_fund_amount=5000)
        people = [add_member(s, group, phone=f"+2547130{i:05d}", name=f"Bench Member {i}",
                             role="treasurer" if i == 1 else "member").member for i in range(1, MEMBERS + COLD + 1)]
        today = group_today(group)
        for week in range(WEEKS, 0, -1):
            for n, her in enumerate(people):
                ledger.record_saving(s, group, her, key=f"bench-{week}-{n}", actor=people[0],
                                     on=today - dt.timedelta(weeks=week))
        for her in people:
            her.pin_hash = hash_pin("2580", PEPPER) if her is people[0] else pin_hash
    db.dispose()
    return [p.phone for p in people[1:MEMBERS]], [p.phone for p in people[MEMBERS:]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app_spec: str, workers: int, env: dict[str, str], port: int | None = None) -> Iterator[str]:
    """gunicorn serving ``app_spec`` on ``port`` (a free local one by default), returned once EVERY
    worker has loaded the app and the server answers; stopped (by its pid) on exit."""
    port = port or _free_port()
    ready = tempfile.mkdtemp(prefix="kassa-ready-")
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
                             "-c", str(ROOT / "bench" / "gunicorn_ready.py"), "--log-level", "warning", app_spec],
                            cwd=ROOT, env={**os.environ, **env, "BENCH_READY_DIR": ready},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_ready(port, proc, ready, workers)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(ready, ignore_errors=True)


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the port accepts a connection (a server started by a test: no ready files)."""
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + (proc.stderr.read().decode()[-2000:] if proc.stderr else ""))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _wait_ready(port: int, proc: subprocess.Popen[bytes], ready: str, workers: int, seconds: float = 120) -> None:
    """Until ``workers`` workers have loaded the app (gunicorn_ready.py) and a request gets an answer."""
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + (proc.stderr.read().decode()[-2000:] if proc.stderr else ""))
        if len(os.listdir(ready)) >= workers:
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=5)  # any answer, even a 404
                return
            except requests.RequestException:
                pass
        time.sleep(0.1)
    raise RuntimeError(f"only {len(os.listdir(ready))} of {workers} workers started")


def load(host: str, phones: list[str], *, users: int, rate: float | None, duration: float,
         cold: list[str] | None = None) -> dict[str, Any]:
    """One locust run; with ``cold``, half the journeys dial from those phones, each once, their
    caller cache emptied first (as if their last call were more than a minute ago)."""
    cmd = [sys.executable, "-m", "bench.ussd_load", "--host", host, "--phones", ",".join(phones),
           "--users", str(users), "--duration", str(duration)]
    if rate:
        cmd += ["--rate", str(rate)]
    if cold:
        import redis

        from groups.callers import WHO_KEY

        client = redis.Redis.from_url(REDIS_URL)
        client.delete(*[WHO_KEY.format(p) for p in cold])
        client.close()
        cmd += ["--cold-phones", ",".join(cold), "--cold-share", "0.5"]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def busy_times() -> dict[str, float]:
    """Seconds until "service busy" with a silent Redis, and with a silent PostgreSQL (a first dial)."""
    from app import create_app

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    silent = listener.getsockname()[1]
    cases = {"redis silent": {"DATABASE_URL": DB_URL, "REDIS_URL": f"redis://127.0.0.1:{silent}/3"},
             "database silent": {"DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{silent}/x",
                                 "REDIS_URL": REDIS_URL}}
    result = {}
    for name, cfg in cases.items():
        app = create_app({**cfg, "PIN_PEPPER": PEPPER})
        start = time.perf_counter()
        body = app.test_client().post("/ussd/africastalking", data={
            "sessionId": f"busy-{name}", "phoneNumber": "+254713099999", "text": ""}).get_data(as_text=True)
        result[name] = round(time.perf_counter() - start, 2)
        assert body.startswith("END "), body
        services_of(app).close()
    listener.close()
    return result


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--rounds", type=int, default=3, help="floor and kassa alternate; medians reported")
    ap.add_argument("--cold", action="store_true", help="also run Kassa with the ledger read cache off")
    args = ap.parse_args(argv)
    phones, cold = prepare(DB_URL, REDIS_URL)
    env = {"DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL, "PIN_PEPPER": PEPPER, "SMS_BACKEND": "console"}
    servers: list[tuple[str, str, dict[str, str]]] = [("floor", "bench.ussd_floor:create_app()", {}),
                                                      ("kassa", "app:create_app()", {})]
    if args.cold:  # the same journeys with every ledger read going to the database
        servers.append(("kassa, no read cache", "app:create_app()", {"LEDGER_CACHE_SECONDS": "0"}))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in servers}
    loads = []
    for n in range(args.rounds):  # alternating, so all see the same machine (others share it)
        load0 = _loadavg()
        for name, spec, extra in (servers if n % 2 == 0 else servers[::-1]):  # and no one is always first
            with serve(spec, args.workers, {**env, **extra}) as host:
                load(host, phones, users=8, rate=None, duration=3)  # warm the workers
                runs[name].append({
                    "max": load(host, phones, users=args.users, rate=None, duration=args.duration, cold=cold),
                    "paced": load(host, phones, users=args.users, rate=args.rate, duration=args.duration,
                                  cold=cold)})
        loads.append(f"{load0} / {_loadavg()}")
    busy = busy_times()
    report(runs, loads, busy, args)
    return 0


def _loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def _median(results: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Field by field median of several runs' results."""
    found = list(results)
    return {k: round(statistics.median(r[k] for r in found), 2) if isinstance(found[0][k], (int, float))
            else found[0][k] for k in found[0]}


def report(runs: dict[str, list[dict[str, Any]]], loads: list[str], busy: dict[str, Any], args: argparse.Namespace) -> None:
    """Every round, the median of the per-round ratios, and whether each paced run reached its rate."""
    print(f"\n{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores; "
          f"gunicorn -w {args.workers} (sync); PostgreSQL + Redis on localhost; locust FastHttpUser, {args.users} "
          f"users, journeys of 8 hops, half of them from a phone that has not dialled in the last minute (the "
          f"caller cache cold); {args.duration:.0f} s per run; {args.rounds} alternating rounds\n")
    print("| round | server | max hops/s | p50 ms | p99 ms | paced: asked / reached hops/s | p50 ms | p99 ms | "
          "journeys warm / cold | errors | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    short = []
    for i, load_avg in enumerate(loads):
        for name, found in runs.items():
            m, p = found[i]["max"], found[i]["paced"]
            ok = p["hops_per_s"] >= 0.95 * args.rate
            if not ok:
                short.append(f"round {i + 1} {name}")
            print(f"| {i + 1} | {name} | {m['hops_per_s']} | {m['p50_ms']} | {m['p99_ms']} | {args.rate:.0f} / "
                  f"{p['hops_per_s']}{'' if ok else ' **short**'} | {p['p50_ms']} | {p['p99_ms']} | "
                  f"{m['journeys_warm'] + p['journeys_warm']} / {m['journeys_cold'] + p['journeys_cold']}"
                  f"{' (reused ' + str(m['journeys_cold_reused'] + p['journeys_cold_reused']) + ')' if m['journeys_cold_reused'] + p['journeys_cold_reused'] else ''} | "
                  f"{m['errors'] + p['errors']} | {load_avg} |")
    ratios = [runs["kassa"][i]["max"]["hops_per_s"] / runs["floor"][i]["max"]["hops_per_s"] for i in range(len(loads))]
    ratio = statistics.median(ratios)
    paced = statistics.median(r["paced"]["p99_ms"] for r in runs["kassa"])
    if "kassa, no read cache" in runs:
        cold = statistics.median(runs["kassa, no read cache"][i]["max"]["hops_per_s"]
                                 / runs["floor"][i]["max"]["hops_per_s"] for i in range(len(loads)))
        print(f"\nwith the ledger read cache off: {cold:.2f} of the floor (median of per-round ratios)")
    print(f"\nthroughput ratio kassa/floor per round: {', '.join(f'{r:.2f}' for r in ratios)}; median {ratio:.2f} "
          f"(target >= 0.8); kassa p99 at {args.rate:.0f} hops/s, median over rounds: {paced} ms (target < 20)"
          + (f"; paced runs short of their rate: {', '.join(short)}" if short else "; every paced run reached "
             "its rate"))
    print("service busy after: " + ", ".join(f"{k} {v} s" for k, v in busy.items()) + " (target < 3 s)")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    rows = {name: {kind: _median(r[kind] for r in found) for kind in ("max", "paced")} for name, found in runs.items()}
    (out / "ussd.json").write_text(json.dumps({"rows": rows, "runs": runs, "busy": busy, "ratio": ratio,
                                               "ratios": ratios}, indent=2))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
