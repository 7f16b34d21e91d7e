"""Set-based writes into the outbox, exactly once by its unique ``dedupe_key``.

PostgreSQL and SQLite both take ``INSERT ... ON CONFLICT (dedupe_key) DO
NOTHING ... RETURNING id`` (SQLAlchemy's dialect inserts), so a replayed
batch, a second planner or a resumed fan-out adds nothing: the database
refuses the duplicate, not our code.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    Select,
    String,
    any_,
    cast,
    column,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.sql.selectable import NamedFromClause
from sqlalchemy.types import TypeEngine

from db import on_commit
from messaging.models import OutboxMessage

if TYPE_CHECKING:
    from services import Services

#: Outbox columns the fan-out fills, in this order (the rest take their defaults).
OUTBOX_COLUMNS = ("to_phone", "member_id", "group_id", "text", "language", "encoding", "segments",
                  "priority", "kind", "dedupe_key", "status", "attempts")
SEND_CHUNK = 500


def _insert(session: Session) -> Callable[[TableClause], Any]:
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)


def json_rows(session: Session, name: str, columns: Sequence[tuple[str, TypeEngine[Any]]],
              rows: Sequence[Sequence[Any]]) -> NamedFromClause:
    """``rows`` as a table in the query, sent as ONE JSON parameter.

    Thousands of bound values cost SQLAlchemy more to compile than the
    database takes to insert the rows, so the rows travel as a JSON array:
    ``json_to_recordset`` on PostgreSQL, ``json_each`` on SQLite.
    """
    payload = json.dumps([dict(zip((c for c, _ in columns), row, strict=True)) for row in rows])
    if session.get_bind().dialect.name == "postgresql":
        fn = func.json_to_recordset(cast(literal(payload, String()), JSON()))
        return fn.table_valued(*(column(c, t) for c, t in columns)).render_derived(name=name, with_types=True)
    each = func.json_each(literal(payload)).table_valued("value")
    return select(*(func.json_extract(each.c.value, f"$.{c}").label(c) for c, _ in columns)).subquery(name)


def one_of(session: Session, col: SQLCoreOperations[int], values: Sequence[int]) -> ColumnElement[bool]:
    """``col IN (values)``; on PostgreSQL ``col = ANY(:values)``, ONE array parameter.

    A thousand separate parameters cost SQLAlchemy and the driver more to
    render and parse than the database takes to answer.
    """
    if session.get_bind().dialect.name == "postgresql":
        return col == any_(literal(list(values), postgresql.ARRAY(Integer())))
    return col.in_(values)


def no_jit(session: Session) -> None:
    """Turn PostgreSQL's JIT off for the rest of the transaction.

    Bulk statements over a few thousand rows cost enough to trigger it, and
    compiling each one-off statement (~50 ms) costs more than it saves.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def no_commit_wait(session: Session) -> None:
    """Let this transaction's commit return before its WAL reaches the disk (PostgreSQL).

    Only for batches that are atomic and repeatable: a crash in the next
    fraction of a second loses the whole batch (its rows and the cursor that
    moved with them) and the next run writes it again; nothing is half done.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))


def insert_outbox_from_select(session: Session, source: Select[*tuple[Any, ...]]) -> list[int]:
    """INSERT INTO outbox (OUTBOX_COLUMNS) ``source`` skipping existing dedupe keys; new row ids."""
    table: TableClause = OutboxMessage.__table__  # type: ignore[assignment]  # a mapped class's table
    no_jit(session)
    stmt = (_insert(session)(table).from_select(list(OUTBOX_COLUMNS), source)
            .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id))
    if session.get_bind().dialect.name == "postgresql":
        # the new ids as ONE array value: thousands of one-column result rows cost
        # SQLAlchemy more to process than the database takes to write them
        return list(session.scalar(select(func.array_agg(stmt.cte("written").c.id))) or [])
    return list(session.execute(stmt).scalars().all())


def insert_outbox_rows(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert outbox rows (dicts of OUTBOX_COLUMNS) skipping existing dedupe keys; new row ids.

    The rows travel as ONE JSON parameter (:func:`json_rows`): a multi-row VALUES
    of 12 bound values a row cost SQLAlchemy 0.5 ms a row to compile, most of
    the planner's time for a group of borrowers (bench/outreach.py).
    """
    if not rows:
        return []
    table = OutboxMessage.__table__
    columns = [(c, table.c[c].type) for c in OUTBOX_COLUMNS]
    src = json_rows(session, "o", columns, [tuple(row[c] for c in OUTBOX_COLUMNS) for row in rows])
    # the WHERE: SQLite's parser takes "ON CONFLICT" after a bare FROM for a join's ON
    return insert_outbox_from_select(session, select(*(src.c[c] for c in OUTBOX_COLUMNS)).where(text("1 = 1")))


def send_after_commit(session: Session, ids: Sequence[int], priority: int) -> None:
    """After the commit, enqueue sending of ``ids`` in chunks (one RQ job per chunk)."""
    if ids:
        on_commit(session, enqueue_sends, list(ids), int(priority))


def enqueue_sends(services: Services, ids: list[int], priority: int) -> None:
    """One ``jobs.sms.send_many`` job per chunk of ids, with a deterministic job id.

    A lost enqueue (Redis down, process killed) leaves the rows pending for the
    outbox sweeper, so nothing is lost and nothing is sent twice.
    """
    import metrics
    from messaging.dispatch import QUEUE_FOR_PRIORITY, SEND_MANY, log
    from messaging.models import Priority

    try:
        queue = services.queue(QUEUE_FOR_PRIORITY.get(Priority(priority), "default"))
        with services.redis.pipeline() as pipe:
            jobs = [queue.prepare_data(SEND_MANY, (ids[i:i + SEND_CHUNK],),
                                       job_id=services.job_id(
                                           f"send-many-{ids[i]}-{ids[min(i + SEND_CHUNK, len(ids)) - 1]}"))
                    for i in range(0, len(ids), SEND_CHUNK)]
            queue.enqueue_many(jobs, pipeline=pipe)
            pipe.execute()
        metrics.sms_queued(queue.name, len(ids))
    except Exception:
        log.warning("could not enqueue %d outbox rows; the sweeper will", len(ids), exc_info=True)
