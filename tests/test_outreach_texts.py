"""The words of reminders and broadcasts, and the segment counting the planner relies on."""
from __future__ import annotations

import datetime as dt
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st

from messaging.outbox import variant
from outreach.texts import MeetingFacts, broadcast_text, meeting_reminder
from text import gsm7
from text.plain import Letters


def _slow_shape(text: str) -> gsm7.SmsShape:
    text = gsm7.normalise(text)
    sizes = [gsm7.septets(ch) for ch in text]
    if all(s is not None for s in sizes):
        septets = cast("list[int]", sizes)
        return gsm7.SmsShape(gsm7.GSM7, sum(septets), gsm7._segments(septets, 160, 153))
    units = [len(ch.encode("utf-16-be")) // 2 for ch in text]
    return gsm7.SmsShape(gsm7.UCS2, sum(units), gsm7._segments(units, 70, 67))


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from("aZ 09.,:€[]{}^ÄöüçəğışİЖ😀ệ\n"), max_size=400))
def test_the_quick_shape_equals_the_character_walk(text: str) -> None:
    assert gsm7.shape(text) == _slow_shape(text)


def test_reminder_without_place_or_amounts_is_short_and_plain_letters_are_gsm7() -> None:
    facts = MeetingFacts("Nhóm Bản Phố", dt.date(2026, 11, 29), dt.time(8, 0), "", "VND")
    text = meeting_reminder("vi", facts)
    assert "Bring" not in text and "08:00" in text
    assert variant(text, Letters.FULL).encoding == "ucs2" and variant(text, Letters.PLAIN).encoding == "gsm7"


def test_broadcast_names_the_sender_first() -> None:
    assert broadcast_text("en", "HiH", "  Training  moved. ") == "HiH: Training  moved."
