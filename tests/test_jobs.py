"""The ``jobs`` package: every RQ entry point, run by the worker on the services it hands them,
and the jobs a previous release queued under their old names still run."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import select

import jobs
from jobs.renamed import RENAMED, KassaJob
from messaging.dispatch import DRAIN, PROCESS_INBOX, SEND_MANY, SEND_OUTBOX
from messaging.inbound import receive
from messaging.models import InboxMessage, InStatus, OutStatus, Priority
from messaging.outbox import queue_sms
from providers import Inbound
from tests.smskit import outbox, run_jobs
from text.plain import Letters

if TYPE_CHECKING:
    from services import Services

NOW = "2026-11-30T08:00:00+00:00"


def _row(services: Services, n: int) -> int:
    with services.db.transaction() as s:
        return queue_sms(s, to=f"+25471200{n:04d}", text="Asante", language="sw", kind="reply",
                         priority=Priority.REPLY, letters=Letters.FULL).id


def _clear(services: Services) -> None:
    for q in ("high", "default", "bulk"):
        services.queue(q).empty()  # type: ignore[no-untyped-call]  # unannotated in rq


def _stored_sms(services: Services) -> int:
    stored = receive(services, Inbound("africastalking", "AT-old-1", "+254712000001", "HELP"))
    _clear(services)  # the new-name job receive() enqueued: only the old-name one below runs it
    assert stored.inbox_id is not None  # a first delivery: stored
    return stored.inbox_id


@pytest.mark.parametrize("old", sorted(RENAMED))
def test_a_job_queued_under_its_old_name_runs(services: Services, old: str) -> None:
    arguments: dict[str, Callable[[], tuple[object, ...]]] = {
        "messaging.sender.send_outbox": lambda: (_row(services, 1),),
        "messaging.sender.send_many": lambda: ([_row(services, 2)],),
        "outreach.jobs.send_many": lambda: ([_row(services, 3)],),
        "messaging.sender.drain": lambda: (_row(services, 5) and int(Priority.REPLY),),
        "messaging.inbound.process_inbox": lambda: (_stored_sms(services),),
        "outreach.jobs.fan_out": lambda: (999,),  # no such broadcast: done at once
        "outreach.jobs.plan_reminders": lambda: (NOW,),
        "outreach.jobs.loan_notices": lambda: (NOW,),
    }
    args = arguments[old]()
    _clear(services)
    job = services.queue("default").enqueue(old, *args, job_id="old-" + old.replace(".", "-"))
    run_jobs(services)
    job = Job.fetch(job.id, connection=services.redis)
    result = job.latest_result()
    assert job.get_status() == JobStatus.FINISHED, result.exc_string if result else "no result"
    if old.rpartition(".")[2] in ("send_outbox", "send_many", "drain"):
        assert {m.status for m in outbox(services)} == {OutStatus.DELIVERED}
    if old == "messaging.inbound.process_inbox":
        with services.db.transaction() as s:
            assert s.scalar(select(InboxMessage.status)) == InStatus.DONE


def test_every_old_name_leads_to_a_job_of_the_jobs_package(services: Services) -> None:
    import importlib

    for old, new in RENAMED.items():
        module, _, name = new.rpartition(".")
        assert module.startswith("jobs.") and callable(getattr(importlib.import_module(module), name)), old
        assert KassaJob.create(old, connection=services.redis).func is getattr(importlib.import_module(module), name)


def test_the_names_the_domain_enqueues_are_jobs() -> None:
    import importlib

    from outreach import fanout

    names = [SEND_OUTBOX, SEND_MANY, DRAIN, PROCESS_INBOX, "jobs.outreach.fan_out"]
    assert "jobs.outreach.fan_out" in Path(fanout.__file__).read_text()  # enqueue_fan_out
    for name in names:
        module, _, attr = name.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attr)), name


def test_a_reply_is_sent_by_the_job_its_dispatch_names(services: Services) -> None:
    oid = _row(services, 4)
    [job] = services.queue("high").jobs
    assert job.func_name == SEND_OUTBOX == "jobs.sms.send_outbox" and job.args == (oid,)
    run_jobs(services)
    assert [m.status for m in outbox(services)] == [OutStatus.DELIVERED]


def test_a_job_run_outside_a_worker_without_services_says_so() -> None:
    from jobs.sms import drain

    with pytest.raises(RuntimeError, match="without services"):
        drain(int(Priority.REPLY))


def test_a_job_body_runs_on_the_services_it_is_given(services: Services) -> None:
    from jobs.outreach import plan_reminders

    with jobs.running(services):
        assert jobs.current() is services
        assert plan_reminders(NOW)["batches"] == 0
    with pytest.raises(RuntimeError):
        jobs.current()


def test_the_scheduler_enqueues_the_jobs_package(services: Services) -> None:
    import scheduler

    now = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    _clear(services)
    scheduler.run_due(services, {}, 0.0, now)
    names = sorted(j.func_name or "" for j in services.queue("default").jobs)
    assert names == ["jobs.outreach.loan_notices", "jobs.outreach.plan_reminders"]
    assert [t.name for t in scheduler.tasks()] == ["sms-sweeper", "plan-reminders", "loan-notices",
                                                   "resume-broadcasts", "report-figures", "expire-loans",
                                                   "announce-visits"]
