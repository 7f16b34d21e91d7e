"""Sending outbox rows in bulk: claim a batch, send it, record it.

Every send job goes through :func:`send_rows`:

1. **claim** up to ``SMS_BATCH`` rows in ONE statement: ``pending`` ->
   ``sending`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers
   never take the same row; SQLite has one writer), with the attempt counted
   and a member's STOP turning her reminders and broadcasts ``rejected`` in
   the same statement. Rows another job already took are skipped, so a row
   enqueued twice is sent once.
2. **send** through the process's one channel (one SDK client, one
   keep-alive HTTP session): the channel groups identical texts into one
   provider request where the provider allows it (Africa's Talking), up to
   ``SMS_SEND_CONCURRENCY`` requests in flight, paced per provider account by
   :class:`~messaging.ratelimit.RateLimiter`, higher priorities first (a
   reminder or broadcast job first takes any reply waiting). Each answer is
   written at once to a Redis journal, so a worker killed before step 3 does
   not cause a second send of what the provider took.
3. **record** every row's outcome in ONE statement: ``sent`` (the provider's
   id) / ``delivered`` (console); a permanent error ``rejected``; a transient
   one back to ``pending`` with ``retry_at`` (backoff per row), ``failed``
   after :data:`MAX_ATTEMPTS`. One bad row never stops its batch.

The jobs (``jobs.sms``) call :func:`deliver` (one reply or receipt; a
transient failure raises for RQ's retry with backoff), :func:`send_chunk`
(reminder and broadcast chunks; its transient rows get one retry job after
the backoff) and :func:`drain_priority` (the sweeper's recovery: sends
whatever of that priority is ready, batch after batch, until none is left).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Table,
    and_,
    case,
    exists,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

import metrics
from groups.models import Member
from messaging.delivery_reports import EARLY_KEY, Report, apply_report
from messaging.dispatch import MAX_ATTEMPTS, RETRY_INTERVALS, SEND_MANY
from messaging.models import OutboxMessage, OutStatus, Priority
from messaging.ratelimit import RateLimiter
from providers import Channel, Delivery, Outgoing, Result, SendError, Sent

if TYPE_CHECKING:
    from redis.typing import EncodableT

    from services import Services

log = logging.getLogger("kassa.sender")

#: Kinds a member's STOP opts her out of (receipts and replies still go).
OPT_OUT_KINDS = frozenset({"reminder", "broadcast"})
#: A bulk job books the provider's rate at most this far ahead (seconds), a slice at a time.
BULK_AHEAD = 0.25
#: Replies a reminder or broadcast job takes (and sends first) before each of its slices.
STEAL = 50
#: Redis journal of answers not yet recorded: ``{identity}`` -> hash outbox id -> JSON Sent.
JOURNAL_KEY = "kassa:{}:sent"
JOURNAL_SECONDS = 86400
#: session.info key: the SMS a transaction recorded as sent, ``[(when, [(group id, segments), ...]), ...]``;
#: the dashboard's counters (``reports.maintain``) count them before that transaction commits.
SENT_SMS = "kassa.sms_sent"


class TransientSendError(RuntimeError):
    """Raised by ``send_outbox`` so RQ schedules a retry; the row is pending again."""


@dataclass(frozen=True)
class Claimed:
    id: int
    to: str
    text: str
    priority: int
    attempts: int
    language: str = ""

    def outgoing(self) -> Outgoing:
        return Outgoing(self.id, self.to, self.text, bulk=self.priority == Priority.BULK, language=self.language)


@dataclass
class Outcome:
    """What one batch came to: row id -> new status, and the rows to try again later."""

    status: dict[int, str] = field(default_factory=dict)
    retry: dict[int, float] = field(default_factory=dict)  # id -> seconds of backoff

    def merge(self, other: Outcome) -> None:
        self.status.update(other.status)
        self.retry.update(other.retry)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- what the send jobs do (``jobs.sms``) ------------------------------------------------------

def send_chunk(services: Services, outbox_ids: list[int]) -> dict[str, int]:
    """Send a chunk of rows (reminders, broadcasts); never raises for a row. Counts per new status."""
    outcome = send_rows(services, outbox_ids)
    schedule_retry(services, outcome)
    return counts(outcome)


def drain_priority(services: Services, priority: int) -> dict[str, int]:
    """Send every ready row of ``priority``, batch after batch (recovery after Redis lost its jobs)."""
    total = Outcome()
    while True:
        outcome = send_batch(services, priority=priority)
        if not outcome.status:
            break
        total.merge(outcome)
    schedule_retry(services, total)
    return counts(total)


def counts(outcome: Outcome) -> dict[str, int]:
    tally: dict[str, int] = {}
    for status in outcome.status.values():
        tally[status] = tally.get(status, 0) + 1
    return tally


def deliver(services: Services, outbox_id: int, channel: Channel | None = None) -> str:
    """Claim, pace, send and record one row; its new status ("skipped" if not pending).

    A transient failure leaves the row pending with its backoff and raises
    :class:`TransientSendError` (RQ retries the job).
    """
    outcome = send_batch(services, ids=[outbox_id], channel=channel, steal=False)
    if outbox_id in outcome.retry:
        raise TransientSendError(f"outbox {outbox_id}: transient failure, retrying")
    return outcome.status.get(outbox_id, "skipped")


def schedule_retry(services: Services, outcome: Outcome) -> None:
    """One job, after the shortest backoff, for the rows of a batch that failed transiently."""
    if not outcome.retry:
        return
    ids = sorted(outcome.retry)
    delay = dt.timedelta(seconds=min(outcome.retry.values()))
    try:
        services.queue("default").enqueue_in(delay, SEND_MANY, ids,
                                             job_id=services.job_id(f"retry-{ids[0]}-{time.time_ns()}"))
    except Exception:  # the rows are pending with retry_at: the sweeper takes them up
        log.warning("could not schedule the retry of %d rows; the sweeper will", len(ids), exc_info=True)


# -- the batch ---------------------------------------------------------------------------------

def send_rows(services: Services, ids: list[int]) -> Outcome:
    """Send the pending rows among ``ids``, a claim of ``SMS_BATCH`` at a time."""
    size = services.config.SMS_BATCH
    total = Outcome()
    for i in range(0, len(ids), size):
        total.merge(send_batch(services, ids=ids[i:i + size]))
    return total


def send_batch(services: Services, *, ids: list[int] | None = None, priority: int | None = None,
               channel: Channel | None = None, steal: bool = True) -> Outcome:
    """Claim (by ``ids``, or the next ready rows of ``priority``), send and record one batch."""
    channel = channel or services.channel()
    rows = claim(services, ids=ids, priority=priority, limit=services.config.SMS_BATCH)
    sendable = [r for r in rows if isinstance(r, Claimed)]
    outcome = Outcome(status={r: OutStatus.REJECTED.value for r in rows if isinstance(r, int)})
    if steal and sendable and min(r.priority for r in sendable) > Priority.REPLY:
        first = claim(services, priority=Priority.REPLY, limit=STEAL)  # replies never wait behind us
        sendable = [r for r in first if isinstance(r, Claimed)] + sendable
        outcome.status.update({r: OutStatus.REJECTED.value for r in first if isinstance(r, int)})
    if not sendable:
        return outcome
    results = _send(services, channel, sendable)
    outcome.merge(record(services, sendable, results))
    return outcome


def claim(services: Services, *, ids: list[int] | None = None, priority: int | None = None,
          limit: int = 500) -> list[Claimed | int]:
    """Take pending rows in ONE statement; Claimed rows to send, ints for rows rejected (opted out)."""
    from messaging.bulk import one_of

    now = utcnow()
    t = cast(Table, OutboxMessage.__table__)
    with services.db.transaction() as session:
        where = [t.c.status == OutStatus.PENDING.value]
        if ids is not None:
            where.append(one_of(session, t.c.id, ids))
        else:
            where += [t.c.priority == int(priority or 0), or_(t.c.retry_at.is_(None), t.c.retry_at <= now)]
        pick = select(t.c.id).where(*where).order_by(t.c.priority, t.c.id).limit(limit)
        if _pg(session):
            pick = pick.with_for_update(skip_locked=True)
        opted_out = and_(t.c.kind.in_(sorted(OPT_OUT_KINDS)), t.c.member_id.is_not(None),
                         exists().where(Member.id == t.c.member_id, Member.opted_out.is_(True)))
        stmt = (update(t).where(t.c.id.in_(pick.scalar_subquery()))
                .values(status=case((opted_out, literal(OutStatus.REJECTED.value)),
                                    else_=literal(OutStatus.SENDING.value)),
                        last_error=case((opted_out, literal("opted out (STOP)")), else_=t.c.last_error),
                        attempts=t.c.attempts + 1, updated_at=now)
                .returning(t.c.id, t.c.to_phone, t.c.text, t.c.priority, t.c.attempts,
                           type_coerce(t.c.status, String()), t.c.language))
        rows = list(session.execute(stmt).all())
    rows.sort(key=lambda r: (r[3], r[0]))
    return [Claimed(r[0], r[1], r[2], r[3], r[4], r[6]) if r[5] == OutStatus.SENDING.value else r[0] for r in rows]


def _pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# -- sending -------------------------------------------------------------------------------------

_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(size: int) -> ThreadPoolExecutor:
    """This process's request threads (a forked job makes its own)."""
    key = (os.getpid(), size)
    with _pools_lock:
        if key not in _pools:
            _pools[key] = ThreadPoolExecutor(size, thread_name_prefix="kassa-send")
        return _pools[key]


