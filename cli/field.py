"""``flask field ...``: field workers (add, promote, assign groups, list) and the groups nobody visits."""
from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from cli import services
from field.errors import FieldError
from field.visits import unvisited
from field.workers import ROLE_LABELS, add_worker, assign, groups_of, promote
from groups.models import Group, Member
from groups.phones import try_normalise
from i18n import translator
from orgs.models import FieldWorker

field = AppGroup("field", help="Field staff: mobilisers, promoters, trainers, coaches, community resource persons.")
ROLES = click.Choice(sorted(ROLE_LABELS))


def _fail(exc: FieldError) -> click.ClickException:
    return click.ClickException(exc.render(translator("en")))


def _groups(session: Session, codes: str) -> list[int]:
    ids = []
    for code in [c.strip().upper() for c in (codes or "").split(",") if c.strip()]:
        gid = session.scalar(select(Group.id).where(Group.code == code))
        if gid is None:
            raise click.ClickException(f"no group with code {code}")
        ids.append(gid)
    return ids


@field.command("add")
@click.argument("phone")
@click.argument("name", required=False, default="")
@click.option("--role", type=ROLES, required=True)
@click.option("--language", default="en")
@click.option("--groups", "codes", default="", help="Group codes, separated by commas.")
@click.option("--member", is_flag=True, help="PHONE is a group member's: promote her (her name and language).")
def add(phone: str, name: str, role: str, language: str, codes: str, member: bool) -> None:
    """Add a field worker (or promote a member with --member) and assign her groups."""
    try:
        with services().db.transaction() as session:
            if member:
                found = session.scalar(select(Member).where(Member.phone == (try_normalise(phone) or "")))
                if found is None:
                    raise click.ClickException(f"no member with phone {phone}")
                worker = promote(session, found, role)
            else:
                worker = add_worker(session, phone=phone, name=name, role=role, language=language)
            kept = assign(session, worker, _groups(session, codes)) if codes else []
            click.echo(f"field worker {worker.id}: {worker.name} ({worker.phone}), {role}, {len(kept)} groups")
    except FieldError as exc:
        raise _fail(exc) from None


@field.command("assign")
@click.argument("phone")
@click.argument("codes")
def assign_groups(phone: str, codes: str) -> None:
    """Set a field worker's groups to CODES (separated by commas)."""
    with services().db.transaction() as session:
        worker = session.scalar(select(FieldWorker).where(FieldWorker.phone == (try_normalise(phone) or "")))
        if worker is None:
            raise click.ClickException(f"no field worker with phone {phone}")
        kept = assign(session, worker, _groups(session, codes))
        click.echo(f"{worker.name}: {len(kept)} groups")


@field.command("list")
def list_workers() -> None:
    """Field workers and their groups."""
    with services().db.transaction() as session:
        for w in session.scalars(select(FieldWorker).order_by(FieldWorker.name)):
            codes = ",".join(g.code for g in groups_of(session, w))
            click.echo(f"{w.phone:<16} {w.role.value:<10} {w.name:<24} {codes}")


@field.command("unvisited")
def list_unvisited() -> None:
    """Groups nobody has visited in VISIT_ALERT_WEEKS weeks."""
    weeks = services().config.VISIT_ALERT_WEEKS
    with services().db.transaction() as session:
        for u in unvisited(session, dt.datetime.now(dt.UTC).date(), weeks):
            click.echo(f"{u.group.code:<10} {u.last.isoformat() if u.last else 'never'}")


COMMANDS = [field]
