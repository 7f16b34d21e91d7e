"""When Redis or the database is down or slow, the member gets END "service busy", never a 500.

The bounds that keep the answer within 3 seconds (Redis 0.5 s without retries,
PostgreSQL connect 2 s, statements 1 s) are measured in bench/ussd.py, not timed here.
"""
from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from db import make_engine
from tests.test_ussd import MEMBER
from tests.ussd_phone import Phone

if TYPE_CHECKING:
    from collections.abc import Iterator

    from flask.testing import FlaskClient

    from tests.fixture_types import DemoPeople, MakeApp

BUSY = "END Service busy, please try again in a few minutes."


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections (the kernel's backlog) and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


@pytest.mark.one_backend
def test_redis_that_does_not_answer(make_app: MakeApp, demo: DemoPeople, silent_port: int) -> None:
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{silent_port}/3")
    assert Phone(app.test_client(), MEMBER).dial() == BUSY


@pytest.mark.one_backend
def test_redis_that_refuses(make_app: MakeApp, demo: DemoPeople) -> None:
    app = make_app(REDIS_URL="redis://127.0.0.1:1/3")
    assert Phone(app.test_client(), MEMBER).dial() == BUSY


def test_database_that_does_not_answer(make_app: MakeApp, silent_port: int, db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("the silent server stands in for PostgreSQL; once is enough")
    app = make_app(DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}/kassa")
    assert Phone(app.test_client(), MEMBER).dial() == BUSY


def test_slow_database_gives_up_at_the_statement_timeout(
        client: FlaskClient, demo: DemoPeople, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("statement timeouts are PostgreSQL's")
    engine = make_engine(db_url)
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with engine.begin() as conn:
            conn.execute(text("LOCK TABLE members IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        locked.wait(5)
        assert Phone(client, MEMBER).dial() == BUSY
    finally:
        release.set()
        holder.join()
        engine.dispose()
    assert Phone(client, MEMBER).dial().startswith("CON ")  # and it recovers
