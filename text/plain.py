"""Plain letters: the same words in GSM-7 only, so an SMS costs less and a
USSD screen fits more; and the two letter styles a member may get.

Letters GSM-7 already has (ö, ü, å, é, Ç ...) stay as they are; every other
letter is transliterated with ``anyascii`` (ə→e, ş→s, ğ→g, ı→i, Vietnamese
without diacritics, Cyrillic and Indic scripts romanised).

Which style a member gets is one rule, ``groups.letters.letters_for`` (her own
choice, else her group's); this module only writes a text in a style.
"""
from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache

from anyascii import anyascii

from text.gsm7 import is_gsm7, normalise


class Letters(StrEnum):
    """A letter style: her language's own letters, or plain GSM-7 letters (cheaper)."""

    FULL = "full"
    PLAIN = "plain"

    @classmethod
    def of(cls, plain: bool | None) -> Letters:
        """``PLAIN`` when ``plain`` is true; ``FULL`` when false or unset."""
        return cls.PLAIN if plain else cls.FULL

    @property
    def plain(self) -> bool:
        return self is Letters.PLAIN


#: Currency signs GSM-7 lacks, written as their ISO codes (anyascii would say "d" for ₫).
CURRENCY_SIGNS = {"₫": "VND", "₼": "AZN", "₹": "INR", "₽": "RUB", "₸": "KZT", "₺": "TRY", "₴": "UAH",
                  "₦": "NGN", "₵": "GHS", "₱": "PHP", "₩": "KRW", "₪": "ILS", "৳": "BDT", "₨": "Rs"}
_CODES = "|".join(sorted(set(CURRENCY_SIGNS.values())))
_GLUED = re.compile(rf"\b({_CODES})(?=\d)|(?<=\d)({_CODES})\b")  # "VND2,500" -> "VND 2,500"


@lru_cache(maxsize=4096)
def _char(ch: str) -> str:
    if is_gsm7(ch):
        return ch
    if ch in CURRENCY_SIGNS:
        return CURRENCY_SIGNS[ch]
    return "".join(c for c in anyascii(ch) if is_gsm7(c))  # drops control characters


class _Table(dict[int, str]):
    """``str.translate``'s table, each character's plain letters worked out on first sight."""

    def __missing__(self, code: int) -> str:
        self[code] = plain = _char(chr(code))
        return plain


_TABLE = _Table()  # str.translate walks the text in C: the planner makes thousands of texts plain


#: Languages' own names that letter-by-letter plain letters would garble ("മലയാളം" -> "mlyalm"):
#: their usual name in Latin letters instead.
NAMES_PLAIN = {"മലയാളം": "Malayalam", "हिन्दी": "Hindi", "Русский": "Russkiy"}


def plain_letters(text: str) -> str:
    """``text`` with every non-GSM-7 character replaced by plain letters."""
    for native, latin in NAMES_PLAIN.items():
        if native in text:
            text = text.replace(native, latin)
    plain = normalise(text).translate(_TABLE)
    return _GLUED.sub(lambda m: f"{m.group(1)} " if m.group(1) else f" {m.group(2)}", plain)


def in_letters(text: str, letters: Letters) -> str:
    """``text`` as written in ``letters``: plain letters, or her own letters (NFC)."""
    return plain_letters(text) if letters is Letters.PLAIN else normalise(text)


#: Languages whose plain letters still read naturally (Latin script). Russian,
#: Hindi and Malayalam would change script entirely, so they are never made plain
#: behind a member's back (she may still choose it).
PLAIN_READABLE = frozenset({"en", "az", "vi", "sv", "sw"})


def match_key(word: str) -> str:
    """The form keywords are compared in: NFC, no accents, upper case (``yığım`` -> ``YIGIM``)."""
    return anyascii(unicodedata.normalize("NFC", word)).upper()
