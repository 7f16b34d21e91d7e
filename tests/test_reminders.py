"""Meeting reminders: the right members, at the right local time, exactly once.

The clock is injected (``now``); groups sit in Nairobi (no DST), Stockholm
(DST ends 2026-10-25) and New York (DST ends 2026-11-01).
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

import pytest
from rq import Queue
from sqlalchemy import func, select, update

from groups.changes import reschedule
from groups.models import Group, Status
from groups.schedule import Rhythm, meeting_on_or_after, next_meeting, plan_after, plan_following
from groups.service import add_member
from messaging.models import OutboxMessage
from outreach.planner import plan_batch, run_planner
from tests.outreach_helpers import make_group, utc

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Row

    from services import Services
    from tests.fixture_types import MakeApp

STOCKHOLM = Rhythm("Europe/Stockholm", weekday=0, at=dt.time(10, 0))
NEW_YORK = Rhythm("America/New_York", weekday=0, at=dt.time(9, 0))


# -- the calendar (pure) -------------------------------------------------------------------

def test_reminder_is_the_evening_before_at_18_local_across_a_dst_change() -> None:
    before = plan_after(STOCKHOLM, utc(2026, 10, 15, 12))
    after = plan_following(STOCKHOLM, before.meeting_on, before.remind_at)
    assert before.meeting_on == dt.date(2026, 10, 19) and before.remind_at == utc(2026, 10, 18, 16)  # CEST
    assert after.meeting_on == dt.date(2026, 10, 26) and after.remind_at == utc(2026, 10, 25, 17)  # CET


def test_new_york_reminder_moves_an_hour_in_utc_when_clocks_go_back() -> None:
    first = plan_after(NEW_YORK, utc(2026, 10, 20))
    second = plan_following(NEW_YORK, first.meeting_on, first.remind_at)
    assert (first.remind_at, second.remind_at) == (utc(2026, 10, 25, 22), utc(2026, 11, 1, 23))


def test_fortnightly_meetings_follow_the_anchor_week() -> None:
    rhythm = Rhythm("Africa/Nairobi", weekday=2, at=dt.time(14, 0), every_weeks=2, anchor=dt.date(2026, 11, 4))
    assert meeting_on_or_after(rhythm, dt.date(2026, 11, 5)) == dt.date(2026, 11, 18)
    assert meeting_on_or_after(rhythm, dt.date(2026, 10, 1)) == dt.date(2026, 10, 7)
    assert meeting_on_or_after(rhythm, dt.date(2026, 11, 18)) == dt.date(2026, 11, 18)


def test_a_meeting_that_has_started_is_not_the_next_one() -> None:
    rhythm = Rhythm("Africa/Nairobi", weekday=1, at=dt.time(14, 0))  # Tuesday 14:00 EAT = 11:00 UTC
    assert next_meeting(rhythm, utc(2026, 11, 24, 10, 59)) == dt.date(2026, 11, 24)
    assert next_meeting(rhythm, utc(2026, 11, 24, 11, 0)) == dt.date(2026, 12, 1)


def test_custom_lead_two_days_before_in_the_morning() -> None:
    rhythm = Rhythm("Asia/Baku", weekday=3, at=dt.time(15, 0), days_before=2, remind_at=dt.time(9, 0))
    plan = plan_after(rhythm, utc(2026, 11, 23))
    assert plan.meeting_on == dt.date(2026, 11, 26) and plan.remind_at == utc(2026, 11, 24, 5)  # 09:00 AZT


# -- the planner on both databases ------------------------------------------------------------

def _groups(services: Services) -> None:
    with services.db.transaction() as s:
        make_group(s, "NBI", n=3, timezone="Africa/Nairobi", meeting_weekday=1, meeting_time=dt.time(14, 0),
                   meeting_place="Kondele hall", saving_amount=20000, social_fund_amount=5000)
        make_group(s, "STO", n=2, timezone="Europe/Stockholm", meeting_weekday=0, meeting_time=dt.time(10, 0),
                   language="sv", currency="SEK")
        make_group(s, "NYC", n=2, timezone="America/New_York", meeting_weekday=0, meeting_time=dt.time(9, 0),
                   currency="USD")


def _simulate(services: Services, start: dt.datetime, end: dt.datetime,
              step: dt.timedelta) -> dict[int, dt.datetime]:
    """Run the planner at every tick; the tick at which each outbox row appeared."""
    seen: dict[int, dt.datetime] = {}
    now = start
    while now <= end:
        run_planner(services, now)
        with services.db.transaction() as s:
            for oid in s.scalars(select(OutboxMessage.id).where(OutboxMessage.id.not_in(list(seen) or [0]))):
                seen[oid] = now
        now += step
    return seen


def _reminders(services: Services) -> Sequence[Row[int, str | None, int | None, int | None, str, str]]:
    with services.db.transaction() as s:
        return s.execute(select(OutboxMessage.id, OutboxMessage.dedupe_key, OutboxMessage.group_id,
                                OutboxMessage.member_id, OutboxMessage.text, OutboxMessage.kind)).all()


def test_three_timezones_three_weeks_each_reminder_once_at_its_local_time(services: Services) -> None:
    _groups(services)
    seen = _simulate(services, utc(2026, 10, 14), utc(2026, 11, 4), dt.timedelta(hours=1))
    rows = _reminders(services)
    with services.db.transaction() as s:
        code_of = dict(s.execute(select(Group.id, Group.code)).all())
    sent = defaultdict(set)
    for row in rows:
        meeting_on = row.dedupe_key.split(":")[3]
        sent[code_of[row.group_id]].add((meeting_on, seen[row.id]))
    assert Counter(r.dedupe_key for r in rows).most_common(1)[0][1] == 1
    assert sent["STO"] == {("2026-10-19", utc(2026, 10, 18, 16)), ("2026-10-26", utc(2026, 10, 25, 17)),
                           ("2026-11-02", utc(2026, 11, 1, 17))}
    assert sent["NYC"] == {("2026-10-19", utc(2026, 10, 18, 22)), ("2026-10-26", utc(2026, 10, 25, 22)),
                           ("2026-11-02", utc(2026, 11, 1, 23))}
    assert sent["NBI"] == {("2026-10-20", utc(2026, 10, 19, 15)), ("2026-10-27", utc(2026, 10, 26, 15)),
                           ("2026-11-03", utc(2026, 11, 2, 15))}
    assert len(rows) == 3 * 3 + 3 * 2 + 3 * 2


def test_reminder_text_says_day_time_place_and_what_to_bring(services: Services) -> None:
    _groups(services)
    run_planner(services, utc(2026, 11, 23, 15))  # plans; Nairobi's Monday 18:00 reminder is due now
    rows = [r for r in _reminders(services)]
    assert rows and {r.kind for r in rows} == {"reminder"}
    text = rows[0].text
    for part in ("Meeting: Tuesday 24, 14:00", "14:00", "Kondele hall", "savings", "200", "social fund", "50"):
        assert part in text, (part, text)


def test_azerbaijani_reminder_in_her_language_and_plain_letters_when_the_group_wants(
        services: Services) -> None:
    with services.db.transaction() as s:
        make_group(s, "BRD", n=2, timezone="Asia/Baku", meeting_weekday=3, meeting_time=dt.time(15, 0),
                   language="az", currency="AZN", meeting_place="İcma mərkəzi", saving_amount=500)
        make_group(s, "BRP", n=1, timezone="Asia/Baku", meeting_weekday=3, meeting_time=dt.time(15, 0),
                   language="az", currency="AZN", meeting_place="İcma mərkəzi", saving_amount=500,
                   plain_letters=True)
    run_planner(services, utc(2026, 11, 25, 14, 5))  # Wednesday 18:05 in Baku
    with services.db.transaction() as s:
        by_group = {g: (t, e) for g, t, e in s.execute(
            select(Group.code, OutboxMessage.text, OutboxMessage.encoding)
            .join(Group, Group.id == OutboxMessage.group_id))}
    text, encoding = by_group["BRD"]
    assert "cümə axşamı" in text.lower() and "15:00" in text and "İcma mərkəzi" in text and encoding == "ucs2"
    plain_text, plain_encoding = by_group["BRP"]
    assert plain_encoding == "gsm7" and "Icma merkezi" in plain_text


def test_opted_out_and_inactive_members_get_nothing(services: Services) -> None:
    with services.db.transaction() as s:
        group = make_group(s, "NBI", n=4, timezone="Africa/Nairobi", meeting_weekday=1)
        members = [m.member for m in group.memberships]
        members[0].opted_out = True
        members[1].status = Status.INACTIVE
        group.memberships[2].status = Status.INACTIVE
        keep = members[3].id
    run_planner(services, utc(2026, 11, 23, 15))
    assert [r.member_id for r in _reminders(services)] == [keep]


def test_replays_and_restarts_add_nothing(services: Services) -> None:
    _groups(services)
    now = utc(2026, 11, 23, 15)
    run_planner(services, now)
    first = len(_reminders(services))
    assert first == 3
    run_planner(services, now)  # the same tick again
    with services.db.transaction() as s:  # a planner that crashed before moving the cursors
        s.execute(update(Group).where(Group.code == "NBI")
                  .values(next_reminder_at=utc(2026, 11, 23, 14), next_meeting_on=dt.date(2026, 11, 24)))
    run_planner(services, now)
    assert len(_reminders(services)) == first


def test_a_planner_down_through_the_meeting_skips_it_and_plans_the_next(services: Services) -> None:
    with services.db.transaction() as s:
        make_group(s, "NBI", n=2, timezone="Africa/Nairobi", meeting_weekday=1, meeting_time=dt.time(14, 0))
    run_planner(services, utc(2026, 11, 20))  # planned: Monday 23rd 15:00 UTC
    summary = run_planner(services, utc(2026, 11, 25))  # woke up after Tuesday's meeting
    assert summary.stale == 1 and summary.reminders == 0
    with services.db.transaction() as s:
        group = s.scalars(select(Group)).one()
        assert group.next_meeting_on == dt.date(2026, 12, 1)


def test_late_plan_still_reminds_before_the_meeting(services: Services) -> None:
    """A group created after its reminder time but before its meeting is reminded at once."""
    with services.db.transaction() as s:
        make_group(s, "NBI", n=2, timezone="Africa/Nairobi", meeting_weekday=1, meeting_time=dt.time(14, 0))
    summary = run_planner(services, utc(2026, 11, 24, 8))  # Tuesday 11:00 in Nairobi
    assert summary.reminders == 2


def test_members_added_after_the_reminder_hour_are_reminded_before_the_meeting(services: Services) -> None:
    """A group created on the eve after 18:00, its members added a minute later (flask groups
    create, then flask members import), still reminds them of tomorrow's meeting, at once."""
    with services.db.transaction() as s:
        make_group(s, "NBI", n=0, timezone="Africa/Nairobi", meeting_weekday=1, meeting_time=dt.time(14, 0))
    assert run_planner(services, utc(2026, 11, 23, 16)).reminders == 0  # Monday 19:00 in Nairobi: nobody yet
    with services.db.transaction() as s:
        group = s.scalars(select(Group)).one()
        for i in range(2):
            add_member(s, group, phone=f"+2547199900{i:02d}", name=f"Late {i}")
    summary = run_planner(services, utc(2026, 11, 23, 16, 1))  # the scheduler's next minute
    assert summary.reminders == 2
    assert {r.dedupe_key.split(":")[3] for r in _reminders(services)} == {"2026-11-24"}
    assert run_planner(services, utc(2026, 11, 24, 11, 30)).reminders == 0  # after the meeting: next week's plan
    with services.db.transaction() as s:
        assert s.scalar(select(Group.next_meeting_on)) == dt.date(2026, 12, 1)


