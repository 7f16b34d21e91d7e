"""Segment counting as the networks count (text/gsm7.py: 3GPP TS 23.038), and plain letters."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from text.gsm7 import GSM7, UCS2, is_gsm7, shape
from text.plain import plain_letters


@pytest.mark.parametrize("text,encoding,segments", [
    ("a" * 160, GSM7, 1),
    ("a" * 161, GSM7, 2),
    ("a" * 306, GSM7, 2),
    ("a" * 307, GSM7, 3),
    ("€" * 80, GSM7, 1),  # 160 septets
    ("€" * 81, GSM7, 2),  # an escape pair is never split: [76, 5] pairs
    ("å ä ö Å Ä Ö é É", GSM7, 1),  # Swedish is all GSM-7
    ("ə" * 70, UCS2, 1),
    ("ə" * 71, UCS2, 2),
    ("ə" * 134, UCS2, 2),
    ("ə" * 135, UCS2, 3),
    ("😀" * 35, UCS2, 1),  # 70 UTF-16 units
    ("😀" * 36, UCS2, 2),  # a surrogate pair is never split
    ("ç", UCS2, 1),  # not GSM-7, whatever some libraries say
    ("Tiết kiệm", UCS2, 1),
])
def test_segments(text: str, encoding: str, segments: int) -> None:
    s = shape(text)
    assert (s.encoding, s.segments) == (encoding, segments)


def test_decomposed_vietnamese_is_counted_after_nfc() -> None:
    decomposed = "tie\u0302\u0301t"  # tiết with combining marks
    assert shape(decomposed).units == 4


@pytest.mark.parametrize("source,plain", [
    ("Özünə Dəstək Qrupu", "Özüne Destek Qrupu"),
    ("şəhər ğ ı İ ç", "seher g i I c"),
    ("Quỹ Xã hội", "Quy Xa hoi"),
    ("självhjälpsgrupp", "självhjälpsgrupp"),
])
def test_plain_letters(source: str, plain: str) -> None:
    assert plain_letters(source) == plain


@given(st.text(max_size=400))
def test_plain_letters_are_always_gsm7(text: str) -> None:
    assert is_gsm7(plain_letters(text))


@given(st.text(max_size=600))
def test_segments_bound_units(text: str) -> None:
    s = shape(text)
    per = (153 if s.encoding == GSM7 else 67)
    single = (160 if s.encoding == GSM7 else 70)
    assert s.segments == 1 if s.units <= single else s.segments >= -(-s.units // per)
