"""``RULE``: the chair reads and changes the group's rules by SMS, with her PIN as the last word.

- ``RULE`` alone: the group's rules and their values (no PIN: nothing changes).
- ``RULE <rule> <value> <PIN>``: one change, e.g. ``RULE SAVING 600 4071``,
  ``RULE SHARE 2000 4071`` (VSLA, from the next cycle), ``RULE INTEREST 5 4071``
  (percent a month), ``RULE LIMIT 3 4071`` (times her savings), ``RULE PIN ON 4071``
  (the PIN before balances), ``RULE EXPIRY 3 4071`` (meetings; 0 never),
  ``RULE LOANS DEDUCT 4071`` (or REPAY), ``RULE KEEP 500 4071`` (float kept at the share-out).
- Fine types: ``RULE FINE late 200 4071`` (a new type or a new amount),
  ``RULE FINE late 200 Kuchelewa 4071`` (amount and a name in the group's
  language), ``RULE FINE late Kuchelewa 4071`` (a new name), ``RULE FINE late OFF 4071``.

The PIN is the sender's own (the one she uses on USSD); a wrong one counts
toward the lock like a wrong one on USSD, and the stored SMS keeps ``****``
in its place (``redact_pin``). Every member is told of the change by SMS,
with from when it counts (``groups.rules``); the change is recorded.
"""
from __future__ import annotations

import re

from commands.admin import tell_members
from commands.context import CommandError, Context, Outcome
from commands.parser import Grammar, Parsed
from commands.registry import Command, pgettext, register
from groups.models import Group
from groups.rules import Applied, RuleEdit, RuleError, apply, fine_name, label, listing, parse_edit, show
from i18n import N_, Translator
from security.pins import MAX_TRIES, verify_pin

CHAIR = frozenset({"chair"})
_PIN = re.compile(r"\A\d{4}\Z")

#: RuleError.code -> the answer (the sender's language).
REFUSALS = {
    # TRANSLATORS: {example} is an SMS as typed (RULE SAVING 600 4071); RULE is the keyword: keep it.
    "usage": N_("RULE: write the rule, the new value and your PIN, e.g. {example}. Send RULE alone to see the "
                "rules."),
    # TRANSLATORS: {rules} lists the rule words as typed (SAVING, SHARE, ...): they stay in English.
    "unknown_rule": N_("RULE: \"{token}\" is not a rule. The rules: {rules}."),
    "one_value": N_("RULE: write one value, then your PIN, e.g. {example}."),
    "vsla_saving": N_("RULE: your group saves in shares. Change the share value: {example}."),
    "shg_share": N_("RULE: your group saves a fixed amount. Change it: {example}."),
    "bad_amount": N_("RULE: \"{token}\" is not an amount."),
    "bad_count": N_("RULE: \"{token}\" must be a whole number from {low} to {high}."),
    # TRANSLATORS: the loan service charge is written in percent a month, e.g. 5 or 2.5.
    "bad_percent": N_("RULE: \"{token}\" must be a percent a month from 0 to 10, e.g. 5 or 2.5."),
    "on_off": N_("RULE: write ON or OFF, e.g. {example}."),
    "repay_deduct": N_("RULE: write REPAY (loans repaid before the share-out) or DEDUCT (taken off the "
                       "payout)."),
    # TRANSLATORS: {add}, {named} and {off} are SMS as typed (RULE FINE late 200 4071 ...).
    "fine_usage": N_("RULE: a fine type, e.g. {add} (amount), {named} (amount and name), {off} (remove)."),
    "name_long": N_("RULE: a fine's name has at most {most} letters."),
    "no_fine": N_("RULE: the group has no fine \"{token}\"."),
    "unchanged": N_("RULE: that is already the rule. Nothing changed."),
    "meeting_open": N_("RULE: today's meeting is open. Change this rule after CLOSE: it counts from the next "
                       "meeting."),
    # TRANSLATORS: SHAREOUT and HOLD are SMS keywords: keep them.
    "shareout_waiting": N_("RULE: a share-out is waiting for its code. Change this rule after it (or after "
                           "HOLD)."),
}

#: Applied.effective -> the sentence members read after the change.
WHEN = {
    "now": N_("It counts from now."),
    "next_meeting": N_("It counts from the next meeting."),
    "next_cycle": N_("It counts from the next cycle. This cycle keeps {value}."),
    "new_loans": N_("It counts for new loan requests."),
}


#: The SMS each refusal shows as its example (typed so in every language).
EXAMPLES = {"usage": "RULE SAVING 600 4071", "one_value": "RULE {rule} 3 4071", "vsla_saving": "RULE SHARE 2000 4071",
            "shg_share": "RULE SAVING 600 4071", "on_off": "RULE PIN ON 4071"}