def test_a_group_still_empty_when_its_meeting_starts_moves_on_to_the_next(services: Services) -> None:
    with services.db.transaction() as s:
        make_group(s, "NBI", n=0, timezone="Africa/Nairobi", meeting_weekday=1, meeting_time=dt.time(14, 0))
    for minute in range(3):
        assert run_planner(services, utc(2026, 11, 23, 16, minute)).reminders == 0
    summary = run_planner(services, utc(2026, 11, 24, 11, 0))  # the meeting starts
    assert summary.stale == 1
    with services.db.transaction() as s:
        assert s.scalar(select(Group.next_meeting_on)) == dt.date(2026, 12, 1)


def test_fortnightly_group_is_reminded_every_other_week(services: Services) -> None:
    with services.db.transaction() as s:
        make_group(s, "FTN", n=1, timezone="Africa/Nairobi", meeting_weekday=2, meeting_every_weeks=2,
                   meeting_anchor=dt.date(2026, 11, 4))
    _simulate(services, utc(2026, 11, 1), utc(2026, 12, 1), dt.timedelta(hours=6))
    meetings = sorted(r.dedupe_key.split(":")[3] for r in _reminders(services))
    assert meetings == ["2026-11-04", "2026-11-18"]


def test_rescheduling_replans_from_the_new_day(services: Services) -> None:
    with services.db.transaction() as s:
        make_group(s, "NBI", n=1, timezone="Africa/Nairobi", meeting_weekday=1)
    run_planner(services, utc(2026, 11, 20))
    with services.db.transaction() as s:
        group = s.scalars(select(Group)).one()
        group.meeting_weekday = 4  # Friday
        reschedule(group)
    run_planner(services, utc(2026, 11, 20, 1))
    with services.db.transaction() as s:
        assert s.scalar(select(Group.next_meeting_on)) == dt.date(2026, 11, 27)


