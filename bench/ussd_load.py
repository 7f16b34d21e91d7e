"""Load generator for bench/ussd.py (run as its own process: gevent patches everything).

Locust ``FastHttpUser``s play multi-hop member journeys against ``--host``, one
hop per task, each user on her own phone and session. ``--rate`` paces the
whole swarm (hops per second); without it users hop as fast as answers come.
``--cold-phones`` with ``--cold-share 0.5``: every other journey is made from a
phone of that pool, each used once (the pool is taken in order; a wrap-around
is counted in ``cold_reused``), so half the callers have not dialled in the
last minute and Kassa's caller cache (60 s) is cold for them.
Prints one JSON line: hops, seconds, hops per second, p50/p90/p99 in ms, errors,
the journeys made warm and cold, and (paced) the rate asked for.
"""
from __future__ import annotations

from typing import Any

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

from bench.ussd import JOURNEY  # noqa: E402

HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}

latencies: list[float] = []
errors = {"count": 0}
journeys = {"warm": 0, "cold": 0, "cold_reused": 0}
_session_ids = itertools.count()
_journey_no = itertools.count()


def make_user(phones: list[str], per_user_rate: float | None, cold_phones: list[str] | None = None,
              cold_share: float = 0.0) -> type[FastHttpUser]:
    cycle = itertools.cycle(phones)
    cold_pool = itertools.cycle(cold_phones or [""])

    class Member(FastHttpUser):
        # Paced: each user hops as a Poisson process, so the swarm's arrivals are Poisson
        # at the total rate (no synchronised bursts); unpaced: as fast as answers come.
        wait_time = (lambda self: random.expovariate(per_user_rate)) if per_user_rate else constant(0)

        def on_start(self) -> None:
            self.own_phone = next(cycle)
            self.restart()

        def restart(self) -> None:
            self.typed: list[str] = []
            self.session_id, self.step = f"bench-{next(_session_ids)}", 0
            n = next(_journey_no)
            if cold_phones and int((n + 1) * cold_share) > int(n * cold_share):
                self.phone = next(cold_pool)
                journeys["cold"] += 1
                if journeys["cold"] > len(cold_phones):
                    journeys["cold_reused"] += 1
            else:
                self.phone = self.own_phone
                journeys["warm"] += 1

        @task
        def hop(self) -> None:
            answer = JOURNEY[self.step]
            if self.step:
                self.typed.append(answer)
            body = urlencode({"sessionId": self.session_id, "phoneNumber": self.phone, "serviceCode": "*384*123#",
                              "networkCode": "99999", "text": "*".join(self.typed)})
            with self.client.post("/ussd/africastalking", data=body, headers=HEADERS, name="hop",
                                  catch_response=True) as r:
                text = r.text or ""
                if not text.startswith(("CON ", "END ")) or "busy" in text:
                    r.failure(text[:60])
            self.step += 1
            if self.step == len(JOURNEY):
                self.restart()

    return Member


@events.request.add_listener  # type: ignore[untyped-decorator]  # locust's EventHook is unannotated
def _record(request_type: str, name: str, response_time: float, response_length: int,
            exception: BaseException | None = None, **_: object) -> None:
    latencies.append(response_time)
    if exception is not None:
        errors["count"] += 1


def run(host: str, phones: list[str], users: int, rate: float | None, warmup: float, duration: float,
        cold_phones: list[str] | None = None, cold_share: float = 0.0) -> dict[str, Any]:
    user = make_user(phones, rate / users if rate else None, cold_phones, cold_share)
    env = Environment(user_classes=[user], host=host, events=events)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(warmup)
    latencies.clear()
    errors["count"] = 0
    counted = dict(journeys)
    start = time.perf_counter()
    gevent.sleep(duration)
    elapsed = time.perf_counter() - start
    done = list(latencies)
    runner.quit()
    cuts = statistics.quantiles(done, n=100, method="inclusive")
    return {"hops": len(done), "seconds": round(elapsed, 2), "hops_per_s": round(len(done) / elapsed, 1),
            "p50_ms": round(cuts[49], 2), "p90_ms": round(cuts[89], 2), "p99_ms": round(cuts[98], 2),
            "errors": errors["count"], "users": users, "rate": rate,
            **{f"journeys_{k}": journeys[k] - counted[k] for k in journeys}}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--phones", required=True, help="comma-separated E.164 numbers")
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--rate", type=float, default=None, help="total hops per second (paced)")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--cold-phones", default="", help="comma-separated numbers, each dialling once")
    ap.add_argument("--cold-share", type=float, default=0.5, help="share of journeys from --cold-phones")
    args = ap.parse_args(argv)
    cold = [p for p in args.cold_phones.split(",") if p]
    result = run(args.host, args.phones.split(","), args.users, args.rate, args.warmup, args.duration,
                 cold, args.cold_share if cold else 0.0)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
