"""Plain letters: the same words in GSM-7 only, so an SMS costs less and a
USSD screen fits more.

Letters GSM-7 already has (ö, ü, å, é, Ç ...) stay as they are; every other
letter is transliterated with ``anyascii`` (ə→e, ş→s, ğ→g, ı→i, Vietnamese
without diacritics, Cyrillic and Indic scripts romanised).
"""
from __future__ import annotations

from functools import lru_cache

from anyascii import anyascii

from messaging.encoding import is_gsm7, normalise


@lru_cache(maxsize=4096)
def _char(ch: str) -> str:
    if is_gsm7(ch):
        return ch
    return "".join(c for c in anyascii(ch) if is_gsm7(c))  # drops control characters


def plain_letters(text: str) -> str:
    """``text`` with every non-GSM-7 character replaced by plain letters."""
    return "".join(_char(ch) for ch in normalise(text))
