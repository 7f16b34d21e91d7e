"""Console latency on the national-scale seed: the dashboard and a group's page against a floor page.

Needs the seed of bench/dashboard_seed.py (300,000 groups, made once, reused).
Kassa and the floor (bench/dashboard_floor.py: a bare template render after one
query) are served by the same gunicorn settings (one sync worker each, so a
request is measured alone) on ports 5420 and 5421, on the same PostgreSQL.
One client logs in as an admin and as a coordinator (region R5: about 2,100
groups) and asks, request by request interleaved, in each round:

- the floor page;
- the admin's dashboard over all 300,000 groups, and filtered to one region;
- the coordinator's dashboard over her groups;
- a group's page (the console's, as the admin sees it).

Per round: p50 and p95 of each page; the ratio of each page's p95 to the
floor's p95 in that round. Reported: every round, and the median of the
per-round ratios, with the load average before and after.

Then, because the machine is shared and its load swamps wall-clock times, the
same pages are asked in process (Flask's test client, the floor app beside
Kassa) and the CPU time of the requesting thread is measured per request
(``time.thread_time``: Python's own work, the database server's not counted).

Run: ``python -m bench.dashboard [--rounds 5] [--requests 60] [--cpu-only]``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench import dashboard_seed  # noqa: E402
from bench.ussd import serve  # noqa: E402
from services import of as services_of  # noqa: E402

if TYPE_CHECKING:
    from flask.testing import FlaskClient

ADMIN = ("+254700000001", "bench admin password")
COORD = ("+254700000002", "bench coordinator password")
REGION = "R5"
GROUP = 12345
PORTS = {"kassa": 5420, "floor": 5421}


def ensure_staff(url: str) -> None:
    """The admin and the coordinator (region R5), once."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from console.accounts import create_staff
    from console.models import Staff
    from db import make_engine

    engine = make_engine(url)
    with Session(engine) as s:
        for (phone, password), role, regions in ((ADMIN, "admin", None), (COORD, "coordinator", [REGION])):
            if s.scalar(select(Staff.id).where(Staff.phone == phone)) is None:
                create_staff(s, phone=phone, name=f"Bench {role}", role=role, password=password, regions=regions)
        s.commit()
    engine.dispose()


def _csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if found is None:
        raise RuntimeError("no CSRF token on the login page")
    return found.group(1)


