"""``flask broadcast send|status|resume|cancel``: a coordinator's announcement, previewed first.

``send`` shows the recipients, segments per message by language and
encoding, the estimated cost and what plain letters would save, asks to
confirm (unless ``--yes``), then fans out here with a progress bar (or in
the RQ worker with ``--background``). A fan-out that dies resumes from its
cursor: ``flask broadcast resume ID``, or the scheduler does it.
"""
from __future__ import annotations

import datetime as dt
import uuid

import click
from flask.cli import AppGroup
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli import find_coordinator, services
from i18n import LANGUAGES, translator
from jobs.outreach import fan_out_pause
from ledger.money import AmountError, parse_amount
from outreach import broadcast as bc
from outreach import fanout
from outreach.models import Broadcast, BroadcastStatus

broadcast = AppGroup("broadcast", help="Send an announcement to groups, a region or all, and follow it.")
UTC = dt.UTC


def _price(price: str | None, currency: str | None) -> bc.Price:
    cfg = services().config
    currency = (currency or cfg.SMS_PRICE_CURRENCY).upper()
    text = price if price is not None else cfg.SMS_SEGMENT_PRICE
    if text.strip() in ("0", "0.0", "0.00"):
        return bc.Price(0, currency)
    try:
        return bc.Price(parse_amount(text, currency), currency)
    except AmountError as exc:
        raise click.ClickException(f"price per segment {text!r}: {exc.reason}") from None




@broadcast.command("send")
@click.argument("message")
@click.option("--group", "codes", multiple=True, help="Group code (repeat for several).")
@click.option("--region", "regions", multiple=True, help="Every group of a region (repeatable).")
@click.option("--all", "everyone", is_flag=True, help="Every group (or every group of the coordinator).")
@click.option("--as", "as_phone", default=None, help="Send as this coordinator (limits to her groups).")
@click.option("--sender", default=None, help="Name shown before the message (default: her organisation).")
@click.option("--plain", is_flag=True, help="Plain letters for everyone (cheaper).")
@click.option("--key", default=None, help="Idempotency key: the same key never sends twice.")
@click.option("--price", default=None, help="Price of one SMS segment (default SMS_SEGMENT_PRICE).")
@click.option("--price-currency", default=None, help="Currency of the price (default SMS_PRICE_CURRENCY).")
@click.option("--yes", is_flag=True, help="Send without asking to confirm.")
@click.option("--background", is_flag=True, help="Fan out in the RQ worker instead of here.")
@click.option("--batch", default=fanout.FANOUT_BATCH, show_default=True, help="Groups per transaction.")
def send(message: str, codes: tuple[str, ...], regions: tuple[str, ...], everyone: bool, as_phone: str | None,
         sender: str | None, plain: bool, key: str | None, price: str | None, price_currency: str | None,
         yes: bool, background: bool, batch: int) -> None:
    """Preview MESSAGE to its recipients, confirm, and send it."""
    target = bc.Target(codes=tuple(c.upper() for c in codes), regions=tuple(regions), everyone=everyone)
    cost = _price(price, price_currency)
    db = services().db
    try:
        with db.transaction() as session:
            b = bc.create_broadcast(session, coordinator=find_coordinator(session, as_phone) if as_phone else None, target=target,
                                    message=message, key=key or uuid.uuid4().hex, sender=sender, plain=plain)
            view = bc.preview(session, b, cost)
            show_preview(b, view)
    except bc.BroadcastError as exc:
        raise click.ClickException(exc.render(translator("en"))) from None
    if b.status != BroadcastStatus.DRAFT:
        click.echo(f"broadcast {b.id} was already {b.status.value} (same --key); nothing new sent")
        return
    if view.recipients == 0:
        raise click.ClickException("nobody to send to: no active member who has not sent STOP")
    if not yes and not click.confirm(f"Send to {view.recipients} people?", default=False):
        with db.transaction() as session:
            bc.cancel(session, session.get_one(Broadcast, b.id))
        click.echo(f"broadcast {b.id} cancelled; nothing sent")
        return
    with db.transaction() as session:
        bc.confirm(session, session.get_one(Broadcast, b.id), dt.datetime.now(UTC), enqueue=background)
    if background:
        click.echo(f"broadcast {b.id} queued; follow it with: flask broadcast status {b.id}")
        return
    _fan_out_with_progress(b.id, view.recipients, batch)


