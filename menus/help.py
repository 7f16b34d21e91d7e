"""Ask for help: business advice, legal aid, psychological support or other.

The request is stored for the group's coordinator(s); she gets its reference by SMS.
"""
from __future__ import annotations

from typing import Any

from i18n import N_
from menus.engine import Choice, Ctx, End, Go, Move, Say, Screen
from support.models import Category
from support.service import CATEGORY_LABELS, open_request


def _categories(ctx: Ctx) -> list[Choice]:
    return [Choice(ctx.t.gettext(label), cat.value) for cat, label in CATEGORY_LABELS.items()]


def _pick(ctx: Ctx, value: Any) -> Move:
    ctx.data["help"] = value
    return Go("help_confirm")


def _confirm_body(ctx: Ctx) -> list[str]:
    service = ctx.t.gettext(CATEGORY_LABELS[Category(ctx.data["help"])])
    # TRANSLATORS: USSD confirmation; {service} is e.g. "Legal aid".
    return [ctx.t.gettext("{service}: a coordinator will call you. Send the request?", service=service)]


def _send(ctx: Ctx, _value: Any) -> Move:
    opened = open_request(ctx.db, ctx.group, ctx.member, Category(ctx.data["help"]), key=ctx.key("help"))
    return End(Say(N_("Request {ref} is sent. A coordinator will call you. We sent you an SMS."),
                   {"ref": opened.request.ref}))


SCREENS = [
    Screen("help", body=lambda ctx: [ctx.t.gettext("What help do you need?")],
           choices=_categories, chosen=_pick),
    Screen("help_confirm", body=_confirm_body,
           choices=lambda ctx: [Choice(ctx.t.gettext("Yes, send it"), True)], chosen=_send,
           resumable=False),
]
