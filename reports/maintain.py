"""Keep the dashboard's aggregates up to date as transactions commit.

Which groups changed is noticed the way the ledger read cache notices it
(``ledger.invalidation``): every posting marks its group (``ledger.books.post``
calls ``ledger.books.mark_figures``), and an ORM change to a membership, a
meeting or a group marks that group at flush. Just before the transaction
commits, in the same transaction, each marked group's figures are computed
again from the ledger's cached balances (``ledger.figures.group_figures``: a
handful of indexed reads of that group, never a sum over the ledger) and the
difference from its stored row is added to its week, to its key's totals and
to its key's week. A rolled-back transaction therefore changes nothing, and a
savepoint rolled back inside a committed one is harmless: the figures are read,
not accumulated from what the postings said.

Locks: group rows first (in id order), then the totals rows in key order, then
the week rows in key order, so two committing transactions never wait for each
other in a cycle. A totals row is locked only for the commit itself.

SMS the sender recorded as sent in a transaction (``messaging.sender.SENT_SMS``)
are counted for their groups and month in that transaction, just before it
commits, the same way.

The date-dependent figures (PAR30, overdue loans, repayment rate) move with
the calendar too: :func:`refresh_due` recomputes the groups whose local date
has changed since (scheduler task ``report-figures``, every 5 minutes).
"""
from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Collection, Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from groups.models import Group, Membership
from ledger.figures import MARKED, Figures, GroupKey, group_figures, mark
from ledger.models import Meeting
from messaging.sender import SENT_SMS
from reports.models import (
    FIGURES,
    ReportGroup,
    ReportGroupWeek,
    ReportSms,
    ReportSmsTotal,
    ReportTotal,
    ReportWeek,
)

log = logging.getLogger("kassa.reports")
UTC = dt.UTC
T_GROUPS: Table = ReportGroup.__table__  # type: ignore[assignment]
T_GROUP_WEEKS: Table = ReportGroupWeek.__table__  # type: ignore[assignment]
T_TOTALS: Table = ReportTotal.__table__  # type: ignore[assignment]
T_WEEKS: Table = ReportWeek.__table__  # type: ignore[assignment]
T_SMS: Table = ReportSms.__table__  # type: ignore[assignment]
T_SMS_TOTALS: Table = ReportSmsTotal.__table__  # type: ignore[assignment]
SKIP = "kassa.figures_skip"
_OLD = (select(T_GROUPS).where(T_GROUPS.c.group_id.in_(bindparam("ids", expanding=True)))
        .order_by(T_GROUPS.c.group_id))
_OLD_FOR_UPDATE = _OLD.with_for_update()  # session.info flag: bulk loaders that rebuild afterwards


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def month_of(when: dt.datetime) -> dt.date:
    return when.astimezone(UTC).date().replace(day=1)


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


# -- noticing ------------------------------------------------------------------------

@event.listens_for(Session, "after_flush")
def _noticed(session: Session, _context: object) -> None:
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Group):
            mark(session, obj.id)
        elif isinstance(obj, (Membership, Meeting)) and obj.group_id is not None:
            mark(session, obj.group_id)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # what the ORM still holds (a changed group, a membership) is noticed now
    for when, sent in session.info.pop(SENT_SMS, ()):  # SMS the sender recorded (messaging.sender.record)
        count_sms(session, sent, when)
    marked = session.info.pop(MARKED, None)
    if not marked or session.info.get(SKIP):
        return
    refresh(session, marked, utcnow())


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:
        session.info.pop(MARKED, None)
        session.info.pop(SENT_SMS, None)


# -- writing -------------------------------------------------------------------------

def _insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_UPSERTS: dict[tuple[str, str, tuple[str, ...]], Executable] = {}


