"""Alembic environment: the URL comes from the caller (see migrations/__init__.py)."""
from alembic import context
from sqlalchemy import Connection, pool

from db import make_engine
from dbschema import metadata

config = context.config


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("migrations need sqlalchemy.url (see migrations/__init__.py)")
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            _run_sqlite(conn)
        else:
            _run(conn)
    engine.dispose()


def _run_sqlite(conn: Connection) -> None:
    """SQLite changes a column or a constraint by copying the table, dropping it and renaming the
    copy; with foreign keys on, dropping a table others point at fails (or, worse, fires their
    ON DELETE actions). SQLite's own recipe: foreign keys off around the migration (the pragma
    is a no-op inside a transaction, so it is set before Alembic's begins), then every
    reference checked before they are on again."""
    raw = conn.connection.dbapi_connection
    if raw is None:
        raise RuntimeError("the SQLite connection is closed")
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        _run(conn)
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
    if broken:
        raise RuntimeError(f"the migration left broken references: {broken[:5]}")


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
