"""``flask reminders preview GROUP``: what each member would get for the group's next meeting.

The planner renders the texts (:func:`outreach.planner.preview`): the same words,
letter style and loan instalments its batch would write. Nothing is written or sent.
"""
from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from cli import services
from groups.service import SetupError, get_group
from outreach.planner import preview
from providers import Outgoing
from providers.console.send import render_block

reminders = AppGroup("reminders", help="Meeting reminders: see what each member would get.")


@reminders.command("preview")
@click.argument("code")
@click.option("--at", "at", default=None, help="Pretend it is this UTC time (ISO, e.g. 2026-12-01T09:00).")
def reminders_preview(code: str, at: str | None) -> None:
    """Print, for each member of group CODE, the reminder SMS for its next meeting."""
    now = dt.datetime.now(dt.UTC)
    if at:
        try:
            now = dt.datetime.fromisoformat(at)
        except ValueError:
            raise click.ClickException(f"--at {at!r} is not an ISO date and time") from None
        now = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    with services().db.transaction() as session:
        try:
            group = get_group(session, code)
        except SetupError as err:
            raise click.ClickException(str(err)) from None
        shown = preview(session, group.id, now)
        name, tz = group.name, group.timezone
    when = "now (its hour has passed)" if shown.remind_at <= now else f"{shown.remind_at:%Y-%m-%d %H:%M} UTC"
    moved = ""
    if shown.moved_to:
        moved = f" moved to {shown.moved_to[0]:%A %Y-%m-%d} at {shown.moved_to[1]:%H:%M}"
    click.echo(f"{code.upper()} {name}: meeting on {shown.meeting_on:%A %Y-%m-%d}{moved} ({tz}); "
               f"the reminder goes {when}; {len(shown.lines)} members")
    for line in shown.lines:
        owes = " (owes an instalment)" if line.loan else ""
        click.echo(f"\n{line.name}{owes}")
        click.echo(render_block(Outgoing(0, line.phone, line.text, language=line.language)))


COMMANDS = [reminders]
