"""Which groups a transaction changed, and dropping their cached reads once it commits.

:class:`ledger.readcache.ReadCache` keeps a member's answers under her
group's generation number (``lc:gen:<group>`` in Redis). This module moves
that number on:

* :func:`touch` marks a group (the ledger's core statements call it, see
  :func:`ledger.books.post`);
* any ORM change to a row with a ``group_id`` or to a ``Group`` is marked at
  flush;
* after the outermost transaction commits, each marked group's generation is
  incremented (a rolled-back transaction drops nothing).

The session hooks are not registered at import: each process installs them on
its own sessions with :func:`install` when it starts (``create_app``, the
worker), with the Redis they write to.
"""
from __future__ import annotations

import itertools
import logging
import weakref
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction, sessionmaker

from groups.models import Group

log = logging.getLogger("kassa.ledger.cache")

GEN_KEY = "lc:gen:{}"
GEN_SECONDS = 2 * 24 * 3600  # far longer than any cached answer lives
TOUCHED = "kassa.touched_groups"

_installed: weakref.WeakSet[sessionmaker[Session]] = weakref.WeakSet()


def touch(session: Session, group_id: int) -> None:
    """Mark ``group_id``'s cached reads stale once ``session`` commits."""
    session.info.setdefault(TOUCHED, set()).add(group_id)


def install(sessions: sessionmaker[Session], redis: Callable[[], Any]) -> None:
    """Drop the cached reads of the groups each transaction of ``sessions`` changed, after its commit.

    ``redis`` gives the client to write to (called only when a transaction
    touched a group, so a process that never writes never connects). Installing
    twice on the same sessions does nothing more.
    """
    if sessions in _installed:
        return
    _installed.add(sessions)

    def committed(session: Session) -> None:
        if session.in_nested_transaction():  # a savepoint released: the outer transaction may still roll back
            return
        touched = session.info.pop(TOUCHED, None)
        if touched:
            invalidate(redis(), touched)

    event.listen(sessions, "after_flush", _noticed)
    event.listen(sessions, "after_commit", committed)
    event.listen(sessions, "after_transaction_end", _ended)


def _noticed(session: Session, _context: UOWTransaction) -> None:
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        gid = obj.id if isinstance(obj, Group) else getattr(obj, "group_id", None)
        if isinstance(gid, int):
            touch(session, gid)


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost: after a commit (already popped) or a rollback
        session.info.pop(TOUCHED, None)


def invalidate(client: Any, group_ids: Collection[int]) -> None:
    """Start a new generation for each group: every answer cached before is dropped."""
    try:
        with client.pipeline(transaction=False) as pipe:
            for gid in sorted(group_ids):
                pipe.incr(GEN_KEY.format(gid))
                pipe.expire(GEN_KEY.format(gid), GEN_SECONDS)
            pipe.execute()
    except Exception as exc:  # the commit stands; the cached answers age out
        log.warning("could not drop cached ledger reads for %d groups: %s", len(group_ids), type(exc).__name__)
