"""Coordinator broadcasts: scope, preview, confirmation, fan-out exactly once, status."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from rq import Queue
from sqlalchemy import func, select

from groups.models import Coordinator, Member
from groups.service import add_member, get_group
from jobs.schedule import resume_broadcasts as task_resume_broadcasts
from messaging.models import OutboxMessage, OutStatus
from outreach import broadcast as bc
from outreach import fanout
from outreach.models import Broadcast, BroadcastStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flask.testing import FlaskCliRunner
    from sqlalchemy import Row
    from sqlalchemy.orm import Session

    from services import Services
    from tests.fixture_types import DemoPeople

UTC = dt.UTC
KES = bc.Price(80, "KES")


def _outbox(services: Services) -> Sequence[Row[int | None, str, str, str, str | None, str]]:
    with services.db.transaction() as s:
        return s.execute(select(OutboxMessage.member_id, OutboxMessage.text, OutboxMessage.language,
                                OutboxMessage.encoding, OutboxMessage.dedupe_key, OutboxMessage.kind)).all()


def _coordinator(s: Session, phone: str) -> Coordinator:
    return s.scalars(select(Coordinator).where(Coordinator.phone == phone)).one()


def test_cli_previews_then_sends_once_to_every_member_in_her_language(
        runner: FlaskCliRunner, services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        s.scalars(select(Member).where(Member.phone == "+254712000004")).one().opted_out = True  # sent STOP
    result = runner.invoke(args=["broadcast", "send", "Training on Friday at 10.", "--all", "--sender", "HiH",
                                 "--yes", "--price", "0.80"])
    assert result.exit_code == 0, result.output
    assert "recipients" in result.output and "12" in result.output  # 13 members, one said STOP
    rows = _outbox(services)
    assert len(rows) == 12 and len({r.member_id for r in rows}) == 12
    by_lang = {r.language: r for r in rows}
    assert by_lang["en"].text == "HiH: Training on Friday at 10."
    assert by_lang["az"].text.endswith("Training on Friday at 10.")
    assert {r.kind for r in rows} == {"broadcast"}


def test_cli_asks_and_a_no_sends_nothing(runner: FlaskCliRunner, services: Services,
                                         demo: DemoPeople) -> None:
    result = runner.invoke(args=["broadcast", "send", "Hello", "--group", "UPENDO"], input="n\n")
    assert result.exit_code == 0 and "cancelled" in result.output
    assert _outbox(services) == []
    with services.db.transaction() as s:
        assert s.scalar(select(Broadcast.status)) == BroadcastStatus.CANCELLED


def test_preview_counts_segments_by_language_and_encoding_and_the_plain_saving(
        services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(everyone=True), key="k1",
                                message="Görüş cümə günü saat 10-da olacaq. " * 3, sender="İcma mərkəzi")
        view = bc.preview(s, b, KES)
    lines = {(line.language, line.plain): line for line in view.lines}
    az = lines[("az", False)]
    assert az.encoding == "ucs2" and az.recipients == 5 and az.segments == 2
    assert az.cost == 5 * 2 * 80
    assert view.recipients == 13 and view.cost == sum(line.cost for line in view.lines)
    assert view.plain_cost < view.cost and view.saving == view.cost - view.plain_cost


def test_plain_broadcast_is_gsm7_for_everyone(services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(codes=("BERDE1",)), key="k",
                                message="Görüş cümə günü", sender="Mərkəz", plain=True)
        bc.confirm(s, b, dt.datetime.now(UTC), enqueue=False)
    bc.run_fan_out(services, b.id)
    rows = _outbox(services)
    assert {r.encoding for r in rows} == {"gsm7"} and rows[0].text == "Merkez: Görüs cüme günü"  # ö, ü are GSM-7


def test_coordinator_only_within_her_scope(services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        joseph = _coordinator(s, "+254712000099")  # Kisumu, UPENDO
        with pytest.raises(bc.BroadcastError) as err:
            bc.create_broadcast(s, coordinator=joseph, target=bc.Target.parse("BERDE1"), message="x", key="a")
        assert err.value.code == "not_your_group"
        with pytest.raises(bc.BroadcastError) as err:
            bc.create_broadcast(s, coordinator=joseph, target=bc.Target(regions=("Bərdə",)), message="x", key="b")
        assert err.value.code == "not_your_region"
        with pytest.raises(bc.BroadcastError) as err:
            bc.create_broadcast(s, coordinator=joseph, target=bc.Target.parse("NOPE"), message="x", key="c")
        assert err.value.code == "unknown_group"
        mine = bc.create_broadcast(s, coordinator=joseph, target=bc.Target.parse("ALL"), message="x", key="d")
        assert mine.recipients == 4  # ALL means her groups: UPENDO only
    from i18n import translator

    assert "BERDE1" in bc.BroadcastError("not_your_group", "Group {code} is not one of yours.",
                                         code="BERDE1").render(translator("az"))


def test_region_and_a_member_in_two_target_groups_gets_it_once(services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        upendo = get_group(s, "UPENDO")
        berde = get_group(s, "BERDE1")
        add_member(s, berde, phone="+254712000003", name="Faith Njeri")  # also in UPENDO
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(codes=("BERDE1",), regions=("Kisumu",)),
                                message="Hi", key="r")
        bc.confirm(s, b, dt.datetime.now(UTC), enqueue=False)
        assert upendo.region == "Kisumu"
    bc.run_fan_out(services, b.id, batch=2)
    rows = _outbox(services)
    assert len(rows) == 9 == len({r.member_id for r in rows})


def test_fan_out_twice_and_a_rolled_back_batch_leave_no_duplicate_and_no_gap(
        services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(everyone=True), message="Hi", key="x")
        bc.confirm(s, b, dt.datetime.now(UTC), enqueue=False)
    with services.db.transaction() as s:
        bc.fan_out_batch(s, b.id, batch=1)
    with pytest.raises(RuntimeError):  # a worker dying mid-batch: its rows and cursor roll back together
        with services.db.transaction() as s:
            bc.fan_out_batch(s, b.id, batch=1)
            raise RuntimeError("killed")
    bc.run_fan_out(services, b.id, batch=1)
    bc.run_fan_out(services, b.id, batch=1)  # a replayed job
    with services.db.transaction() as s:  # a cursor moved back (a stale job) rewrites nothing
        s.get_one(Broadcast, b.id).cursor = 0
        s.get_one(Broadcast, b.id).status = BroadcastStatus.SENDING
    bc.run_fan_out(services, b.id, batch=2)
    keys = Counter(r.dedupe_key for r in _outbox(services))
    assert len(keys) == 13 and max(keys.values()) == 1
    with services.db.transaction() as s:
        b = s.get_one(Broadcast, b.id)
        assert b.status == BroadcastStatus.DONE and b.written == 13


def test_parts_written_in_parallel_then_a_kill_before_the_cursor_moves(
        services: Services, demo: DemoPeople) -> None:
    """Lanes commit their parts first and move the cursor after: a kill in between leaves rows past
    the cursor, which the resumed run skips by their keys; ``written`` is recounted at the end."""
    with services.db.transaction() as s:
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(everyone=True), message="Hi", key="p")
        bc.confirm(s, b, dt.datetime.now(UTC), enqueue=False)
        first_groups = fanout._next_groups(s, b, 2)
    assert fanout._write_part(services, b.id, False, first_groups, pause=0) > 0  # committed; then the kill
    with services.db.transaction() as s:
        assert s.get_one(Broadcast, b.id).cursor == 0
    summary = bc.run_fan_out(services, b.id, batch=1, lanes=2)
    keys = Counter(r.dedupe_key for r in _outbox(services))
    assert summary.done and len(keys) == 13 and max(keys.values()) == 1
    with services.db.transaction() as s:
        b = s.get_one(Broadcast, b.id)
        assert b.status == BroadcastStatus.DONE and b.written == 13


def test_sending_enqueued_on_bulk_after_each_batch_commits(services: Services, demo: DemoPeople) -> None:
    bulk = Queue("bulk", connection=services.redis)
    with services.db.transaction() as s:
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(everyone=True), message="Hi", key="q")
        bc.confirm(s, b, dt.datetime.now(UTC), enqueue=False)
    with services.db.transaction() as s:
        step = bc.fan_out_batch(s, b.id, batch=2)
        assert bulk.count == 0
    assert [job.args[0] for job in bulk.jobs] == [step.outbox_ids]


def test_status_counts_rows_by_delivery(runner: FlaskCliRunner, services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(codes=("UPENDO",)), message="Hi", key="s")
        bc.confirm(s, b, dt.datetime.now(UTC), enqueue=False)
    bc.run_fan_out(services, b.id)
    with services.db.transaction() as s:
        row = s.scalars(select(OutboxMessage).limit(1)).one()
        row.status = OutStatus.DELIVERED
    with services.db.transaction() as s:
        report = bc.broadcast_status(s, b.id)
        assert report is not None
    assert report.status == "done" and report.written == 4
    assert report.by_status == {"pending": 3, "delivered": 1}
    out = runner.invoke(args=["broadcast", "status", str(b.id)]).output
    assert "done" in out and "delivered: 1" in out and "pending: 3" in out


def test_sms_entry_point_is_idempotent_on_the_message_id(services: Services, demo: DemoPeople) -> None:
    queue = Queue("default", connection=services.redis)
    with services.db.transaction() as s:
        elvin = _coordinator(s, "+994501110099")
        view = bc.draft_by_sms(s, elvin, "BERDE1", "Sabah iclas var", key="sms-ATXid_1", price=KES)
    assert view.recipients == 5 and queue.job_ids == []
    with services.db.transaction() as s:
        again = bc.draft_by_sms(s, _coordinator(s, "+994501110099"), "BERDE1", "Sabah iclas var",
                                key="sms-ATXid_1", price=KES)
        assert again.broadcast_id == view.broadcast_id
        assert s.scalar(select(func.count(Broadcast.id))) == 1


def test_empty_message_refused_and_nothing_written(services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        with pytest.raises(bc.BroadcastError) as err:
            bc.draft_by_sms(s, _coordinator(s, "+994501110099"), "BERDE1", "   ", key="e")
    assert err.value.code == "empty_message"
    with services.db.transaction() as s:
        assert s.scalar(select(func.count(Broadcast.id))) == 0


def test_scheduler_resumes_a_stalled_broadcast(services: Services, demo: DemoPeople) -> None:
    now = dt.datetime.now(UTC)
    with services.db.transaction() as s:
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(everyone=True), message="Hi", key="z")
        bc.confirm(s, b, now - dt.timedelta(minutes=10), enqueue=False)
    task_resume_broadcasts(services, now)
    queue = Queue("default", connection=services.redis)
    assert [j.func_name for j in queue.jobs] == ["jobs.outreach.fan_out"] and queue.jobs[0].args == (b.id,)
    with services.db.transaction() as s:
        assert bc.stalled_broadcasts(s, now - dt.timedelta(minutes=30)) == []


def test_narrowing_by_language_role_and_project_counts_what_the_fan_out_writes(
        services: Services, demo: DemoPeople) -> None:
    from orgs.models import Project, ProjectGroup

    with services.db.transaction() as s:
        project = Project(code="P1", name="Pilot")
        s.add(project)
        s.flush()
        s.add(ProjectGroup(project_id=project.id, group_id=get_group(s, "BANPHO").id))
        s.flush()
        cases = {
            "az": bc.Target(everyone=True, languages=("az",)),
            "treasurers": bc.Target(everyone=True, roles=("treasurer",)),
            "project": bc.Target(projects=(project.id,)),
            "project-upendo": bc.Target(codes=("UPENDO",), projects=(project.id,)),
            "vi-chairs": bc.Target(everyone=True, languages=("vi",), roles=("chair",)),
        }
        made = {name: bc.create_broadcast(s, coordinator=None, target=t, key=name, message="Hello", sender="HiH")
                for name, t in cases.items()}
        counts = {name: b.recipients for name, b in made.items()}
        ids = {name: b.id for name, b in made.items()}
        for b in made.values():
            bc.confirm(s, b, dt.datetime.now(UTC), enqueue=False)
    assert counts == {"az": 5, "treasurers": 3, "project": 4, "project-upendo": 0, "vi-chairs": 1}
    for name, bid in ids.items():
        bc.run_fan_out(services, bid)
        with services.db.transaction() as s:
            lo, hi = bc.dedupe_range(bid)
            rows = s.execute(select(OutboxMessage.language, OutboxMessage.group_id)
                             .where(OutboxMessage.dedupe_key >= lo, OutboxMessage.dedupe_key < hi)).all()
            assert len(rows) == counts[name], name
            if name == "az":
                assert {r.language for r in rows} == {"az"}
            if name == "project":
                assert {r.group_id for r in rows} == {get_group(s, "BANPHO").id}


def test_a_text_per_language_and_the_cost_in_each_group_currency(
        services: Services, demo: DemoPeople) -> None:
    prices = bc.Prices({"KES": 80, "AZN": 4})  # no VND price configured
    with services.db.transaction() as s:
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(everyone=True), key="multi",
                                message="Meeting on Friday.", sender="HiH",
                                messages={"az": "Cümə günü iclas.", "vi": "Họp vào thứ Sáu."})
        view = bc.preview(s, b, prices)
        texts = {(t.language, t.plain): t.text for t in b.texts}
        bc.confirm(s, b, dt.datetime.now(UTC), enqueue=False)
    assert texts[("az", False)].endswith("Cümə günü iclas.") and texts[("en", False)] == "HiH: Meeting on Friday."
    assert texts[("vi", True)] == "HiH: Hop vào thu Sau."  # plain letters keep what GSM-7 has
    costs = {c.currency: c for c in view.costs}
    assert set(costs) == {"AZN", "KES", "VND"} and not costs["VND"].priced and costs["VND"].cost == 0
    assert costs["KES"].cost == sum(line.cost for line in view.lines if line.currency == "KES")
    assert costs["AZN"].cost == 5 * 4 * max(line.segments for line in view.lines if line.currency == "AZN")
    assert sum(c.recipients for c in view.costs) == view.recipients == 13
    bc.run_fan_out(services, b.id)
    sent = {r.language: r.text for r in _outbox(services)}
    assert sent["az"].endswith("Cümə günü iclas.") and sent["vi"].endswith("Họp vào thứ Sáu.")


def test_resume_takes_up_a_stopped_fan_out_and_retries_failed_messages(
        services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(everyone=True), key="r", message="Hi")
        bc.confirm(s, b, dt.datetime.now(UTC), enqueue=False)
        bid = b.id
    with services.db.transaction() as s:
        bc.fan_out_batch(s, bid, batch=1)  # one group written, then the worker "dies"
    with services.db.transaction() as s:
        first = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        first[0].status, first[0].attempts, first[0].last_error = OutStatus.FAILED, 5, "gave up"
    with services.db.transaction() as s:
        assert bc.resume(s, s.get_one(Broadcast, bid), dt.datetime.now(UTC)) == 1
    with services.db.transaction() as s:
        assert s.get_one(OutboxMessage, first[0].id).status == OutStatus.PENDING
    assert any(j.startswith(services.job_id(f"fanout-{bid}-")) for j in Queue("default", connection=services.redis).job_ids)
    bc.run_fan_out(services, bid)
    assert len(_outbox(services)) == 13
