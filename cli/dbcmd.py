"""``flask db upgrade|downgrade|check`` (Flask-Migrate's names, Alembic underneath)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

import migrations
from cli import services

db = AppGroup("db", help="Database migrations (Alembic).")


@db.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Bring the database to REVISION (default: the latest migration)."""
    migrations.upgrade(services().config.DATABASE_URL, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Step the database back to REVISION."""
    migrations.downgrade(services().config.DATABASE_URL, revision)


@db.command("check")
def check() -> None:
    """Fail when the models have changes no migration holds."""
    diff = migrations.pending_model_changes(services().config.DATABASE_URL)
    if diff:
        for change in diff:
            click.echo(f"not in a migration: {change}", err=True)
        raise SystemExit(1)
    click.echo("migrations are current")
COMMANDS = [db]
