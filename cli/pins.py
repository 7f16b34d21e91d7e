"""``flask members reset-pin PHONE``: a coordinator unlocks a member's PIN."""
from __future__ import annotations

import click

from cli import services
from cli.groups import members
from groups.letters import member_letters
from groups.phones import PhoneError, normalise_phone
from groups.service import find_member
from i18n import translator
from messaging.models import Priority
from messaging.outbox import queue_sms
from security.pins import reset_pin


@members.command("reset-pin")
@click.argument("phone")
@click.option("--country", default=None, help="ISO 3166 alpha-2 for a local number, e.g. KE.")
def members_reset_pin(phone: str, country: str | None) -> None:
    """Forget PHONE's PIN (and its lock); she chooses a new one when she next dials."""
    try:
        e164 = normalise_phone(phone, country)
    except PhoneError as exc:
        raise click.ClickException(str(exc)) from None
    code = services().config.USSD_SERVICE_CODE
    with services().db.transaction() as session:
        member = find_member(session, e164)
        if member is None:
            raise click.ClickException(f"no member with phone {e164}")
        reset_pin(session, member)
        t = translator(member.language)
        queue_sms(session, to=member.phone, language=t.lang, kind="pin_reset", priority=Priority.NOTICE,
                  letters=member_letters(session, member), member_id=member.id, text=t.gettext(
                      "Kassa: your PIN was reset by {chair}. Dial {code} to choose a new one.",
                      chair=t.gettext("your coordinator"), code=code))
    click.echo(f"PIN of {member.name} ({e164}) reset; she chooses a new one when she dials {code}.")


COMMANDS: list[click.Command] = []  # reset-pin joins the existing ``members`` group
