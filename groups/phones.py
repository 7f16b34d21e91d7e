"""Phone numbers: parsed and validated with ``phonenumbers``, stored in E.164."""
from __future__ import annotations

import functools

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat


class PhoneError(ValueError):
    """``reason`` is a short English explanation for logs and CLI output."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"bad phone number {text!r}: {reason}")
        self.text = text
        self.reason = reason


_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


def normalise_phone(text: str, country: str | None = None) -> str:
    """``text`` as E.164 (``+254712345678``), using ``country`` for local numbers.

    Raises :class:`PhoneError` saying why when the number is not a valid one.
    """
    raw = (text or "").strip()
    if not raw:
        raise PhoneError(text, "empty")
    if any(ch.isalpha() for ch in raw):
        # phonenumbers reads letters as keypad digits (vanity numbers): a typo, not a number.
        raise PhoneError(text, "letters in a phone number")
    error: PhoneError | None = None
    for candidate in _candidates(raw, country):
        try:
            number = _valid(text, candidate, country)
        except PhoneError as exc:
            error = error or exc
            continue
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    assert error is not None
    raise error


def _candidates(raw: str, country: str | None) -> list[str]:
    """The readings of ``raw`` to try, most likely first.

    A country's own international prefix (``000`` in Kenya, Uganda and Tanzania,
    ``009`` in Nigeria, ``00`` in most places) is understood by phonenumbers when
    the country is known; ``00`` followed by a country code is also read as ``+``.
    """
    if raw.startswith("00"):
        return ([raw] if country else []) + ["+" + raw[2:]]
    if raw[0].isdigit() and country is None and len(raw) > 10:
        return ["+" + raw]  # an international number that lost its '+' (e.g. form-decoded)
    return [raw]


def _valid(text: str, raw: str, country: str | None) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(raw, (country or "").upper() or None)
    except NumberParseException as exc:
        raise PhoneError(text, _PARSE_REASONS.get(exc.error_type, "not a phone number")) from None
    if not phonenumbers.is_possible_number(number):
        raise PhoneError(text, "wrong length for " + (phonenumbers.region_code_for_number(number) or "its country"))
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_number(number) or country or "?"
        raise PhoneError(text, f"not a valid number in {region}")
    return number


@functools.lru_cache(maxsize=65536)
def try_normalise(text: str, country: str | None = None) -> str | None:
    """Like :func:`normalise_phone` but ``None`` instead of an error.

    Remembered: every USSD hop and SMS names its phone, and the same few
    thousand phones call again and again.
    """
    try:
        return normalise_phone(text, country)
    except PhoneError:
        return None