def test_sending_is_enqueued_only_after_commit_in_chunks(services: Services) -> None:
    _groups(services)
    queue = Queue("default", connection=services.redis)
    with services.db.transaction() as s:
        result = plan_batch(s, utc(2026, 11, 23, 15))  # plans the groups; Nairobi's is due now
        assert result.reminders == 3 and queue.count == 0
    job = queue.jobs[0]
    assert job.func_name == "jobs.sms.send_many" and sorted(job.args[0]) == sorted(result.outbox_ids)


def test_planner_cost_follows_due_groups_not_all_groups(services: Services) -> None:
    """With nothing due, a batch touches no group (the index answers); with one due, one."""
    _groups(services)
    run_planner(services, utc(2026, 11, 20))
    with services.db.transaction() as s:
        assert plan_batch(s, utc(2026, 11, 20, 1)).touched == 0
    with services.db.transaction() as s:
        assert plan_batch(s, utc(2026, 11, 22, 17, 30)).due == 1  # Stockholm's Sunday 18:00


@pytest.mark.postgres_only
def test_two_planners_at_once_still_exactly_once(services: Services, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL")
    import threading

    with services.db.transaction() as s:
        for i in range(60):
            make_group(s, f"G{i}", n=3, timezone="Africa/Nairobi", meeting_weekday=1)
    run_planner(services, utc(2026, 11, 20))
    now, errors, counts = utc(2026, 11, 23, 15), [], []
    barrier = threading.Barrier(3)

    def planner() -> None:
        try:
            barrier.wait()
            counts.append(run_planner(services, now, limit=7).reminders)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=planner) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with services.db.transaction() as s:
        total = s.scalar(select(func.count(OutboxMessage.id)))
        distinct = s.scalar(select(func.count(func.distinct(OutboxMessage.member_id))))
    assert total == distinct == 180 == sum(counts)


