"""``flask support list|close``: coordinators follow members' requests for help."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from cli import find_coordinator, services
from console.casework import close
from groups.service import coordinators_of
from support.models import Outcome, RequestStatus, SupportRequest

support = AppGroup("support", help="Members' requests for help (business, legal, psychological, other).")


@support.command("list")
@click.option("--coordinator", "phone", default=None, help="Only the groups this coordinator follows.")
@click.option("--all", "show_all", is_flag=True, help="Closed requests too.")
def support_list(phone: str | None, show_all: bool) -> None:
    """Open requests, oldest first: reference, date, category, member, phone, group."""
    with services().db.transaction() as session:
        coordinator = find_coordinator(session, phone) if phone else None
        query = select(SupportRequest).order_by(SupportRequest.id)
        if not show_all:
            query = query.where(SupportRequest.status != RequestStatus.CLOSED)
        for req in session.scalars(query):
            if coordinator is not None and (req.group is None or coordinator not in coordinators_of(session, req.group)):
                continue
            click.echo(f"{req.ref:<6} {req.created_at:%Y-%m-%d} {req.status.value:<11} {req.category.value:<13} "
                       f"{req.member.name} {req.member.phone or '-'}  {req.group.code if req.group else '-'}")


@support.command("close")
@click.argument("ref")
@click.option("--outcome", type=click.Choice([o.value for o in Outcome]), default=Outcome.RESOLVED.value,
              show_default=True, help="How it ended.")
def support_close(ref: str, outcome: str) -> None:
    """Mark request REF as dealt with (the person is told by SMS, as from the console's desk)."""
    with services().db.transaction() as session:
        req = session.scalar(select(SupportRequest).where(SupportRequest.ref == ref.strip().upper()))
        if req is None:
            raise click.ClickException(f"no support request {ref!r}")
        close(session, req, Outcome(outcome))
    click.echo(f"closed {req.ref}")




COMMANDS = [support]