def _add(session: Session, table: Table, keys: list[str], rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Upsert ``rows``: insert, or add each of ``columns`` to the row already there (statement built once)."""
    if not rows:
        return
    cache_key = (session.get_bind().dialect.name, table.name, tuple(columns))
    stmt = _UPSERTS.get(cache_key)
    if stmt is None:
        ins = _insert(session, table)
        stmt = _UPSERTS[cache_key] = ins.on_conflict_do_update(
            index_elements=keys, set_={c: table.c[c] + ins.excluded[c] for c in columns})
    session.execute(stmt, rows)


def _next_midnight(timezone: str, day: dt.date) -> dt.datetime:
    zone = ZoneInfo(timezone or "UTC")
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone).astimezone(UTC)


def _dated(fig: Figures) -> bool:
    """Whether the figures change with the calendar (the group has loans being repaid)."""
    return bool(fig.active_loans or fig.due_so_far or fig.paid_on_time)


def refresh(session: Session, group_ids: Collection[int], now: dt.datetime) -> None:
    """Recompute the figures of ``group_ids`` and move every aggregate by the difference."""
    ids = sorted(set(group_ids))
    for start in range(0, len(ids), 1000):
        _refresh(session, ids[start:start + 1000], now)


def _refresh(session: Session, ids: list[int], now: dt.datetime) -> None:
    fresh = group_figures(session, ids, now)
    pg = session.get_bind().dialect.name == "postgresql"
    old = {r.group_id: r for r in session.execute(_OLD_FOR_UPDATE if pg else _OLD, {"ids": ids})}
    zones = {gid: g.timezone for gid in ids if (g := session.get(Group, gid)) is not None}
    group_rows: list[dict[str, Any]] = []
    group_weeks: list[dict[str, Any]] = []
    by_key: dict[GroupKey, Figures] = {}
    by_key_week: dict[tuple[GroupKey, dt.date], Figures] = {}
    for gid in ids:
        if gid not in fresh:
            continue
        key, day, fig = fresh[gid]
        week = week_of(day)
        before = old.get(gid)
        prev = Figures() if before is None else Figures(*(getattr(before, c) for c in FIGURES))
        prev_key = None if before is None else GroupKey(before.region, before.kind, before.currency)
        delta = fig.minus(prev)
        if before is not None and prev_key == key:
            if delta.is_zero() and before.as_of == day:
                continue
            moves = [(key, delta)]
        else:  # new, or moved to another region, kind or currency: out of the old key, into the new
            moves = [(key, fig)] + ([(prev_key, Figures().minus(prev))] if prev_key is not None else [])
        group_rows.append({"group_id": gid, "region": key.region, "kind": key.kind, "currency": key.currency,
                           "as_of": day, "refresh_at": _next_midnight(zones.get(gid) or "UTC", day)
                           if _dated(fig) else None, **fig.as_dict()})
        if not delta.is_zero():
            group_weeks.append({"group_id": gid, "week": week, **delta.as_dict()})
        for k, d in moves:
            if d.is_zero():
                continue
            by_key[k] = by_key.get(k, Figures()).plus(d)
            by_key_week[(k, week)] = by_key_week.get((k, week), Figures()).plus(d)
    if not group_rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = _UPSERTS.get((dialect, "report_groups", ()))
    if stmt is None:
        ins = _insert(session, T_GROUPS)
        stmt = _UPSERTS[(dialect, "report_groups", ())] = ins.on_conflict_do_update(
            index_elements=["group_id"],
            set_={c: ins.excluded[c] for c in ["region", "kind", "currency", "as_of", "refresh_at", *FIGURES]})
    session.execute(stmt, group_rows)
    _add(session, T_GROUP_WEEKS, ["group_id", "week"], group_weeks, FIGURES)
    _add(session, T_TOTALS, ["region", "kind", "currency"],
         [{**vars(k), **f.as_dict()} for k, f in sorted(by_key.items(), key=lambda kv: _order(kv[0]))
          if not f.is_zero()], FIGURES)
    _add(session, T_WEEKS, ["week", "region", "kind", "currency"],
         [{**vars(k), "week": w, **f.as_dict()} for (k, w), f in sorted(
             by_key_week.items(), key=lambda kv: (kv[0][1], *_order(kv[0][0])))
          if not f.is_zero()], FIGURES)


def _order(key: GroupKey) -> tuple[str, str, str]:
    return (key.region, key.kind, key.currency)


def refresh_due(session: Session, now: dt.datetime, limit: int = 2000) -> int:
    """Recompute the groups whose local date moved on while they have loans; how many."""
    ids = list(session.scalars(select(T_GROUPS.c.group_id).where(T_GROUPS.c.refresh_at <= now)
                               .order_by(T_GROUPS.c.refresh_at).limit(limit)))
    refresh(session, ids, now)
    return len(ids)


def count_sms(session: Session, sent: Iterable[tuple[int | None, int]], when: dt.datetime) -> None:
    """SMS the provider accepted (``messaging.sender``, a batch at a time, through ``SENT_SMS``), as (group id, segments),
    counted for their groups and month: one upsert per table for the whole batch."""
    per_group: dict[int, list[int]] = {}
    for group_id, segments in sent:
        if group_id is not None:
            counts = per_group.setdefault(group_id, [0, 0])
            counts[0] += 1
            counts[1] += segments
    if not per_group:
        return
    groups = session.execute(select(Group.id, Group.region, Group.kind, Group.currency)
                             .where(Group.id.in_(sorted(per_group)))).all()
    month = month_of(when)
    totals: dict[tuple[str, str, str], list[int]] = {}
    for g in groups:
        kind = g.kind.value if hasattr(g.kind, "value") else str(g.kind)
        into = totals.setdefault((g.region or "", kind, g.currency), [0, 0])
        into[0] += per_group[g.id][0]
        into[1] += per_group[g.id][1]
    _add(session, T_SMS, ["group_id", "month"],
         [{"group_id": g.id, "month": month, "sent": per_group[g.id][0], "segments": per_group[g.id][1]}
          for g in groups], ["sent", "segments"])
    _add(session, T_SMS_TOTALS, ["month", "region", "kind", "currency"],
         [{"month": month, "region": region, "kind": kind, "currency": currency, "sent": n, "segments": segs}
          for (region, kind, currency), (n, segs) in sorted(totals.items())], ["sent", "segments"])


def all_group_ids(session: Session) -> Iterable[int]:
    return session.scalars(select(Group.id).order_by(Group.id))
