"""Leaders' screens that need no ledger: the chair resets a member's locked PIN."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from groups.letters import letters_for
from groups.models import Member, Membership, Status
from i18n import N_, translator
from menus.engine import Ctx, End, Go, Invalid, Move, Say, Screen
from menus.home import is_chair
from menus.pin import needs_pin, with_pin
from messaging.models import Priority
from messaging.outbox import queue_sms
from security.pins import reset_pin


def chair_only(ctx: Ctx) -> Move | None:
    """Guard: only the group's chair; then her own PIN must be usable."""
    if not is_chair(ctx):
        return End(Say(N_("Only the chair can do this.")))
    return needs_pin(ctx)


def _member_number(ctx: Ctx, raw: str) -> int:
    if not raw.isdigit() or len(raw) > 6:
        raise Invalid(N_("Type the member's number in the group, e.g. 7."))
    found = ctx.db.scalar(select(Membership).where(
        Membership.group_id == ctx.group.id, Membership.number == int(raw),
        Membership.status == Status.ACTIVE))
    if found is None:
        raise Invalid(N_("No member number {number} in your group."), number=raw)
    if found.member_id == ctx.member.id:
        raise Invalid(N_("You cannot reset your own PIN. Ask your coordinator."))
    return found.member_id


def _reset_body(ctx: Ctx) -> list[str]:
    who = ctx.db.get(Member, ctx.data["reset_member"])
    name = who.name if who else "?"
    return [ctx.t.gettext("{name}: reset the PIN? Enter your own PIN to confirm.", name=name)]


def _reset(ctx: Ctx) -> Move:
    who = ctx.db.get(Member, ctx.data["reset_member"])
    assert who is not None
    reset_pin(ctx.db, who)
    t = translator(who.language)
    queue_sms(ctx.db, to=who.phone, language=t.lang, kind="pin_reset", priority=Priority.NOTICE,
              letters=letters_for(who, ctx.group), member_id=who.id, group_id=ctx.group.id,
              text=t.gettext("Kassa: your PIN was reset by {chair}. Dial {code} to choose a new one.",
                             chair=ctx.member.name, code=ctx.deps.service_code))
    return End(Say(N_("{name}: the PIN is reset."),
                   {"name": who.name}))


def _ask(ctx: Ctx, _: Any = None) -> Move:
    return Go("chair_reset_pin")


SCREENS = [
    Screen("chair_reset", body=lambda ctx: [ctx.t.gettext("Member number whose PIN to reset:")],
           validate=_member_number, save_as="reset_member", then=_ask, guard=chair_only),
    Screen("chair_reset_pin", body=_reset_body, pin=with_pin(_reset), resumable=False),
]
