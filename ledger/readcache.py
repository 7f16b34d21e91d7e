"""A member's ledger reads (position, mini-statement) kept in Redis until her group's books change.

A USSD "My savings" costs four indexed reads; the same answer is asked for
again and again between two meetings. This cache keeps each answer for at
most ``max_age`` seconds and drops it as soon as anything in her group is
written, so she never reads a figure older than her group's last commit.

How "drops" is made safe without locks: every group has a generation number
in Redis (``lc:gen:<group>``). A read fetches the generation together with
the cached answer and keeps the answer only if it was stored under the
current generation. After a transaction that touched a group commits, the
generation is incremented. A reader that read the database before that
commit stored its answer under the old generation, so nobody ever takes it:

* the ledger's own core statements (:func:`ledger.books.post`) call
  :func:`ledger.invalidation.touch`;
* any ORM change to a row with a ``group_id`` (loans, memberships,
  transactions marked reversed, cycles, meetings) or to a ``Group`` itself
  (its saving rule, its meeting day) is noticed at flush;
* the increment runs on the session's ``after_commit``, whoever commits it,
  so a rolled-back transaction invalidates nothing and a committed one
  cannot forget to.

The marking and the increment are :mod:`ledger.invalidation`'s, installed on a
process's sessions when it starts (``ledger.invalidation.install``).

If Redis refuses the increment the answer can be stale for at most
``max_age`` seconds (logged); the database remains the only record.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, TypeVar

from ledger.invalidation import GEN_KEY
from ledger.loans import Due
from ledger.queries import Entry, Position

VALUE_KEY = "lc:{}:{}"  # group, field

T = TypeVar("T")


class ReadCache:
    """Cached ledger answers for one Redis client."""

    def __init__(self, client: Any, max_age: int = 600) -> None:
        self.redis = client
        self.max_age = max_age

    def fetch(self, group_id: int, field: str, load: Callable[[], T],
              dump: Callable[[T], Any], undump: Callable[[Any], T]) -> T:
        """The cached answer for ``field`` of ``group_id``, or ``load()`` (then cached)."""
        key = VALUE_KEY.format(group_id, field)
        gen_raw, raw = self.redis.mget([GEN_KEY.format(group_id), key])
        gen = int(gen_raw or 0)
        if raw:
            stored = json.loads(raw)
            if stored[0] == gen:
                return undump(stored[1])
        value = load()
        self.redis.set(key, json.dumps([gen, dump(value)], separators=(",", ":")), ex=self.max_age)
        return value


def cached_position(cache: ReadCache | None, group_id: int, member_id: int, today: dt.date,
                    load: Callable[[], Position]) -> Position:
    """``load()`` through ``cache`` (when there is one): her position as of ``today``."""
    if cache is None:
        return load()
    return cache.fetch(group_id, f"pos:{member_id}:{today.isoformat()}", load, dump_position, load_position)


def cached_statement(cache: ReadCache | None, group_id: int, member_id: int, limit: int,
                     load: Callable[[], list[Entry]]) -> list[Entry]:
    """``load()`` through ``cache``: her last ``limit`` entries."""
    if cache is None:
        return load()
    return cache.fetch(group_id, f"stmt:{member_id}:{limit}", load, dump_entries, load_entries)


def dump_position(pos: Position) -> dict[str, Any]:
    values = dict(vars(pos))
    values["next_meeting"] = pos.next_meeting.isoformat()
    due = pos.next_instalment
    values["next_instalment"] = [due.amount, due.on.isoformat()] if due is not None else None
    return values


def load_position(values: dict[str, Any]) -> Position:
    values = dict(values)
    values["next_meeting"] = dt.date.fromisoformat(values["next_meeting"])
    due = values["next_instalment"]
    values["next_instalment"] = Due(due[0], dt.date.fromisoformat(due[1])) if due is not None else None
    return Position(**values)


def dump_entries(entries: list[Entry]) -> list[list[Any]]:
    return [[e.on.isoformat(), e.kind, e.amount, e.ref, e.reversed, e.reverses, e.memo] for e in entries]


def load_entries(rows: list[list[Any]]) -> list[Entry]:
    return [Entry(dt.date.fromisoformat(r[0]), r[1], r[2], r[3], r[4], r[5], r[6] if len(r) > 6 else None)
            for r in rows]