def _send(services: Services, channel: Channel, rows: list[Claimed]) -> dict[int, Result]:
    """Hand ``rows`` to the provider, paced, several requests in flight; an answer for each row.

    The request threads only talk HTTP; this thread journals their answers in
    Redis as they come, all the answers that came since its last look in ONE
    pipeline (a round trip per request cost a fifth of a worker's time).
    """
    requests = channel.group([r.outgoing() for r in rows])
    prio = {r.id: r.priority for r in rows}
    requests.sort(key=lambda g: prio[g[0].outbox_id])  # replies first
    config = services.config
    limiter = RateLimiter(services.redis, f"{channel.name}:{channel.account}", config.SMS_RATE_PER_SECOND)
    journal = JOURNAL_KEY.format(services.identity)
    parallel = getattr(channel, "parallel", False) and config.SMS_SEND_CONCURRENCY > 1
    pool = _pool(config.SMS_SEND_CONCURRENCY) if parallel else None
    slice_size = max(1, int(config.SMS_RATE_PER_SECOND * BULK_AHEAD)) if limiter.limited else len(rows)
    results: dict[int, Result] = {}
    pending: dict[Future[list[Result]], list[Outgoing]] = {}

    def collect(block: bool) -> None:
        """Journal and keep the answers in: all of them if ``block``, else those already there."""
        while pending:
            done, _ = wait(pending, timeout=None if block else 0, return_when=FIRST_COMPLETED)
            if not done:
                return
            answered = [(pending.pop(f), f.result()) for f in done]
            _journal(services, journal, answered)
            for group, answers in answered:
                results.update({m.outbox_id: a for m, a in zip(group, answers, strict=True)})

    i = 0
    while i < len(requests):
        batch: list[list[Outgoing]] = []
        count = 0
        while i < len(requests) and (not batch or count + len(requests[i]) <= slice_size):
            batch.append(requests[i])
            count += len(requests[i])
            i += 1
        if limiter.limited:
            collect(block=False)  # what came in while the limiter let us wait
            reply = prio[batch[0][0].outbox_id] == Priority.REPLY
            limiter.wait(count, None if reply else BULK_AHEAD)
        for group in batch:
            if pool is not None:
                pending[pool.submit(_send_group, channel, group)] = group
            else:
                answers = _send_group(channel, group)
                _journal(services, journal, [(group, answers)])
                results.update({m.outbox_id: a for m, a in zip(group, answers, strict=True)})
    collect(block=True)
    return results


