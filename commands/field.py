"""Field staff and referrals by SMS.

``VISIT KAS1 met the chair, books fine``: a field worker logs a visit to one of her
groups (idempotent on the inbound message id; refused for a group not hers).
``APPROVE F12`` / ``DECLINE F12 [reason]``: the chair or a coordinator confirms or
declines a member's referral to an outside lender (``field.referrals``); the loan
commands keep every other reference (``L17``).
"""
from __future__ import annotations

from dataclasses import replace

from commands import loans_admin  # noqa: F401  (registers the loans' APPROVE / DECLINE first: wrapped below)
from commands.context import CommandError, Context, Outcome
from commands.parser import Grammar, Parsed
from commands.registry import FIELD, REGISTRY, Command, pgettext, register
from field import referrals as refs
from field.errors import FieldError
from field.visits import find_group, log_visit
from i18n import N_


def run_visit(ctx: Context, parsed: Parsed) -> Outcome:
    worker = ctx.sender.field_worker
    if worker is None:
        raise CommandError(ctx.t.gettext("Sorry, only {role} can send {command}.",
                                         role=ctx.t.gettext("a field worker"), command="VISIT"))
    code = (parsed.word or "").upper()
    group = find_group(ctx.session, code)
    if group is None:
        raise CommandError(ctx.t.gettext("VISIT: there is no group {code}. Nothing was recorded.", code=code[:16]))
    from zoneinfo import ZoneInfo

    day = ctx.now.astimezone(ZoneInfo(group.timezone)).date()
    try:
        visit, _new = log_visit(ctx.session, worker, group, parsed.text, on=day, channel="sms", key=f"visit:{ctx.key}")
    except FieldError as exc:
        raise CommandError(exc.render(ctx.t) + " " + ctx.t.gettext("Nothing was recorded.")) from None
    # TRANSLATORS: reply to a field worker's VISIT; {group} is the group's name, {code} its short code.
    return Outcome(ctx.t.gettext("VISIT: your visit to {group} ({code}) is recorded (V{ref}).",
                                 group=group.name, code=group.code, ref=visit.id))


def _decide_referral(ctx: Context, parsed: Parsed, approve: bool) -> Outcome:
    """As the chair of the member's group, else as a coordinator who follows it."""
    sender = ctx.sender
    as_whom = ([{"member": sender.member}] if sender.member is not None and sender.memberships else []) + \
        ([{"coordinator": sender.coordinator}] if sender.coordinator is not None else [])
    refused: FieldError | None = None
    for who in as_whom:
        try:
            referral = refs.decide(ctx.session, parsed.ref or "", approve=approve, reason=parsed.text,
                                   now=ctx.now, **who)
            break
        except FieldError as exc:
            refused = refused if refused is not None and exc.code == "unknown" else exc
    else:
        assert refused is not None
        raise CommandError(refused.render(ctx.t))
    if approve:
        return Outcome(ctx.t.gettext("APPROVE: referral {ref} confirmed; the member gets the lender's contact.",
                                     ref=referral.ref))
    return Outcome(ctx.t.gettext("DECLINE: referral {ref} declined.", ref=referral.ref))


def _with_referrals(keyword: str, approve: bool) -> None:
    """Let ``APPROVE`` / ``DECLINE`` take a referral's reference (F12) as well as a loan's."""
    loans = REGISTRY[keyword]

    def run(ctx: Context, parsed: Parsed) -> Outcome:
        if refs.parse_ref(parsed.ref or "") is not None:
            return _decide_referral(ctx, parsed, approve)
        return loans.run(ctx, parsed)

    register(replace(loans, run=run))


_with_referrals("APPROVE", True)
_with_referrals("DECLINE", False)
register(Command(pgettext("sms keyword", "VISIT"), Grammar.WORD_TEXT, frozenset({FIELD}), run_visit,
                 N_("VISIT GROUP note - log your visit to a group")))
