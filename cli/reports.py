"""``flask reports rebuild|check``: the dashboard's aggregates, recomputed from the ledger."""
from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup
from sqlalchemy import select

from cli import services

group_cli = AppGroup("reports", help="The console dashboard's aggregates.")


@group_cli.command("rebuild")
def rebuild_cmd() -> None:
    """Recompute every group's figures, weekly history and SMS counts from the records."""
    from reports.rebuild import rebuild

    with services().db.transaction() as session:
        n = rebuild(session, dt.datetime.now(dt.UTC),
                    progress=lambda done: click.echo(f"  {done} groups", err=True) if done % 20000 == 0 else None)
    click.echo(f"rebuilt the figures of {n} groups")


@group_cli.command("check")
def check_cmd() -> None:
    """Compare the kept figures with figures recomputed now (writes nothing); fail on a difference."""
    from ledger.figures import Figures, group_figures
    from reports.maintain import T_GROUPS
    from reports.models import FIGURES

    problems = 0
    with services().db.transaction() as session:
        kept = {r.group_id: r for r in session.execute(select(T_GROUPS))}
        fresh = group_figures(session, list(kept), dt.datetime.now(dt.UTC))
        for gid, (_, day, fig) in sorted(fresh.items()):
            row = kept[gid]
            was = Figures(*(getattr(row, c) for c in FIGURES))
            if was != fig and row.as_of == day:
                problems += 1
                diff = {c: (getattr(was, c), getattr(fig, c)) for c in FIGURES if getattr(was, c) != getattr(fig, c)}
                click.echo(f"group {gid}: kept/now {diff}")
        session.rollback()
    if problems:
        raise click.ClickException(f"{problems} group(s) differ: run `flask reports rebuild`")
    click.echo(f"{len(kept)} groups agree")


COMMANDS = [group_cli]
