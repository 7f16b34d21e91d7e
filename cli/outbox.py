"""``flask outbox list|show``: what Kassa sent, or will send, to whom.

For an operator or a newcomer; reads only. ``list`` filters by phone, group,
status and kind, newest first; ``show ID`` prints one message whole, as the
console backend printed it, with its status history fields.
"""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from cli import services
from groups.models import Group
from groups.phones import PhoneError, normalise_phone
from messaging.models import OutboxMessage, OutStatus
from providers import Outgoing
from providers.console.send import render_block

outbox = AppGroup("outbox", help="The SMS Kassa sent or will send: list and show.")

STATUSES = [s.value for s in OutStatus]


@outbox.command("list")
@click.option("--phone", default=None, help="Only messages to this phone (any format).")
@click.option("--group", "code", default=None, help="Only messages about this group (its code).")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--kind", default=None, help="reply, receipt, reminder, broadcast, notice, support ...")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def outbox_list(phone: str | None, code: str | None, status: str | None, kind: str | None, limit: int) -> None:
    """Messages, newest first: id, time, status, kind, phone, group, segments and the start of the text."""
    query = select(OutboxMessage, Group.code).outerjoin(Group, Group.id == OutboxMessage.group_id)
    if phone:
        try:
            query = query.where(OutboxMessage.to_phone == normalise_phone(phone))
        except PhoneError as exc:
            raise click.ClickException(str(exc)) from None
    if status:
        query = query.where(OutboxMessage.status == OutStatus(status))
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    with services().db.transaction() as session:
        if code:
            group_id = session.scalar(select(Group.id).where(Group.code == code.strip().upper()))
            if group_id is None:
                raise click.ClickException(f"no group {code!r}")
            query = query.where(OutboxMessage.group_id == group_id)
        rows = session.execute(query.order_by(OutboxMessage.id.desc()).limit(limit)).all()
        if not rows:
            click.echo("no messages")
            return
        click.echo(f"{'id':>6}  {'created':<16} {'status':<9} {'kind':<10} {'to':<15} {'group':<8} seg  text")
        for msg, group_code in rows:
            text = " ".join(msg.text.split())
            click.echo(f"{msg.id:>6}  {msg.created_at:%Y-%m-%d %H:%M} {msg.status.value:<9} {msg.kind:<10} "
                       f"{msg.to_phone:<15} {group_code or '-':<8} {msg.segments:>3}  "
                       f"{text[:48] + ('…' if len(text) > 48 else '')}")


@outbox.command("show")
@click.argument("outbox_id", type=int)
def outbox_show(outbox_id: int) -> None:
    """One message whole: the text as sent, then its status, provider, attempts and times."""
    with services().db.transaction() as session:
        msg = session.get(OutboxMessage, outbox_id)
        if msg is None:
            raise click.ClickException(f"no outbox message {outbox_id}")
        group_code = session.scalar(select(Group.code).where(Group.id == msg.group_id)) if msg.group_id else None
        click.echo(render_block(Outgoing(msg.id, msg.to_phone, msg.text, language=msg.language)))
        for label, value in [("status", msg.status.value), ("kind", msg.kind), ("group", group_code or "-"),
                             ("encoding", msg.encoding), ("provider", msg.provider or "-"),
                             ("provider id", msg.provider_id or "-"), ("attempts", msg.attempts),
                             ("last error", msg.last_error or "-"), ("created", msg.created_at),
                             ("sent", msg.sent_at or "-"), ("dedupe key", msg.dedupe_key or "-")]:
            click.echo(f"  {label:<12} {value}")


COMMANDS = [outbox]
