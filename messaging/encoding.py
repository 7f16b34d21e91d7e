"""SMS encoding and segment counting, exactly as the networks count them.

GSM-7 (3GPP TS 23.038, via the ``gsm0338`` codec): 160 septets in one
segment, 153 per segment when split; extension-table characters (``€ [ ] { }
\\ ^ ~ |`` and form feed) take two septets and are never split across
segments. Any other character switches the whole message to UCS-2: 70 UTF-16
code units in one segment, 67 per segment when split, surrogate pairs kept
together. ``ç`` is not GSM-7 (libraries disagree; the codec says no).
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
    """Septets of one character in GSM-7 (2 for the extension table), None if it has none.

    A raw ESC has none: in GSM-7 it is the escape to the extension table, so
    sent as a septet it would turn the next character into another one.
    """
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


def shape(text: str) -> SmsShape:
    """Encoding, length in units and segment count of ``text`` (NFC-normalised)."""
    text = normalise(text)
    quick = _uniform_shape(text)
    if quick is not None:
        return quick
    sizes = [septets(ch) for ch in text]
    if all(s is not None for s in sizes):
        return SmsShape(GSM7, sum(sizes), _segments(sizes, 160, 153))  # type: ignore[arg-type]
    units = [len(ch.encode("utf-16-be")) // 2 for ch in text]
    return SmsShape(UCS2, sum(units), _segments(units, 70, 67))


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
