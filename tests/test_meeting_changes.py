"""One meeting moved or cancelled by the chair's SMS: members told, reminders follow.

Demo group UPENDO meets on Tuesdays at 14:00 in Nairobi (11:00 UTC); its reminder goes
at 18:00 the evening before (15:00 UTC). The clock is set to Monday 2026-12-07 08:00 UTC.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

import commands.inbox
import handlers.ussd
import messaging.inbound
from groups.changes import MeetingChange
from groups.models import Group
from groups.schedule import Change, Rhythm, next_slot, plan_after, plan_following
from messaging.models import OutboxMessage
from outreach.planner import preview, run_planner
from tests.outreach_helpers import utc
from tests.smskit import at_sms, texts_to
from tests.ussd_phone import Phone

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from services import Services
    from tests.fixture_types import DemoPeople

TREASURER, CHAIR, FAITH, ESTHER = "+254712000001", "+254712000002", "+254712000003", "+254712000004"
NOW = utc(2026, 12, 7, 8)
NAIROBI = Rhythm("Africa/Nairobi", weekday=1, at=dt.time(14, 0))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, dt.datetime]:
    now = {"at": NOW}
    monkeypatch.setattr(messaging.inbound, "utcnow", lambda: now["at"])
    monkeypatch.setattr(commands.inbox, "utcnow", lambda: now["at"])  # the command's clock
    monkeypatch.setattr(handlers.ussd, "utcnow", lambda: now["at"])
    return now


def reminders(services: Services) -> list[OutboxMessage]:
    with services.db.transaction() as s:
        upendo = s.scalar(select(Group.id).where(Group.code == "UPENDO"))
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder",
                                                          OutboxMessage.group_id == upendo)
                              .order_by(OutboxMessage.id)))


def simulate(services: Services, start: dt.datetime, end: dt.datetime,
             step: dt.timedelta = dt.timedelta(hours=1)) -> dict[str, dt.datetime]:
    """Run the planner every ``step``; the first tick each reminder's dedupe key appeared."""
    seen: dict[str, dt.datetime] = {}
    now = start
    while now <= end:
        run_planner(services, now)
        for row in reminders(services):
            assert row.dedupe_key is not None
            seen.setdefault(row.dedupe_key, now)
        now += step
    return seen


# -- the calendar (pure) -------------------------------------------------------------------

def test_a_cancelled_meeting_is_skipped_and_a_moved_one_is_reminded_before_its_new_day() -> None:
    cancelled = {dt.date(2026, 12, 8): Change(cancelled=True)}
    assert next_slot(NAIROBI, NOW, cancelled) == dt.date(2026, 12, 15)
    plan = plan_after(NAIROBI, NOW, cancelled)
    assert (plan.meeting_on, plan.remind_at) == (dt.date(2026, 12, 15), utc(2026, 12, 14, 15))
    moved = {dt.date(2026, 12, 8): Change(new_on=dt.date(2026, 12, 10), new_time=dt.time(16, 0))}
    plan = plan_after(NAIROBI, NOW, moved)
    assert (plan.meeting_on, plan.remind_at) == (dt.date(2026, 12, 8), utc(2026, 12, 9, 15))
    after = plan_following(NAIROBI, plan.meeting_on, plan.remind_at, moved)
    assert after.meeting_on == dt.date(2026, 12, 15)


def test_a_meeting_moved_past_the_next_one_keeps_the_order_of_the_days() -> None:
    moved = {dt.date(2026, 12, 8): Change(new_on=dt.date(2026, 12, 17))}
    assert next_slot(NAIROBI, NOW, moved) == dt.date(2026, 12, 15)  # the 15th comes before the 17th
    assert next_slot(NAIROBI, utc(2026, 12, 15, 12), moved) == dt.date(2026, 12, 8)  # then the moved one


# -- by SMS, with the planner ---------------------------------------------------------------

def test_cancel_tells_every_member_and_no_reminder_goes_for_that_meeting(
        client: FlaskClient, services: Services, demo: DemoPeople, clock: dict[str, dt.datetime]) -> None:
    at_sms(client, CHAIR, "CANCEL")
    assert texts_to(services, CHAIR)[-1] == ("CANCEL: meeting cancelled. Date: Tuesday 8. Next meeting: Tuesday 15, "
                                             "14:00. Every member gets an SMS.")
    for phone in (TREASURER, FAITH, ESTHER):
        assert texts_to(services, phone) == ["Upendo Women Group: meeting cancelled. Date: Tuesday 8. "
                                             "Next meeting: Tuesday 15, 14:00."]
    seen = simulate(services, utc(2026, 12, 7, 8), utc(2026, 12, 15, 12))
    days = {key.split(":")[3] for key in seen}
    assert days == {"2026-12-15"}  # nothing for the 8th
    assert set(seen.values()) == {utc(2026, 12, 14, 15)}


def test_cancel_after_the_planner_had_planned_that_meeting(
        client: FlaskClient, services: Services, demo: DemoPeople, clock: dict[str, dt.datetime]) -> None:
    run_planner(services, utc(2026, 12, 7, 7))  # the cursor now points at the 8th
    at_sms(client, CHAIR, "cancel 8.12")
    seen = simulate(services, utc(2026, 12, 7, 8), utc(2026, 12, 8, 12))
    assert seen == {}