def _send_group(channel: Channel, group: list[Outgoing]) -> list[Result]:
    """One provider request: an answer per message, whatever happens."""
    try:
        return channel.send_group(group)
    except Exception as exc:  # a bug or an unexpected SDK error: this request's rows retry, the batch goes on
        log.exception("send to %s failed unexpectedly", channel.name)
        return [SendError(channel.name, "error", f"{type(exc).__name__}: {exc}"[:200], permanent=False)] * len(group)


def _journal(services: Services, journal: str, answered: list[tuple[list[Outgoing], list[Result]]]) -> None:
    """Write what the provider took to the Redis journal (one pipeline), before anything else happens."""
    sent: dict[EncodableT, EncodableT] = {m.outbox_id: json.dumps([a.provider, a.provider_id, a.delivered])
            for group, answers in answered for m, a in zip(group, answers, strict=True) if isinstance(a, Sent)}
    if sent:
        try:
            with services.redis.pipeline(transaction=False) as pipe:
                pipe.hset(journal, mapping=sent)
                pipe.expire(journal, JOURNAL_SECONDS)
                pipe.execute()
        except Exception:  # Redis down: the record statement still follows in a moment
            log.warning("could not journal %d sent messages", len(sent), exc_info=True)


# -- recording -----------------------------------------------------------------------------------

RESULT_COLUMNS = (("id", Integer()), ("status", String()), ("provider", String()), ("provider_id", String()),
                  ("last_error", String()), ("retry_at", DateTime(timezone=True)))


