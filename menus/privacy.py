"""A group may ask the PIN before a member's balances are shown (``Group.pin_for_balance``):
a phone is often shared. Once the PIN is right, the rest of that session shows them."""
from __future__ import annotations

from i18n import N_
from menus.engine import Ctx, Go, Move, Say, Screen
from menus.pin import needs_pin, with_pin


def balance_guard(ctx: Ctx) -> Move | None:
    """Guard of My savings, My loan and Mini-statement."""
    who = ctx.state.who
    if who is None or not who.pin_for_balance or ctx.state.unlocked:
        return None
    blocked = needs_pin(ctx)
    if blocked is not None:
        return blocked
    ctx.data["after_balance"] = ctx.state.screen
    return Go("balance_pin")


def _unlocked(ctx: Ctx) -> Move:
    ctx.state.unlocked = True
    return Go(ctx.data.pop("after_balance", "savings"), push=False)


SCREENS = [
    Screen("balance_pin", body=lambda ctx: [ctx.t.gettext("Your group asks for your PIN before balances. "
                                                          "Enter your PIN.")],
           pin=with_pin(_unlocked), resumable=False),
]

PIN_FIRST = N_("Your group asks for your PIN before balances: dial {code} and choose My savings.")
__all__ = ["SCREENS", "balance_guard", "PIN_FIRST", "Say"]
