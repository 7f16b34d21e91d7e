"""``BC GROUPCODE|ALL MESSAGE``: a coordinator's broadcast by SMS, within her scope.

``GROUPCODE`` may be several codes separated by commas; ``ALL`` is every group
she serves. The reply gives the preview: how many people, how many SMS
segments and about what it costs. Idempotent on the inbound message id.
"""
from __future__ import annotations

from commands.context import CommandError, Context, Outcome
from commands.parser import Grammar, Parsed
from commands.registry import COORDINATOR, Command, pgettext, register
from i18n import N_
from outreach.broadcast import BroadcastError, price_from_config, start_broadcast


def run_bc(ctx: Context, parsed: Parsed) -> Outcome:
    """Start the broadcast (fan-out runs in the worker) and answer with its preview."""
    coordinator = ctx.sender.coordinator
    if coordinator is None:
        raise CommandError(ctx.t.gettext("Only a coordinator can send to groups."))
    try:
        view = start_broadcast(ctx.session, coordinator, parsed.word or "", parsed.text, key=f"bc:{ctx.key}",
                               price=price_from_config(ctx.config), now=ctx.now)
    except BroadcastError as exc:
        raise CommandError(exc.render(ctx.t)) from None
    # TRANSLATORS: reply to a coordinator's BC; {segments} is the number of SMS parts, {cost} an amount.
    return Outcome(ctx.t.ngettext(
        "Announcement B{ref} goes to {n} person: {segments} SMS, about {cost}.",
        "Announcement B{ref} goes to {n} people: {segments} SMS, about {cost}.",
        view.recipients, ref=view.broadcast_id, segments=view.segments,
        cost=ctx.t.money(view.cost, view.currency)))


register(Command(pgettext("sms keyword", "BC"), Grammar.WORD_TEXT, frozenset({COORDINATOR}), run_bc,
                 N_("BC GROUP|ALL message - send an announcement")))
