"""``BC GROUPCODE|ALL MESSAGE`` then ``YES``: a coordinator's broadcast by SMS, within her scope.

``GROUPCODE`` may be several codes separated by commas; ``ALL`` is every group
she serves. ``BC`` answers with the preview (how many people, how many SMS
segments, about what it costs, in each group currency) and nothing goes out
until she answers ``YES`` within ten minutes. Idempotent on the inbound
message id: a provider's redelivered ``BC`` makes one draft, a redelivered
``YES`` starts it once.
"""
from __future__ import annotations

from commands.context import CommandError, Context, Outcome
from commands.parser import Grammar, Parsed
from commands.registry import COORDINATOR, Command, pgettext, register
from groups.models import Coordinator
from i18n import N_
from outreach.broadcast import BroadcastError, Preview, confirm_waiting, draft_by_sms, prices_from_config


def _coordinator(ctx: Context) -> Coordinator:
    coordinator = ctx.sender.coordinator
    if coordinator is None:
        raise CommandError(ctx.t.gettext("Only a coordinator can send to groups."))
    return coordinator


def cost_text(ctx: Context, view: Preview) -> str:
    """``320 KES + 50 INR``: the cost in each group currency (a currency without a price is left out)."""
    parts = [ctx.t.money(c.cost, c.currency) for c in view.costs if c.priced]
    return " + ".join(parts) if parts else ctx.t.money(0, "KES")


def run_bc(ctx: Context, parsed: Parsed) -> Outcome:
    """Make the draft and answer with its preview and the question."""
    coordinator = _coordinator(ctx)
    try:
        view = draft_by_sms(ctx.session, coordinator, parsed.word or "", parsed.text, key=f"bc:{ctx.key}",
                            price=prices_from_config(ctx.config), now=ctx.now)
    except BroadcastError as exc:
        raise CommandError(exc.render(ctx.t)) from None
    # TRANSLATORS: reply to a coordinator's BC; {segments} is the number of SMS parts, {cost} an amount
    # (or several joined by +). YES is the SMS keyword that confirms it.
    return Outcome(ctx.t.ngettext(
        "Announcement B{ref} would go to {n} person: {segments} SMS, about {cost}. "
        "Reply YES within 10 minutes to send it.",
        "Announcement B{ref} would go to {n} people: {segments} SMS, about {cost}. "
        "Reply YES within 10 minutes to send it.",
        view.recipients, ref=view.broadcast_id, segments=view.segments, cost=cost_text(ctx, view)))


def run_yes(ctx: Context, parsed: Parsed) -> Outcome:
    """Start the announcement waiting for her YES."""
    found = confirm_waiting(ctx.session, _coordinator(ctx), ctx.now)
    if found.broadcast is None:
        raise CommandError(ctx.t.gettext("No announcement is waiting for YES. Send BC first."))
    if found.expired:  # an answer, not a refusal: the stale draft stays cancelled
        return Outcome(ctx.t.gettext(
            "Announcement B{ref} waited more than 10 minutes and was not sent. Send BC again.",
            ref=found.broadcast.id))
    return Outcome(ctx.t.ngettext("Announcement B{ref} is being sent to {n} person.",
                                  "Announcement B{ref} is being sent to {n} people.",
                                  found.broadcast.recipients, ref=found.broadcast.id))


register(Command(pgettext("sms keyword", "BC"), Grammar.WORD_TEXT, frozenset({COORDINATOR}), run_bc,
                 N_("BC GROUP|ALL message - prepare an announcement (then YES)")))
register(Command(pgettext("sms keyword", "YES"), Grammar.NONE, frozenset({COORDINATOR}), run_yes,
                 N_("YES - send the announcement you prepared with BC")))
