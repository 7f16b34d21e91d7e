"""USSD: server-side CPU per hop, in process, by hop of the journey (Kassa vs the floor).

The load benchmark (bench/ussd.py) measures the whole box: gunicorn, locust,
PostgreSQL and Redis sharing 2 cores, so its figures move with the neighbours.
This one calls each app's WSGI entry directly, one hop at a time, and counts
the CPU time of this process only (``time.process_time``): what a hop costs
Kassa's Python, hop by hop, beside the floor's bare GET and SET. PostgreSQL's
and Redis's own CPU are not in it.

Cases: the floor; Kassa; Kassa with the ledger read cache off
(``LEDGER_CACHE_SECONDS=0``), so "My savings" and "Money in and out" read the
database on every hop.

    python -m bench.ussd_cpu [--journeys 1000]
      (BENCH_DATABASE_URL / BENCH_REDIS_URL as bench/ussd.py: emptied and seeded)
"""
from __future__ import annotations

import argparse
import io
import itertools
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

# JOURNEY from bench.ussd, not bench.ussd_load: importing that one lets gevent patch the sockets
from bench.ussd import DB_URL, JOURNEY, PEPPER, REDIS_URL, prepare

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

LABELS = ["dial (home)", "My savings", "back", "Next meeting", "home (00)", "Money in and out", "next page (98)",
          "home (00)"]


def _call(app: WSGIApplication, body: bytes) -> bytes:
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/ussd/africastalking", "SERVER_NAME": "bench",
           "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
           "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
           "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr}
    def start_response(status: str, headers: list[tuple[str, str]],
                       exc_info: object = None) -> Callable[[bytes], object]:
        return lambda data: None

    return b"".join(app(env, start_response))


def per_hop(app: WSGIApplication, phones: list[str], journeys: int, tag: int) -> list[float]:
    """Mean CPU ms of each hop of the journey over ``journeys`` journeys (after as many to warm up)."""
    ids = itertools.count()
    totals = [0.0] * len(JOURNEY)
    for n in range(2 * journeys):
        session, typed = f"cpu-{tag}-{next(ids)}", []
        for i, answer in enumerate(JOURNEY):
            if i:
                typed.append(answer)
            body = urlencode({"sessionId": session, "phoneNumber": phones[n % len(phones)],
                              "serviceCode": "*384*123#", "networkCode": "99999", "text": "*".join(typed)}).encode()
            start = time.process_time()
            reply = _call(app, body)
            spent = time.process_time() - start
            if not reply.startswith((b"CON ", b"END ")) or b"busy" in reply:
                raise SystemExit(f"bad reply: {reply[:80]!r}")
            if n >= journeys:
                totals[i] += spent
    return [t / journeys * 1000 for t in totals]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--journeys", type=int, default=1000)
    args = ap.parse_args(argv)
    phones, _cold = prepare(DB_URL, REDIS_URL)
    os.environ["REDIS_URL"] = REDIS_URL
    from app import create_app
    from bench.ussd_floor import create_app as floor_app

    base = {"DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL, "PIN_PEPPER": PEPPER, "SMS_BACKEND": "console"}
    cases = {"floor": floor_app(), "kassa": create_app(base),
             "kassa, no read cache": create_app({**base, "LEDGER_CACHE_SECONDS": 0})}
    rows = {name: per_hop(app, phones, args.journeys, tag) for tag, (name, app) in enumerate(cases.items())}
    print(f"\nCPU ms per hop (this process only), mean of {args.journeys} journeys of {len(JOURNEY)} hops\n")
    print("| hop | " + " | ".join(rows) + " |")
    print("|---|" + "---|" * len(rows))
    for i, label in enumerate(LABELS):
        print(f"| {label} | " + " | ".join(f"{r[i]:.3f}" for r in rows.values()) + " |")
    print("| **mean** | " + " | ".join(f"**{sum(r) / len(r):.3f}**" for r in rows.values()) + " |")
    floor = sum(rows["floor"]) / len(JOURNEY)
    for name, r in rows.items():
        print(f"{name}: {floor / (sum(r) / len(r)):.2f} of the floor's rate per CPU second")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
