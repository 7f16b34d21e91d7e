"""PIN screens: choosing one (twice), and asking for it before a money action.

The PIN typed is used within the hop and forgotten: the session keeps only
where in ``text`` the first entry sits, so the second entry can be compared
with it on the next hop (Africa's Talking resends the whole ``text``).
"""
from __future__ import annotations

from collections.abc import Callable

from i18n import N_
from menus.engine import HOME, Again, Ctx, End, Go, Move, Say, Screen
from security.pins import MAX_TRIES, PinError, check_new_pin, set_pin, verify_pin

PIN_REFUSALS = {
    "format": N_("A PIN is 4 digits."),
    "weak": N_("That PIN is too easy to guess. Choose another."),
}
LOCKED = N_("Your PIN is locked after 3 wrong tries. Ask your chair or coordinator to reset it.")


def needs_pin(ctx: Ctx) -> Move | None:
    """Guard for money screens: a locked PIN ends; no PIN yet means choosing one first."""
    if ctx.member.pin_locked:
        return End(Say(LOCKED))
    if not ctx.member.pin_hash:
        ctx.data["after_pin"] = ctx.state.screen
        return Go("pin_new", Say(N_("First choose a PIN to protect your money.")))
    return None


def with_pin(action: Callable[[Ctx], Move]) -> Callable[[Ctx, str], Move]:
    """A PIN handler: run ``action`` when the PIN is right; count and lock when wrong."""

    def handle(ctx: Ctx, raw: str) -> Move:
        check = verify_pin(ctx.db, ctx.member, raw, ctx.deps.pepper)
        if check.ok:
            return action(ctx)
        if check.locked:
            return End(Say(LOCKED))
        return Again(Say(N_("Wrong PIN. Tries left: {tries}."), {"tries": str(check.tries_left)}))

    return handle


def _chosen(ctx: Ctx, raw: str) -> Move:
    try:
        check_new_pin(raw)
    except PinError as refused:
        return Again(Say(PIN_REFUSALS[refused.reason]))
    ctx.data["pin_span"] = list(ctx.span)
    return Go("pin_again", push=False)


def _confirmed(ctx: Ctx, raw: str) -> Move:
    start, end = ctx.data.pop("pin_span", [0, 0])
    if raw != ctx.hop.text[start:end]:
        return Go("pin_new", Say(N_("The two PINs were different. Choose again.")), push=False)
    set_pin(ctx.db, ctx.member, raw, ctx.deps.pepper)
    return Go(ctx.data.pop("after_pin", HOME), Say(N_("PIN saved.")), push=False)


def _old_pin_ok(ctx: Ctx) -> Move:
    ctx.data["after_pin"] = HOME
    return Go("pin_new", push=False)


SCREENS = [
    Screen("pin_new", body=lambda ctx: [ctx.t.gettext("Choose a new 4-digit PIN.")],
           pin=_chosen, resumable=False),
    Screen("pin_again", body=lambda ctx: [ctx.t.gettext("Enter the same PIN again.")],
           pin=_confirmed, resumable=False),
    Screen("pin_old", body=lambda ctx: [ctx.t.gettext("Enter your current PIN.")],
           pin=with_pin(_old_pin_ok), guard=needs_pin, resumable=False),
]

__all__ = ["SCREENS", "needs_pin", "with_pin", "LOCKED", "MAX_TRIES"]
