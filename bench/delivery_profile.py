"""Profile one worker process's send path (cProfile, stdlib): claim, send, record of N outbox rows.

Run after ``bench.delivery`` has created its schema (or with ``--setup``)::

    python -m bench.delivery_profile --messages 5000 [--concurrency 1] [--provider africastalking]

With ``--concurrency 1`` every request runs on the profiled thread, so the
profile shows the whole per-message cost; with more, ``--wall`` reports
where the wall clock goes between the claim, the sends and the record.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time

from bench import delivery as d

WAITS = ("recv_into", "sendall", "connection.py:479(wait)", "select", "poll", "acquire", "sleep")
PACKAGES = (("requests", "requests"), ("urllib3", "urllib3"), ("http.client, email, socket, urllib.parse",
            "python3.11/http/|python3.11/email/|python3.11/socket.py|python3.11/urllib/"),
            ("typing (requests' runtime Protocol checks)", "python3.11/typing.py"),
            ("africastalking SDK", "africastalking"), ("twilio SDK", "twilio"), ("redis-py", "/redis/"),
            ("psycopg", "psycopg"), ("SQLAlchemy", "sqlalchemy"), ("json", "python3.11/json/"),
            ("prometheus_client", "prometheus_client"), ("logging", "python3.11/logging/"),
            ("Kassa's own code", "/deliv/"))


def by_package(stats: pstats.Stats, n: int) -> str:
    """Own time (tottime) summed by package, socket and lock waits apart: where one process's time goes."""
    import re

    sums: dict[str, float] = {}
    total = 0.0
    for (filename, line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]  # pstats keeps its table undeclared
        name = f"{filename}:{line}({func})"
        total += tt
        if any(w in name for w in WAITS):
            key = "waiting (sockets: provider, Redis, PostgreSQL; locks; sleeps)"
        else:
            key = next((label for label, pat in PACKAGES if re.search(pat, filename)), "other (builtins, stdlib)")
        sums[key] = sums.get(key, 0.0) + tt
    lines = ["| where | s | % | µs per SMS |", "|---|---|---|---|"]
    for key, secs in sorted(sums.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {key} | {secs:.2f} | {100 * secs / total:.0f} | {1e6 * secs / n:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=5000)
    p.add_argument("--broadcast-share", type=float, default=0.4)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--provider", default="africastalking", choices=["africastalking", "twilio"])
    p.add_argument("--port", type=int, default=d.PORT + 7)
    p.add_argument("--top", type=int, default=35)
    p.add_argument("--callers", default="", help="also print who calls the functions matching this")
    args = p.parse_args(argv)
    base, conninfo, url, redis_url = d.urls()
    d.setup_schema(conninfo, url)
    stub = d.start_stub(args.port)
    env = d.worker_env(url, redis_url, args.port, args.concurrency, args.provider)
    os.environ.update(env)
    import worker
    from messaging.sender import send_rows

    services = worker.get_services()
    worker._preload(services)
    try:
        reminders, broadcasts = d.seed(conninfo, args.messages, args.broadcast_share, "prof")
        send_rows(services, reminders[:200])  # warm: connections, statement caches
        reminders = reminders[200:]
        prof = cProfile.Profile()
        begin = time.perf_counter()
        prof.enable()
        for i in range(0, len(reminders), d.CHUNK):
            send_rows(services, reminders[i:i + d.CHUNK])
        for i in range(0, len(broadcasts), d.CHUNK):
            send_rows(services, broadcasts[i:i + d.CHUNK])
        prof.disable()
        secs = time.perf_counter() - begin
        n = len(reminders) + len(broadcasts)
        print(f"# {n:,} SMS ({len(reminders):,} reminders, {len(broadcasts):,} broadcast) in {secs:.2f} s "
              f"= {n / secs:.0f} msg/s, one process, {args.concurrency} in flight, {args.provider}; "
              f"load {d.loadavg()}")
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)
        print(out.getvalue())
        print(by_package(stats, n))
    finally:
        services.close()
        stub.terminate()
        stub.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