@pytest.mark.postgres_only
def test_two_planners_every_hour_across_both_dst_changes_exactly_once_on_time(
        services: Services, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL")
    import threading

    with services.db.transaction() as s:
        for i in range(8):
            make_group(s, f"S{i}", n=2, timezone="Europe/Stockholm", meeting_weekday=0, meeting_time=dt.time(10, 0))
            make_group(s, f"N{i}", n=2, timezone="America/New_York", meeting_weekday=0, meeting_time=dt.time(9, 0))
    seen: dict[int, dt.datetime] = {}
    now = utc(2026, 10, 24)
    while now <= utc(2026, 11, 2):
        barrier = threading.Barrier(2)

        def planner(at: dt.datetime = now, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            run_planner(services, at, limit=3)

        threads = [threading.Thread(target=planner) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with services.db.transaction() as s:
            for oid in s.scalars(select(OutboxMessage.id).where(OutboxMessage.id.not_in(list(seen) or [0]))):
                seen[oid] = now
        now += dt.timedelta(hours=1)
    rows = _reminders(services)
    assert len(rows) == len({r.dedupe_key for r in rows}) == 2 * 32  # two meetings, 32 members
    with services.db.transaction() as s:
        zone = dict(s.execute(select(Group.id, Group.timezone)).all())
    expected = {("Europe/Stockholm", "2026-10-26"): utc(2026, 10, 25, 17),  # CET now
                ("Europe/Stockholm", "2026-11-02"): utc(2026, 11, 1, 17),
                ("America/New_York", "2026-10-26"): utc(2026, 10, 25, 22),  # still EDT
                ("America/New_York", "2026-11-02"): utc(2026, 11, 1, 23)}  # EST now
    for row in rows:
        assert seen[row.id] == expected[(zone[row.group_id], row.dedupe_key.split(":")[3])]


def test_a_second_scheduler_does_nothing_while_the_first_holds_the_lock(
        services: Services, make_app: MakeApp) -> None:
    import scheduler

    other = make_app().extensions["kassa"]
    queue = Queue("default", connection=services.redis)

    class Stop(Exception):
        pass

    def one_turn(_seconds: float) -> None:
        raise Stop

    for svc in (services, other, services):
        with pytest.raises(Stop):
            scheduler.run_forever(svc, sleep=one_turn)
    names = sorted(str(job.func_name) for job in queue.jobs)
    assert names == ["jobs.outreach.loan_notices", "jobs.outreach.plan_reminders"]
