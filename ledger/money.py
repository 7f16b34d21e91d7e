"""Money as an integer count of a currency's minor units. No floats, ever.

``parse_amount`` turns what people type (``500``, ``1500.50``, ``1,500``,
``1 500``) into minor units for a currency, refusing anything ambiguous.
"""
from __future__ import annotations

import re

from babel.numbers import get_currency_precision


class AmountError(ValueError):
    """A person typed something that is not an amount; ``reason`` is a code for i18n."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"{text!r}: {reason}")
        self.text = text
        self.reason = reason


def minor_digits(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (VND 0, KES 2, ...)."""
    return int(get_currency_precision(currency.upper()))


#: A typical amount per currency, in whole units, for "write it like ..." examples:
#: VND and UGX have no decimals and count in thousands.
_EXAMPLES = {"VND": 50000, "UGX": 5000, "TZS": 5000, "RWF": 1000, "NGN": 1000, "INR": 500, "KES": 500,
             "RUB": 500, "SEK": 200, "AZN": 20, "USD": 20, "EUR": 20}


def amount_example(currency: str) -> str:
    """An amount as a person should type it in ``currency``: digits only, no separator.

    Digits alone read the same everywhere, where "1.500" is fifteen hundred in
    Vietnamese and one and a half in English.
    """
    return str(_EXAMPLES.get(currency.upper(), 500))


_GROUPED = re.compile(r"^\d{1,3}([,\s.]\d{3})+$")


def parse_amount(text: str, currency: str) -> int:
    """Parse a positive amount typed by a person into minor units of ``currency``.

    Accepts ``500``, ``1500.50``, ``1,500``, ``1 500``, ``1,500.50`` and, for
    currencies without decimals (VND), ``1.500.000``. A decimal comma
    (``1500,50``) is accepted when it cannot be a thousands separator.
    Raises :class:`AmountError` with a reason code otherwise.
    """
    raw = text
    s = text.strip().replace("\u00a0", " ")
    if not s:
        raise AmountError(raw, "empty")
    digits = minor_digits(currency)
    whole, frac = _split(s, digits, raw)
    if not whole.isdigit() or (frac and not frac.isdigit()):
        raise AmountError(raw, "not_a_number")
    if len(frac) > digits:
        raise AmountError(raw, "too_many_decimals")
    value: int = int(whole) * 10**digits + (int(frac.ljust(digits, "0")) if digits else 0)
    if value <= 0:
        raise AmountError(raw, "not_positive")
    if value >= 10**15:
        raise AmountError(raw, "too_large")
    return value


def _split(s: str, digits: int, raw: str) -> tuple[str, str]:
    """Split into (whole digits, fraction digits), removing thousands separators."""
    if _GROUPED.match(s) and (digits == 0 or not re.match(r"^\d{1,3}\.\d{3}$", s)):
        return re.sub(r"[,\s.]", "", s), ""
    m = re.match(r"^(\d{1,3}(?:[,\s]\d{3})+|\d+)(?:[.](\d+))?$", s)
    if m:
        return re.sub(r"[,\s]", "", m.group(1)), m.group(2) or ""
    m = re.match(r"^(\d{1,3}(?:[.\s]\d{3})+|\d+),(\d{1,2})$", s)
    if m and digits:
        return re.sub(r"[.\s]", "", m.group(1)), m.group(2)
    if re.search(r"\d", s) and s.lstrip().startswith("-"):
        raise AmountError(raw, "not_positive")
    raise AmountError(raw, "not_a_number")


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` minor units in proportion to ``weights`` by largest remainder.

    The parts always add up to ``total`` exactly; a zero weight gets zero.
    Ties in the remainder go to the earlier weight, so the result is
    deterministic. All integer arithmetic.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate needs a non-negative total and weights")
    whole = sum(weights)
    if whole == 0:
        if total:
            raise ValueError("cannot allocate a non-zero total over zero weights")
        return [0] * len(weights)
    floors = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    short = total - sum(floors)
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:short]:
        floors[i] += 1
    return floors


def fraction_of(amount: int, numerator: int, denominator: int) -> int:
    """``amount * numerator / denominator`` rounded half up, in integers (no float)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    q, r = divmod(amount * numerator, denominator)
    return q + (1 if 2 * r >= denominator else 0)
