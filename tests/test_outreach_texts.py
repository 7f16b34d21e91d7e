"""The words of reminders and broadcasts, and the segment counting the planner relies on."""
from __future__ import annotations

import datetime as dt
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st

from messaging import encoding
from messaging.outbox import variant
from outreach.texts import MeetingFacts, broadcast_text, meeting_reminder


def _slow_shape(text: str) -> encoding.SmsShape:
    text = encoding.normalise(text)
    sizes = [encoding.septets(ch) for ch in text]
    if all(s is not None for s in sizes):
        septets = cast("list[int]", sizes)
        return encoding.SmsShape(encoding.GSM7, sum(septets), encoding._segments(septets, 160, 153))
    units = [len(ch.encode("utf-16-be")) // 2 for ch in text]
    return encoding.SmsShape(encoding.UCS2, sum(units), encoding._segments(units, 70, 67))


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from("aZ 09.,:€[]{}^ÄöüçəğışİЖ😀ệ\n"), max_size=400))
def test_the_quick_shape_equals_the_character_walk(text: str) -> None:
    assert encoding.shape(text) == _slow_shape(text)


def test_reminder_without_place_or_amounts_is_short_and_plain_letters_are_gsm7() -> None:
    facts = MeetingFacts("Nhóm Bản Phố", dt.date(2026, 11, 29), dt.time(8, 0), "", "VND")
    text = meeting_reminder("vi", facts)
    assert "Bring" not in text and "08:00" in text
    assert variant(text, False).encoding == "ucs2" and variant(text, True).encoding == "gsm7"


def test_broadcast_names_the_sender_first() -> None:
    assert broadcast_text("en", "HiH", "  Training  moved. ") == "HiH: Training  moved."