@broadcast.command("resume")
@click.argument("broadcast_id", type=int)
@click.option("--batch", default=fanout.FANOUT_BATCH, show_default=True)
def resume(broadcast_id: int, batch: int) -> None:
    """Continue a broadcast's fan-out from where it stopped (no duplicate, no gap)."""
    with services().db.transaction() as session:
        b = session.get(Broadcast, broadcast_id)
        if b is None:
            raise click.ClickException(f"no broadcast {broadcast_id}")
        total, status = b.recipients, b.status
    if status != BroadcastStatus.SENDING:
        raise click.ClickException(f"broadcast {broadcast_id} is {status.value}, not sending")
    _fan_out_with_progress(broadcast_id, total, batch)


@broadcast.command("status")
@click.argument("broadcast_id", type=int)
def status(broadcast_id: int) -> None:
    """Where a broadcast stands: rows written and delivery so far."""
    with services().db.transaction() as session:
        report = bc.broadcast_status(session, broadcast_id)
    if report is None:
        raise click.ClickException(f"no broadcast {broadcast_id}")
    click.echo(f"broadcast {report.id}: {report.status}  from {report.sender!r}")
    click.echo(f"  message: {report.message}")
    click.echo(f"  recipients (at preview): {report.recipients}  written to outbox: {report.written}")
    for name in ("pending", "sent", "delivered", "failed", "rejected"):
        if report.by_status.get(name):
            click.echo(f"  {name}: {report.by_status[name]}")
    if report.finished_at:
        click.echo(f"  fan-out finished {report.finished_at:%Y-%m-%d %H:%M}")


@broadcast.command("cancel")
@click.argument("broadcast_id", type=int)
def cancel(broadcast_id: int) -> None:
    """Stop a broadcast; messages already written to the outbox still go."""
    with services().db.transaction() as session:
        b = session.get(Broadcast, broadcast_id)
        if b is None or not bc.cancel(session, b):
            raise click.ClickException(f"broadcast {broadcast_id} cannot be cancelled")
    click.echo(f"broadcast {broadcast_id} cancelled")


def show_preview(b: Broadcast, view: bc.Preview) -> None:
    """The preview table: one line per language and letter style, then totals and a sample."""
    console = Console()
    table = Table(title=f"Broadcast {b.id} from {b.sender}")
    for col in ("language", "letters", "encoding", "segments", "recipients", f"cost ({view.currency})"):
        table.add_column(col, justify="right" if col not in ("language", "letters", "encoding") else "left")
    money = translator("en").money
    for line in view.lines:
        table.add_row(LANGUAGES.get(line.language, line.language), "plain" if line.plain else "full",
                      line.encoding.upper(), str(line.segments), str(line.recipients),
                      money(line.cost, view.currency))
    table.add_section()
    table.add_row("total", "", "", str(view.segments), str(view.recipients), money(view.cost, view.currency))
    console.print(table)
    if view.saving > 0:
        console.print(f"With plain letters (--plain) it would cost {money(view.plain_cost, view.currency)}: "
                      f"{money(view.saving, view.currency)} less.")
    samples: dict[str, list[str]] = {}  # each distinct text once, with the languages that get it
    for line in view.lines:
        text = next(t.text for t in b.texts if (t.language, t.plain) == (line.language, line.plain))
        samples.setdefault(text, []).append(line.language + ("/plain" if line.plain else ""))
    for text, langs in samples.items():
        console.print(f"[dim]{', '.join(langs)}:[/dim] {text}", markup=True, highlight=False)


def _fan_out_with_progress(broadcast_id: int, total: int, batch: int) -> None:
    with Progress(TextColumn("broadcast {task.fields[id]}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn()) as bar:
        task = bar.add_task("fan-out", total=total or None, id=broadcast_id)
        summary = fanout.run_fan_out(services(), broadcast_id, batch=batch, pause=fan_out_pause(),
                                 progress=lambda step: bar.advance(task, step.written))
        bar.update(task, total=max(total, summary.written), completed=summary.written)
    click.echo(f"broadcast {broadcast_id}: {summary.written} messages written to the outbox")


COMMANDS = [broadcast]
