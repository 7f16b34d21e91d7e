"""``flask programmes trades|list``: load the trade list (data, not code); list programmes."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from cli import services
from programmes.models import Enrolment, Programme
from programmes.service import TRADES_CSV, load_trades

programmes = AppGroup("programmes", help="Programmes: trades, trainings, grants and businesses.")


@programmes.command("trades")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def trades(path: Path | None) -> None:
    """Load trades from a CSV (code,name[,name_<lang>...]) or JSON file; default: the 26 trades shipped."""
    with services().db.transaction() as session:
        added, updated = load_trades(session, path or TRADES_CSV)
    click.echo(f"trades: {added} added, {updated} updated")


@programmes.command("list")
def list_programmes() -> None:
    """Every programme with its number of beneficiaries."""
    with services().db.transaction() as session:
        counts = dict(session.execute(select(Enrolment.programme_id, func.count())
                                      .group_by(Enrolment.programme_id)).all())
        for p in session.scalars(select(Programme).order_by(Programme.code)):
            click.echo(f"{p.code:<12} {counts.get(p.id, 0):>8}  {p.name}")


COMMANDS = [programmes]
