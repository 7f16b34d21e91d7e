"""Alembic, driven from code (``flask db ...`` and the tests), no alembic.ini needed."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def recreate(url: str) -> None:
    """Empty the database at ``url`` and migrate it to the latest revision.

    PostgreSQL: its ``public`` schema is dropped and made anew. For tests and
    benchmarks only: it destroys every row.
    """
    if url.startswith("postgresql"):
        from sqlalchemy import text

        from db import make_engine

        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def pending_model_changes(url: str) -> list[Any]:
    """Differences between the models and the migrated database (empty when current)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from db import make_engine
    from dbschema import metadata

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff: list[Any] = compare_metadata(ctx, metadata)
            return diff
    finally:
        engine.dispose()
