"""Database wiring: the declarative base, engines and the one place that commits.

Domain code (ledger/, menus/, groups/ ...) receives a ``Session`` and may
``flush()``; only :meth:`Database.transaction` (used by request handlers, CLI
commands and jobs) commits.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Enum, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def value_enum(cls: type[enum.Enum], name: str) -> Enum:
    """An enum column stored as its members' values in a VARCHAR(16) (no native type), checked on write."""
    return Enum(cls, name=name, native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e], validate_strings=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's recipe:
    # take it over (autocommit at the driver, BEGIN emitted by us below).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


PG_CONNECT_TIMEOUT = 2  # seconds, libpq's minimum: a database that does not answer fails fast
STATEMENT_TIMEOUT_MS = 1000  # a USSD hop's statements (sessions marked BOUNDED)
BOUNDED = "kassa.bounded"  # session.info: this session serves a caller who waits (statement timeout applies)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout,
    PostgreSQL a connect timeout on every connection."""
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # IMMEDIATE takes the write lock up front: two writers queue (busy_timeout)
        # instead of deadlocking on a lock upgrade. Readers are not blocked (WAL).
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT, **kwargs.get("connect_args", {})}
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def on_commit(session: Session, fn: Callable[..., None], *args: Any) -> None:
    """Run ``fn(services, *args)`` after ``session``'s transaction commits (never before).

    Used to enqueue jobs for rows the transaction wrote. Runs only when the
    session is committed through :meth:`Database.transaction` (or
    :func:`run_after_commit`); a rollback drops the hooks.
    """
    session.info.setdefault("after_commit", []).append((fn, args))


def run_after_commit(session: Session, services: object) -> None:
    """Run (and clear) the hooks registered with :func:`on_commit`."""
    hooks = session.info.pop("after_commit", [])
    for fn, args in hooks:
        fn(services, *args)


def _statement_timeout(session: Session, _transaction: Any, connection: Any) -> None:
    """A session marked BOUNDED gives up on a slow statement after STATEMENT_TIMEOUT_MS.

    Set when its transaction begins (SET LOCAL), so a hop that needs no
    database costs nothing; CLI commands and jobs are not marked.
    """
    if session.info.get(BOUNDED):
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")


SESSION_DB = "kassa.db"  # session.info key: the Database a session came from


class Database:
    """An engine and its session factory. Create one per process."""

    def __init__(self, url: str, services: object = None, **engine_kwargs: Any) -> None:
        self.url = url
        # passed to on_commit hooks, opaque here (the bottom layer cannot name services.Services)
        self.services = services
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, info={SESSION_DB: self})
        if self.engine.dialect.name == "postgresql":
            event.listen(self.sessionmaker, "after_begin", _statement_timeout)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on error."""
        session = self.sessionmaker()
        try:
            yield session
            if session.in_transaction():  # a USSD hop that needed no database never began one
                session.commit()
        except BaseException:
            session.rollback()
            session.info.pop("after_commit", None)
            raise
        finally:
            session.close()
        run_after_commit(session, self.services)

    def dispose(self) -> None:
        self.engine.dispose()