def login(host: str, phone: str, password: str) -> requests.Session:
    client = requests.Session()
    html = client.get(f"{host}/console/login").text
    token = _csrf_token(html)
    r = client.post(f"{host}/console/login", data={"phone": phone, "password": password, "csrf_token": token},
                    allow_redirects=False)
    assert r.status_code == 303, (r.status_code, r.text[:300])
    return client


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cpu_in_process(url: str, env: dict[str, str], rounds: int, n: int) -> str:
    """Python CPU per request, Kassa's pages against the floor's, in this process (interleaved)."""
    from app import create_app
    from bench.dashboard_floor import create_app as floor_app

    os.environ["DATABASE_URL"] = url
    kassa = create_app({**env, "TESTING": False})
    floor = floor_app().test_client()

    def client_for(phone: str, password: str) -> FlaskClient:
        c = kassa.test_client()
        html = c.get("/console/login").get_data(as_text=True)
        token = _csrf_token(html)
        assert c.post("/console/login", data={"phone": phone, "password": password,
                                              "csrf_token": token}).status_code == 303
        return c

    admin, coord = client_for(*ADMIN), client_for(*COORD)
    pages = {"floor": (floor, "/floor"), "dashboard, admin, 300,000 groups": (admin, "/console/"),
             "dashboard, admin, one region": (admin, f"/console/?region={REGION}"),
             "dashboard, coordinator (R5)": (coord, "/console/"), "group page": (admin, f"/console/groups/{GROUP}")}
    for client, link in pages.values():
        for _ in range(5):
            assert client.get(link).status_code == 200
    cpu: dict[str, list[float]] = {name: [] for name in pages}
    for rnd in range(rounds):
        order = list(pages) if rnd % 2 == 0 else list(reversed(pages))
        for _ in range(n):
            for name in order:
                client, link = pages[name]
                start = time.thread_time()
                client.get(link)
                cpu[name].append((time.thread_time() - start) * 1000)
    floor50 = statistics.median(cpu["floor"])
    lines = ["", f"In process, Python CPU per request ({rounds} x {n} requests per page, interleaved):", "",
             "| page | CPU p50 ms | CPU p95 ms | p50 / floor p50 |", "|---|---:|---:|---:|"]
    for name, values in cpu.items():
        med = statistics.median(values)
        lines.append(f"| {name} | {med:.2f} | {percentile(values, .95):.2f} | {med / floor50:.1f} |")
    services_of(kassa).close()
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--requests", type=int, default=60, help="requests per page per round")
    p.add_argument("--cpu-only", action="store_true", help="only the in-process CPU measurement")
    p.add_argument("--port", type=int, default=PORTS["kassa"],
                   help="Kassa's port; the floor's is the next one (two benches on one machine)")
    args = p.parse_args(argv)
    PORTS.update(kassa=args.port, floor=args.port + 1)
    url = dashboard_seed.sqlalchemy_url(dashboard_seed.base_url())
    dashboard_seed.create_tables()  # tables a later merge added
    ensure_staff(url)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4")
    env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "CONSOLE_SECURE_COOKIES": "0",
           "PIN_PEPPER": "bench-pepper", "SMS_SEGMENT_PRICES": "INR=0.25,VND=250"}
    if args.cpu_only:
        print(cpu_in_process(url, env, args.rounds, args.requests))
        return 0
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    with serve("app:create_app()", 1, env, port=PORTS["kassa"]) as kassa, \
            serve("bench.dashboard_floor:create_app()", 1, env, port=PORTS["floor"]) as floor:
        admin = login(kassa, *ADMIN)
        coord = login(kassa, *COORD)
        plain = requests.Session()
        pages = {
            "floor": (plain, f"{floor}/floor"),
            "dashboard, admin, 300,000 groups": (admin, f"{kassa}/console/"),
            "dashboard, admin, one region": (admin, f"{kassa}/console/?region={REGION}"),
            "dashboard, coordinator (R5)": (coord, f"{kassa}/console/"),
            "group page": (admin, f"{kassa}/console/groups/{GROUP}"),
        }
        for client, link in pages.values():  # warm up: connections, templates, catalogs
            for _ in range(5):
                r = client.get(link)
                assert r.status_code == 200, (link, r.status_code, r.text[:300])
        rounds: list[dict[str, list[float]]] = []
        for rnd in range(args.rounds):
            times: dict[str, list[float]] = {name: [] for name in pages}
            order = list(pages) if rnd % 2 == 0 else list(reversed(pages))
            for _ in range(args.requests):
                for name in order:
                    client, link = pages[name]
                    start = time.perf_counter()
                    r = client.get(link)
                    times[name].append((time.perf_counter() - start) * 1000)
                    assert r.status_code == 200
            rounds.append(times)
            print(f"round {rnd + 1}: " + ", ".join(f"{n} p95 {percentile(t, .95):.1f} ms" for n, t in times.items()),
                  flush=True)
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    print(report(rounds, args, load_before, load_after))
    print(cpu_in_process(url, env, args.rounds, args.requests))
    return 0


def report(rounds: list[dict[str, list[float]]], args: argparse.Namespace, load_before: list[str], load_after: list[str]) -> str:
    names = list(rounds[0])
    lines = [f"\n{dt.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}; gunicorn -w 1 (sync) for Kassa and for the floor; "
             f"{args.rounds} rounds x {args.requests} requests per page, interleaved request by request; "
             f"load average before {' '.join(load_before)}, after {' '.join(load_after)}.\n",
             "| round | page | p50 ms | p95 ms | p95 / floor p95 |", "|---:|---|---:|---:|---:|"]
    ratios: dict[str, list[float]] = {n: [] for n in names if n != "floor"}
    for i, times in enumerate(rounds, 1):
        floor95 = percentile(times["floor"], .95)
        for n in names:
            p95 = percentile(times[n], .95)
            ratio = p95 / floor95
            if n != "floor":
                ratios[n].append(ratio)
            lines.append(f"| {i} | {n} | {percentile(times[n], .5):.1f} | {p95:.1f} | {ratio:.2f} |")
    lines += ["", "| page | median of per-round p95 ratios | target |", "|---|---:|---|"]
    for n, values in ratios.items():
        med = statistics.median(values)
        lines.append(f"| {n} | {med:.2f} | {'met' if med <= 3 else 'missed'} (at most 3) |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
