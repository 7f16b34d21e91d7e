"""``flask staff add|list``: console accounts from the terminal (admins manage the rest in the console)."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from cli import services
from console.accounts import AccountError, create_staff
from console.models import Staff
from groups.phones import PhoneError
from i18n import LANGUAGES

staff = AppGroup("staff", help="Console accounts for coordinators and admins.")


@staff.command("add")
@click.argument("phone")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "coordinator"]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 10 characters; prompted for when not given.")
@click.option("--language", type=click.Choice(sorted(LANGUAGES)), default="en", show_default=True)
@click.option("--region", "regions", multiple=True, help="A coordinator's region (repeatable).")
def staff_add(phone: str, name: str, role: str, password: str, language: str, regions: tuple[str, ...]) -> None:
    """Create a console account; a coordinator is linked to her coordinator record (made if missing)."""
    try:
        with services().db.transaction() as session:
            row = create_staff(session, phone=phone, name=name, role=role, password=password,
                               language=language, regions=list(regions))
            click.echo(f"created {row.role.value} {row.name} ({row.phone}); log in at /console/login")
    except (AccountError, PhoneError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@staff.command("list")
def staff_list() -> None:
    """List console accounts."""
    with services().db.transaction() as session:
        for row in session.scalars(select(Staff).order_by(Staff.role, Staff.phone)):
            state = "" if row.active else "  (switched off)"
            click.echo(f"{row.phone:<16} {row.role.value:<12} {row.language:<3} {row.name}{state}")


COMMANDS = [staff]
