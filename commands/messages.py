"""The sentences commands answer with, one function per situation, always through a translator."""
from __future__ import annotations

from commands.parser import ParseError
from commands.registry import ANYONE, COORDINATOR, FIELD, Command
from i18n import N_, Translator

#: Why an amount was refused (ledger.money.AmountError.reason) -> msgid.
AMOUNT_REASONS = {
    "empty": N_("the amount is missing"),
    "not_a_number": N_("\"{token}\" is not an amount"),
    "too_many_decimals": N_("\"{token}\" has too many decimals"),
    "not_positive": N_("the amount must be more than zero"),
    "too_large": N_("\"{token}\" is too large"),
}

#: Role names as people read them in a refusal.
ROLE_NAMES = {
    "treasurer": N_("the treasurer"),
    "chair": N_("the chair"),
    "secretary": N_("the secretary"),
    COORDINATOR: N_("a coordinator"),
    FIELD: N_("a field worker"),
    "trainer": N_("the trainer"),
}

NOTHING_RECORDED = N_("Nothing was recorded.")


def unregistered(t: Translator) -> str:
    return t.gettext("This number is not registered with Kassa. "
                     "Please ask your group's treasurer or coordinator.")


def not_allowed(t: Translator, command: Command) -> str:
    roles = [t.gettext(ROLE_NAMES[r]) for r in sorted(command.roles) if r in ROLE_NAMES and r != ANYONE]
    # TRANSLATORS: {role} is e.g. "the treasurer"; {command} is an SMS keyword such as SAVE.
    return t.gettext("Sorry, only {role} can send {command}.", role=" / ".join(roles), command=command.keyword)


def item_problem(t: Translator, command: str, index: int, item: str, problem: str) -> str:
    """A refused item, named, and the promise that nothing was kept."""
    # TRANSLATORS: {command} is an SMS keyword; {index} the item's position in the SMS;
    # {item} the item as written (member number and amount); {problem} says what is wrong.
    line = t.gettext("{command}: item {index} ({item}): {problem}.", command=command, index=index,
                     item=item, problem=problem)
    return line + " " + t.gettext(NOTHING_RECORDED)


def parse_error(t: Translator, exc: ParseError) -> str:
    """The sentence for a message Kassa could not read."""
    if exc.code == "empty":
        return t.gettext("Send HELP for the list of commands.")
    if exc.code == "unknown_command":
        # TRANSLATORS: {word} is what the person wrote first; HELP is the SMS keyword.
        return t.gettext("Sorry, \"{word}\" is not a Kassa command. Send HELP for the list.", word=exc.token)
    if exc.code == "missing_items":
        # TRANSLATORS: an example follows; keep "3 500" (member number 3, amount 500).
        return t.gettext("{command}: write each member's number and amount, e.g. {command} 3 500 4 500.",
                         command=exc.command)
    if exc.code in ("missing_amount", "bad_amount", "bad_who") and exc.item is not None:
        return item_problem(t, exc.command, exc.item.index, exc.item.text, _item_reason(t, exc))
    if exc.code == "missing_ref":
        # TRANSLATORS: a receipt number looks like R1042, a loan number like L17.
        return t.gettext("{command}: write the receipt or loan number, e.g. {command} R1042.",
                         command=exc.command)
    return t.gettext("{command}: something is missing. Send HELP for the list.", command=exc.command)


def _item_reason(t: Translator, exc: ParseError) -> str:
    if exc.code == "missing_amount":
        return t.gettext("the amount is missing")
    if exc.code == "bad_who":
        return t.gettext("\"{token}\" is not a member number or phone", token=exc.token)
    return t.gettext(AMOUNT_REASONS.get(exc.reason, AMOUNT_REASONS["not_a_number"]), token=exc.token)
