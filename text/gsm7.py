"""SMS encoding, length and segment counting, exactly as the networks count them.

GSM-7 (3GPP TS 23.038, via the ``gsm0338`` codec): 160 septets in one
segment, 153 per segment when split; extension-table characters (``€ [ ] { }
\\ ^ ~ |`` and form feed) take two septets and are never split across
segments. Any other character switches the whole message to UCS-2: 70 UTF-16
code units in one segment, 67 per segment when split, surrogate pairs kept
together. ``ç`` is not GSM-7 (libraries disagree; the codec says no). A raw
ESC is not GSM-7 either: sent as a septet it would be the escape to the
extension table and turn the next character into another one.

Every length is taken after NFC normalisation (decomposed combining marks
would cost extra units).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import gsm0338  # noqa: F401  (registers the 'gsm03.38' codec)

GSM7 = "gsm7"
UCS2 = "ucs2"


@dataclass(frozen=True)
class SmsShape:
    encoding: str  # GSM7 or UCS2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def normalise(text: str) -> str:
    """NFC: decomposed combining marks would cost extra units."""
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=8192)  # per character: the planner shapes hundreds of thousands of texts
def septets(ch: str) -> int | None:
    """Septets of one character in GSM-7 (2 for the extension table), None if it has none."""
    if ch == "\x1b":
        return None
    try:
        return len(ch.encode("gsm03.38"))
    except UnicodeEncodeError:
        return None


def is_gsm7(text: str) -> bool:
    return all(septets(ch) is not None for ch in text)


def non_gsm_chars(text: str) -> set[str]:
    return {ch for ch in text if septets(ch) is None}


@lru_cache(maxsize=8192)  # per text: a USSD screen measures the same lines while it pages
def measure(text: str) -> tuple[bool, int]:
    """(all GSM-7?, length as the network counts it: septets, else UTF-16 units), after NFC."""
    text = normalise(text)
    total = 0
    for ch in text:
        n = septets(ch)
        if n is None:
            return False, len(text.encode("utf-16-le")) // 2
        total += n
    return True, total


def units(text: str) -> int:
    """Length as the network counts it (septets for GSM-7, UTF-16 units otherwise)."""
    return measure(text)[1]


def shape(text: str) -> SmsShape:
    """Encoding, length in units and segment count of ``text`` (NFC-normalised)."""
    text = normalise(text)
    quick = _uniform_shape(text)
    if quick is not None:
        return quick
    gsm, total = measure(text)
    if gsm:
        return SmsShape(GSM7, total, _segments([septets(ch) or 0 for ch in text], 160, 153))
    return SmsShape(UCS2, total, _segments([len(ch.encode("utf-16-be")) // 2 for ch in text], 70, 67))


def _uniform_shape(text: str) -> SmsShape | None:
    """The shape when every character costs one unit (the common case), else None.

    Then units = len(text) and the greedy split is plain arithmetic; the
    per-character walk is needed only for two-septet or surrogate characters.
    """
    chars = set(text)
    sizes = set(map(septets, chars))
    n = len(text)
    if sizes <= {1}:
        return SmsShape(GSM7, n, 1 if n <= 160 else -(-n // 153))
    if None in sizes and max(chars) < "\U00010000":  # no surrogate pairs
        return SmsShape(UCS2, n, 1 if n <= 70 else -(-n // 67))
    return None


def _segments(sizes: list[int], single: int, part: int) -> int:
    total = sum(sizes)
    if total <= single:
        return 1
    count, used = 1, 0
    for size in sizes:  # greedy fill; a multi-unit character is never split
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count
