"""``flask ledger summary|audit|statement|trial``: read a group's books from a terminal.

For coordinators and operators; reads only (each command's transaction writes nothing).
"""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

import ledger
from cli import services
from groups.models import Group
from groups.phones import PhoneError, normalise_phone
from groups.service import SetupError, find_member, get_group
from i18n import translator

group_cli = AppGroup("ledger", help="Read a group's books: summary, statement, trial balance, audit.")


def _group(session: Session, code: str) -> Group:
    try:
        return get_group(session, code)
    except SetupError as err:
        raise click.ClickException(str(err)) from None


def _share_out(group: Group) -> str:
    if group.share_out_on is None:
        return "not set"
    days = (group.share_out_on - ledger.group_today(group)).days
    return f"{group.share_out_on:%Y-%m-%d} ({'in ' + str(days) + ' days' if days >= 0 else str(-days) + ' days ago'})"


def _percent(bp: int) -> str:
    return f"{bp // 100}.{bp % 100:02d}%"


@group_cli.command("summary")
@click.argument("code")
def summary(code: str) -> None:
    """Cash box, savings, social fund, income, loans out, PAR30 and repayment rate of group CODE."""
    with services().db.transaction() as session:
        group = _group(session, code)
        s = ledger.group_summary(session, group)
        t = translator(group.language)

        def money(minor: int) -> str:
            return t.money(minor, group.currency)

        click.echo(f"{group.code} {group.name} (cycle {s.cycle}, {s.members} members)")
        for label, value in [("cash box", money(s.cash_box)), ("bank or wallet", money(s.bank)),
                             ("savings", money(s.savings)), ("social fund", money(s.social_fund)),
                             ("service charges earned", money(s.service_charges)),
                             ("fines earned", money(s.fines)),
                             ("loans outstanding", f"{money(s.loans_outstanding)} in {s.active_loans} loans, "
                                                   f"{s.overdue_loans} overdue"),
                             ("PAR30", _percent(s.par30_bp)), ("repayment rate", _percent(s.repayment_rate_bp)),
                             ("share-out due", _share_out(group))]:
            click.echo(f"  {label:<24} {value}")


@group_cli.command("statement")
@click.argument("code")
@click.argument("phone")
@click.option("--limit", default=10, show_default=True)
def statement(code: str, phone: str, limit: int) -> None:
    """A member's position and last postings in group CODE."""
    with services().db.transaction() as session:
        group = _group(session, code)
        try:
            member = find_member(session, normalise_phone(phone, group.country))
        except PhoneError as err:
            raise click.ClickException(str(err)) from None
        if member is None:
            raise click.ClickException(f"no member with phone {phone}")
        t = translator(group.language)
        pos = ledger.member_position(session, group, member)
        click.echo(f"{member.name}: savings {t.money(pos.savings, group.currency)}, "
                   f"loan {t.money(pos.loan_outstanding, group.currency)}, "
                   f"{pos.days_past_due} days past due")
        for e in ledger.mini_statement(session, group, member, limit):
            mark = " (corrected)" if e.reversed else ""
            click.echo(f"  {e.on} {e.ref:<8} {t.gettext(ledger.KIND_LABELS[e.kind]):<20} "
                       f"{t.money(e.amount, group.currency)}{mark}")


@group_cli.command("trial")
@click.argument("code")
def trial(code: str) -> None:
    """The trial balance of group CODE (signed minor units, debit +; sums to zero)."""
    with services().db.transaction() as session:
        lines = ledger.trial_balance(session, _group(session, code))
        for line in lines:
            click.echo(f"  {line.account:<16} {line.balance:>14}")
        click.echo(f"  {'total':<16} {sum(line.balance for line in lines):>14}")


@group_cli.command("audit")
@click.argument("code")
def audit(code: str) -> None:
    """Check group CODE's books: every transaction balances, every cached balance equals its legs."""
    with services().db.transaction() as session:
        problems = ledger.audit(session, _group(session, code))
    for problem in problems:
        click.echo(problem)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s)")
    click.echo("books are sound")


COMMANDS = [group_cli]