def test_move_tells_members_and_the_reminder_follows_the_new_day(
        client: FlaskClient, services: Services, demo: DemoPeople, clock: dict[str, dt.datetime]) -> None:
    at_sms(client, CHAIR, "MOVE 2026-12-10 16:00")
    assert texts_to(services, CHAIR)[-1] == ("MOVE: meeting moved. Old date: Tuesday 8. New date: Thursday 10, 16:00. "
                                             "Every member gets an SMS.")
    assert texts_to(services, FAITH) == ["Upendo Women Group: meeting moved. Old date: Tuesday 8. "
                                         "New date: Thursday 10, 16:00."]
    seen = simulate(services, utc(2026, 12, 7, 8), utc(2026, 12, 15, 12))
    by_day: dict[dt.datetime, set[str]] = {}
    for key, at in seen.items():
        by_day.setdefault(at, set()).add(key.split(":")[1])
    assert by_day == {utc(2026, 12, 9, 15): {"meeting@1600"}, utc(2026, 12, 14, 15): {"meeting"}}
    moved = [r.text for r in reminders(services) if r.to_phone == FAITH][0]
    assert "Thursday 10" in moved and "16:00" in moved


def test_reminders_preview_of_a_moved_meeting_shows_what_the_planner_sends(
        client: FlaskClient, services: Services, demo: DemoPeople, clock: dict[str, dt.datetime]) -> None:
    at_sms(client, CHAIR, "MOVE 2026-12-10 16:00")
    with services.db.transaction() as s:
        shown = preview(s, s.scalars(select(Group.id).where(Group.code == "UPENDO")).one(), NOW)
    assert shown.meeting_on == dt.date(2026, 12, 8) and shown.moved_to == (dt.date(2026, 12, 10), dt.time(16, 0))
    assert shown.remind_at == utc(2026, 12, 9, 15)  # the evening before the new day
    run_planner(services, shown.remind_at)
    sent = {r.to_phone: r.text for r in reminders(services)}
    assert len(sent) == 4 and {line.phone: line.text for line in shown.lines} == sent
    assert all("Thursday 10" in text and "16:00" in text for text in sent.values())


def test_a_meeting_moved_after_its_reminder_went_is_reminded_again(
        client: FlaskClient, services: Services, demo: DemoPeople, clock: dict[str, dt.datetime]) -> None:
    simulate(services, utc(2026, 12, 6, 8), utc(2026, 12, 7, 16))  # the usual reminder went on the 7th
    assert len(reminders(services)) == 4
    clock["at"] = utc(2026, 12, 7, 17)
    at_sms(client, CHAIR, "MOVE 2026-12-08 17:30")  # same day, later
    simulate(services, utc(2026, 12, 7, 17), utc(2026, 12, 8, 12))
    again = [r for r in reminders(services) if r.to_phone == FAITH]
    assert len(again) == 2 and "17:30" in again[1].text


def test_the_next_meeting_screen_shows_the_new_day(
        client: FlaskClient, services: Services, demo: DemoPeople, clock: dict[str, dt.datetime]) -> None:
    at_sms(client, CHAIR, "MOVE 10.12 16:00")
    phone = Phone(client, FAITH)
    phone.dial()
    screen = phone.choose("Next meeting")
    assert "Next meeting: Thursday 10 December" in screen and "Time: 16:00" in screen
    assert "Moved from: Tuesday 8 December" in screen


@pytest.mark.parametrize("phone, text, answer", [
    (CHAIR, "MOVE tomorrow", "MOVE: write the new day and time, e.g. MOVE 2026-12-08 14:00."),
    (CHAIR, "MOVE 2026-12-08 25:00", "MOVE: write the new day and time, e.g. MOVE 2026-12-08 14:00."),
    (CHAIR, "MOVE 2026-12-06 14:00", "MOVE: that day and time have already passed."),
    (CHAIR, "MOVE 2027-02-01", "MOVE: a meeting can move at most 31 days from its usual day."),
    (CHAIR, "CANCEL 2026-12-09", "CANCEL: there is no meeting on that day. Date: Wednesday 9 December."),
    (CHAIR, "CANCEL soon", "CANCEL: write nothing for the next meeting, or its day, e.g. CANCEL 2026-12-08."),
    (TREASURER, "CANCEL", "Sorry, only the chair can send CANCEL."),
    (FAITH, "MOVE 2026-12-10", "Sorry, only the chair can send MOVE."),
])
def test_bad_input_gets_a_clear_answer_and_changes_nothing(
        client: FlaskClient, services: Services, demo: DemoPeople, clock: dict[str, dt.datetime], phone: str,
        text: str, answer: str) -> None:
    at_sms(client, phone, text)
    assert texts_to(services, phone)[-1] == answer
    with services.db.transaction() as s:
        assert s.scalars(select(MeetingChange)).all() == []
        assert s.scalar(select(Group.next_reminder_at).where(Group.code == "UPENDO")) is None
    assert texts_to(services, ESTHER) == []


def test_cancelling_twice_cancels_the_following_meeting_not_the_same_one(
        client: FlaskClient, services: Services, demo: DemoPeople, clock: dict[str, dt.datetime]) -> None:
    at_sms(client, CHAIR, "CANCEL")
    at_sms(client, CHAIR, "CANCEL")
    assert texts_to(services, CHAIR)[-1].startswith("CANCEL: meeting cancelled. Date: Tuesday 15. ")
    with services.db.transaction() as s:
        assert sorted(c.regular_on for c in s.scalars(select(MeetingChange))) == [
            dt.date(2026, 12, 8), dt.date(2026, 12, 15)]
