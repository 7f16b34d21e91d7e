"""Jobs queued under the names they had before the ``jobs`` package, run under their new ones.

RQ stores a job's function as its dotted name. A job enqueued (or scheduled
for a retry) by the previous release under ``messaging.sender.send_many``
must still run after an upgrade: the worker's :class:`KassaJob` looks the
old name up here. Kept for one release; delete this table (and the job
class) in the next.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq.job import Job
from rq.utils import import_attribute

#: Old dotted name -> the entry point that replaced it.
RENAMED: dict[str, str] = {
    "messaging.sender.send_outbox": "jobs.sms.send_outbox",
    "messaging.sender.send_many": "jobs.sms.send_many",
    "messaging.sender.drain": "jobs.sms.drain",
    "messaging.inbound.process_inbox": "jobs.sms.process_inbox",
    "outreach.jobs.send_many": "jobs.sms.send_many",
    "outreach.jobs.fan_out": "jobs.outreach.fan_out",
    "outreach.jobs.plan_reminders": "jobs.outreach.plan_reminders",
    "outreach.jobs.loan_notices": "jobs.outreach.loan_notices",
}


def current_name(name: str) -> str:
    """The dotted name a job enqueued as ``name`` runs under today."""
    return RENAMED.get(name, name)


class KassaJob(Job):
    """An RQ job whose function, if enqueued under an old name, is looked up under its new one."""

    @property
    def func(self) -> Callable[..., Any] | None:
        name = self.func_name
        if name is None:
            return None
        if self.instance:
            return getattr(self.instance, name)  # type: ignore[no-any-return]
        return import_attribute(current_name(name))