def record(services: Services, rows: list[Claimed], results: dict[int, Result]) -> Outcome:
    """Write every row's outcome in ONE statement; then apply early delivery reports."""
    from messaging.bulk import json_rows

    now = utcnow()
    outcome = Outcome()
    values: list[tuple[int, str, str | None, str | None, str | None, dt.datetime | None]] = []
    tally: dict[tuple[str | None, str], int] = {}
    for row in rows:
        answer = results[row.id]
        if isinstance(answer, Sent):
            status = OutStatus.DELIVERED if answer.delivered else OutStatus.SENT
            values.append((row.id, status.value, answer.provider, answer.provider_id, None, None))
        else:
            retry = not answer.permanent and row.attempts < MAX_ATTEMPTS
            status = OutStatus.REJECTED if answer.permanent else (OutStatus.PENDING if retry else OutStatus.FAILED)
            delay = RETRY_INTERVALS[min(row.attempts, len(RETRY_INTERVALS)) - 1]
            values.append((row.id, status.value, answer.provider, None, str(answer)[:255],
                           now + dt.timedelta(seconds=delay) if retry else None))
            if retry:
                outcome.retry[row.id] = delay
            log.warning("outbox %s attempt %s: %s (%s)", row.id, row.attempts, answer, status.value)
        outcome.status[row.id] = status.value
        tally[(answer.provider, status.value)] = tally.get((answer.provider, status.value), 0) + 1
    for (provider, state), count in tally.items():
        metrics.sms_status(provider, state, count)
    t = cast(Table, OutboxMessage.__table__)
    with services.db.transaction() as session:
        stamp = _stamp(session)
        src = json_rows(session, "result", RESULT_COLUMNS,
                        [(*v[:5], stamp(v[5]) if v[5] else None) for v in values])
        sent = src.c.status.in_([OutStatus.SENT.value, OutStatus.DELIVERED.value])
        moved = session.execute(
            update(t).where(t.c.id == src.c.id, t.c.status == OutStatus.SENDING.value)
            .values(status=src.c.status, provider=src.c.provider, provider_id=src.c.provider_id,
                    last_error=src.c.last_error, retry_at=src.c.retry_at, updated_at=now,
                    sent_at=case((sent, now), else_=t.c.sent_at))
            .returning(t.c.group_id, t.c.segments, t.c.status)).all()
        # the dashboard's "SMS sent this month", in the same transaction as the rows it counts
        session.info.setdefault(SENT_SMS, []).append(
            (now, [(r.group_id, r.segments) for r in moved
                   if r.status in (OutStatus.SENT.value, OutStatus.DELIVERED.value)]))
    _forget(services, [row.id for row in rows])
    _take_parked(services, [a for a in results.values() if isinstance(a, Sent) and not a.delivered])
    return outcome


def _stamp(session: Session) -> Callable[[Any], Any]:
    """A datetime as the dialect stores it, for a JSON-carried value (SQLite compares strings)."""
    if _pg(session):
        return lambda value: value.isoformat()
    process = OutboxMessage.__table__.c.retry_at.type.dialect_impl(session.get_bind().dialect).bind_processor(
        session.get_bind().dialect)
    return process if process is not None else (lambda value: value)


def _forget(services: Services, ids: list[int]) -> None:
    try:
        services.redis.hdel(JOURNAL_KEY.format(services.identity), *ids)
    except Exception:
        log.warning("could not clear the send journal", exc_info=True)


def journalled(services: Services, ids: list[int]) -> dict[int, Sent]:
    """The answers the journal holds for ``ids`` (rows a dead worker sent but never recorded)."""
    if not ids:
        return {}
    raw = services.redis.hmget(JOURNAL_KEY.format(services.identity), ids)
    out = {}
    for oid, value in zip(ids, raw, strict=True):
        if value:
            provider, provider_id, delivered = json.loads(value)
            out[oid] = Sent(provider, provider_id, delivered)
    return out


def record_journalled(services: Services, found: dict[int, Sent]) -> None:
    """Record what the journal says was sent, for rows still ``sending`` (the sweeper's recovery)."""
    if not found:
        return
    rows = [Claimed(oid, "", "", 0, 1) for oid in found]
    record(services, rows, dict(found))


def _take_parked(services: Services, sent: list[Sent]) -> None:
    """Apply the delivery reports that arrived before their message ids were saved (one round trip)."""
    if not sent:
        return
    keys = [EARLY_KEY.format(s.provider, s.provider_id) for s in sent]
    try:
        with services.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.getdel(key)
            parked = pipe.execute()
    except Exception as exc:
        log.warning("could not look for early delivery reports: %s", type(exc).__name__)
        return
    early = [(s, raw) for s, raw in zip(sent, parked, strict=True) if raw]
    if early:
        with services.db.transaction() as session:
            for s, raw in early:
                status, error = json.loads(raw)
                apply_report(session, Report(s.provider, s.provider_id, Delivery(status), error))