def refusal(t: Translator, exc: RuleError) -> str:
    params = {k: str(v) for k, v in exc.params.items()}
    code = exc.code if exc.code in REFUSALS else "usage"
    if code in EXAMPLES:
        params["example"] = EXAMPLES[code].format(rule=str(exc.params.get("rule", "LIMIT")).upper())
    if code == "unknown_rule":
        from groups.rules import RULES

        params["rules"] = ", ".join(r.upper() for r in RULES)
    if code == "fine_usage":
        params.update(add="RULE FINE late 200 4071", named="RULE FINE late 200 Kuchelewa 4071",
                      off="RULE FINE late OFF 4071")
    return t.gettext(REFUSALS[code], **params)


def redact_pin(text: str) -> str:
    """``RULE SAVING 600 4071`` -> ``RULE SAVING 600 ****``: the PIN never stays in the inbox."""
    head, sep, last = (text or "").rstrip().rpartition(" ")
    return f"{head}{sep}****" if sep and _PIN.match(last) else text


def redact_if_secret(text: str) -> str:
    """``redact_pin`` for an SMS whose keyword (after a group code, maybe) is a secret command's, in any language."""
    from commands.registry import REGISTRY, keyword_table
    from i18n import LANGUAGES
    from text.plain import match_key

    table = keyword_table(list(LANGUAGES))
    for word in (text or "").split()[:2]:
        entry = table.get(match_key(word))
        if entry is not None and REGISTRY[entry.command].secret:
            return redact_pin(text)
    return text


def change_text(t: Translator, group: Group, applied: Applied, *, with_group: bool = True) -> str:
    """The change as a member reads it: the rule, before and after, from when it counts."""
    change = applied.change
    fine = change.subject
    name = ""
    if change.rule == "fine":
        name = applied.after.name if applied.after is not None and applied.after.name else ""
        name = name or (applied.before.name if applied.before is not None and applied.before.name else "")
        name = name or fine_name(t, group, fine)
    what = label(t, group, change.rule, fine, name)
    if applied.before is None and change.rule == "fine":
        # TRANSLATORS: a new fine type: {rule} is "Fine: Late", {after} its amount.
        text = t.gettext("New rule: {rule}: {after}.", rule=what, after=show(t, group, "fine", applied.after))
    else:
        text = t.gettext("Rule changed: {rule}: {before} -> {after}.", rule=what,
                         before=show(t, group, change.rule, applied.before),
                         after=show(t, group, change.rule, applied.after))
    when = t.gettext(WHEN[change.effective], value=show(t, group, change.rule, applied.before))
    return f"{group.name}: {text} {when}" if with_group else f"{text} {when}"


def run_rule(ctx: Context, parsed: Parsed) -> Outcome:
    group, t = ctx.group, ctx.t
    assert group is not None and ctx.actor is not None
    words = parsed.text.replace(",", " ").split() if parsed.text else []
    if not words:
        return Outcome(t.gettext("RULE: the group's rules.") + "\n" + "\n".join(listing(t, group)))
    pin = words[-1] if _PIN.match(words[-1]) else None
    if pin is None:
        raise CommandError(t.gettext("RULE: write your PIN last, e.g. {example}.", example="RULE SAVING 600 4071"))
    try:
        edit = parse_edit(group, words[:-1])
    except RuleError as exc:
        raise CommandError(refusal(t, exc)) from None
    if ctx.actor.pin_locked:
        raise CommandError(t.gettext("Your PIN is locked after 3 wrong tries. Ask your chair or coordinator "
                                     "to reset it."))
    if not ctx.actor.pin_hash:
        raise CommandError(t.gettext("RULE: first choose a PIN: dial {code}.",
                                     code=getattr(ctx.config, "USSD_SERVICE_CODE", "")))
    check = verify_pin(ctx.session, ctx.actor, pin, getattr(ctx.config, "PIN_PEPPER", "") or "")
    if not check.ok:  # kept (the failure counts): an answer, not a rollback
        if check.locked:
            return Outcome(t.gettext("Your PIN is locked after 3 wrong tries. Ask your chair or coordinator "
                                     "to reset it."), refused=True)
        return Outcome(t.gettext("RULE: wrong PIN, nothing changed. Tries left: {tries}.",
                                 tries=check.tries_left), refused=True)
    return _change(ctx, group, edit)


def _change(ctx: Context, group: Group, edit: RuleEdit) -> Outcome:
    try:
        applied = apply(ctx.session, group, edit, actor=ctx.actor, now=ctx.now, channel="sms")
    except RuleError as exc:
        raise CommandError(refusal(ctx.t, exc)) from None
    notices = tell_members(ctx, group, lambda tt: change_text(tt, group, applied), kind="rule_change")
    reply = "RULE: " + change_text(ctx.t, group, applied, with_group=False) + " " + ctx.t.gettext(
        "Every member gets an SMS.")
    return Outcome(reply, notices)


register(Command(pgettext("sms keyword", "RULE"), Grammar.NONE, CHAIR, run_rule,
                 N_("RULE [rule value PIN] - see or change the group's rules"), secret=True))

__all__ = ["run_rule", "redact_pin", "change_text", "refusal", "MAX_TRIES"]
