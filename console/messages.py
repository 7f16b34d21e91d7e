"""Errors raised by the domain (English, for the terminal) said again in the staff member's language."""
from __future__ import annotations

from groups.phones import PhoneError
from groups.service import SetupError
from i18n import N_, Translator
from ledger.money import AmountError

SETUP: dict[str, str] = {
    "code_format": N_("The group code {code} must be letters and digits, at most 16."),
    "code_taken": N_("The group code {code} is taken."),
    "language": N_("{language} is not one of Kassa's languages."),
    "timezone": N_("{timezone} is not a time zone Kassa knows."),
    "no_group": N_("There is no group with the code {code}."),
    "name": N_("A member needs a name."),
    "already_member": N_("{phone} is already in group {group}."),
    "number_taken": N_("Member number {number} is taken in group {group}."),
    "repeat": N_("{phone} repeats line {line}."),
    "role": N_("The role {role} is not one of member, treasurer, chair, secretary."),
    "number_format": N_("The member number {number} is not a whole number."),
    "header": N_("The file's first row needs the columns {columns}."),
}

# PhoneError.reason (English) -> msgid; two reasons end with a country, kept as {region}.
PHONE: dict[str, str] = {
    "empty": N_("the phone number is missing"),
    "unknown country code": N_("unknown country code"),
    "not a phone number": N_("not a phone number"),
    "too short": N_("too short"),
    "too long": N_("too long"),
    "wrong length for": N_("wrong length for {region}"),
    "not a valid number in": N_("not a valid number in {region}"),
}

AMOUNT: dict[str, str] = {
    "empty": N_("The amount is missing."),
    "not_a_number": N_("{text} is not an amount."),
    "too_many_decimals": N_("{text} has too many decimals."),
    "not_positive": N_("The amount must be more than zero."),
    "too_large": N_("{text} is too large."),
}


def explain(t: Translator, exc: Exception) -> str:
    """``exc`` in ``t``'s language (its English text when it has no translation)."""
    if isinstance(exc, SetupError) and exc.code in SETUP:
        return t.gettext(SETUP[exc.code], **{k: str(v) for k, v in exc.params.items()})
    if isinstance(exc, PhoneError):
        for prefix, msgid in PHONE.items():
            if exc.reason == prefix or exc.reason.startswith(prefix + " "):
                region = exc.reason[len(prefix):].strip()
                reason = t.gettext(msgid, region=region) if "{region}" in msgid else t.gettext(msgid)
                # TRANSLATORS: {text} is what was typed, {reason} one of the phone number problems.
                return t.gettext("Bad phone number {text}: {reason}", text=exc.text, reason=reason)
    if isinstance(exc, AmountError) and exc.reason in AMOUNT:
        return t.gettext(AMOUNT[exc.reason], text=exc.text)
    return str(exc)
