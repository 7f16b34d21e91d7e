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

The same difference moves the rollups per place subtree and per project
(``report_rollups`` and its weeks): under every place of the group's place path
and under each of its projects, read when the group is refreshed (one
statement for the batch). A group that moved place, joined a project or changed
region, kind or currency is taken out of the rollups it was counted in
(``report_groups.place_path`` / ``projects``) and put into its new ones, as the
totals per region do. Joining a project (a new ``project_groups`` row) marks the
group like a membership does. SMS are counted, like the totals per region,
under the rollups the group was in when they were sent.

Field visits keep ``report_groups.last_visit`` and ``quiet_on`` (the dashboard's
count of groups nobody visited lately, an index range): a new visit moves them
forward in the same transaction; a refresh sets ``quiet_on`` from the group's
status and formation day.
"""
from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    DateTime,
    Integer,
    String,
    Table,
    bindparam,
    case,
    event,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from field.models import Visit
from groups.models import Group, Membership, Status
from ledger.figures import MARKED, Figures, GroupKey, group_figures, mark
from ledger.models import Meeting
from messaging.sender import SENT_SMS
from orgs.models import Place, ProjectGroup
from reports.models import (
    FIGURES,
    ReportGroup,
    ReportGroupWeek,
    ReportRollup,
    ReportRollupSms,
    ReportRollupWeek,
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
T_ROLLUPS: Table = ReportRollup.__table__  # type: ignore[assignment]
T_ROLLUP_WEEKS: Table = ReportRollupWeek.__table__  # type: ignore[assignment]
T_ROLLUP_SMS: Table = ReportRollupSms.__table__  # type: ignore[assignment]
SKIP = "kassa.figures_skip"
VISITED = "kassa.visited"  # session.info: group id -> the latest visit day flushed in this transaction
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
#: Each group's formation time, status and place path, and each of its projects, as the database has
#: them now: (group id, created_at, status, path, None) and (group id, None, None, None, project id).
_WHEREABOUTS: CompoundSelect[Any] = union_all(
    select(Group.id, Group.created_at, Group.status, Place.path, literal(None, Integer))
    .outerjoin(Place, Place.id == Group.place_id).where(Group.id.in_(_IDS)),
    select(ProjectGroup.group_id, literal(None, DateTime(timezone=True)), literal(None, String),
           literal(None, String), ProjectGroup.project_id).where(ProjectGroup.group_id.in_(_IDS)))
_LAST_VISITS = (select(Visit.group_id, func.max(Visit.visited_on)).where(Visit.group_id.in_(_IDS))
                .group_by(Visit.group_id))
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
        elif isinstance(obj, (Membership, Meeting, ProjectGroup)) and obj.group_id is not None:
            mark(session, obj.group_id)
    for obj in session.new:
        if isinstance(obj, Visit) and obj.group_id is not None and obj.visited_on is not None:
            seen: dict[int, dt.date] = session.info.setdefault(VISITED, {})
            if obj.group_id not in seen or seen[obj.group_id] < obj.visited_on:
                seen[obj.group_id] = obj.visited_on


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # what the ORM still holds (a changed group, a membership) is noticed now
    for when, sent in session.info.pop(SENT_SMS, ()):  # SMS the sender recorded (messaging.sender.record)
        count_sms(session, sent, when)
    marked = session.info.pop(MARKED, None)
    visited = session.info.pop(VISITED, None)
    if session.info.get(SKIP):
        return
    if marked:
        refresh(session, marked, utcnow())
    if visited:
        note_visits(session, visited)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:
        session.info.pop(MARKED, None)
        session.info.pop(SENT_SMS, None)
        session.info.pop(VISITED, None)


_NOTE_VISIT = (update(T_GROUPS).where(T_GROUPS.c.group_id == bindparam("gid")).values(
    last_visit=case((T_GROUPS.c.last_visit.is_(None) | (T_GROUPS.c.last_visit < bindparam("day")),
                     bindparam("day")), else_=T_GROUPS.c.last_visit),
    quiet_on=case((T_GROUPS.c.quiet_on < bindparam("day"), bindparam("day")), else_=T_GROUPS.c.quiet_on)))


def note_visits(session: Session, days: dict[int, dt.date]) -> None:
    """Move each group's ``last_visit`` and ``quiet_on`` forward to a visit's day (``quiet_on`` stays
    NULL for a group that is not active). Rows in group id order, as the refresh locks them."""
    session.execute(_NOTE_VISIT, [{"gid": gid, "day": day} for gid, day in sorted(days.items())])


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


#: A rollup a group counts in: ('place', place id) or ('project', project id).
Bucket = tuple[str, int]
RollKey = tuple[str, int, str, str, str]  # dim, ref, region, kind, currency


def buckets(place_path: str, projects: str) -> list[Bucket]:
    """The rollups of a group with this place path and projects (as ``report_groups`` stores them)."""
    return ([("place", int(x)) for x in place_path.strip("/").split("/") if x]
            + [("project", int(x)) for x in sorted({int(x) for x in projects.split(",") if x})])


def projects_text(ids: Collection[int]) -> str:
    return f",{','.join(str(i) for i in sorted(set(ids)))}," if ids else ""


def formed_on(created: dt.datetime | None) -> dt.date | None:
    """The UTC day a group was formed (what the unvisited count compares with its cut-off)."""
    if created is None:
        return None
    return (created.astimezone(UTC) if created.tzinfo is not None else created).date()


def quiet_on(active: bool, created: dt.datetime | None, last_visit: dt.date | None) -> dt.date | None:
    """The day from which nobody has visited an active group: the later of its formation and its last visit."""
    formed = formed_on(created)
    if not active or formed is None:
        return None
    return max(formed, last_visit) if last_visit is not None else formed


@dataclass(frozen=True)
class Whereabouts:
    """What a refresh reads of a group besides its figures (from the database, not the session's objects)."""

    active: bool
    created: dt.datetime | None
    place_path: str
    projects: str


def whereabouts(session: Session, ids: list[int]) -> dict[int, Whereabouts]:
    """Each group's status, formation time, place path and projects text (one statement for the batch)."""
    rows: dict[int, tuple[bool, dt.datetime | None, str]] = {}
    projects: dict[int, list[int]] = {}
    for gid, created, status, path, project in session.execute(_WHEREABOUTS, {"ids": ids}):
        if project is not None:
            projects.setdefault(gid, []).append(project)
        else:
            rows[gid] = (status == Status.ACTIVE, created, path or "")
    return {gid: Whereabouts(active, created, path, projects_text(projects.get(gid, [])))
            for gid, (active, created, path) in rows.items()}


def _refresh(session: Session, ids: list[int], now: dt.datetime) -> None:
    fresh = group_figures(session, ids, now)
    pg = session.get_bind().dialect.name == "postgresql"
    old = {r.group_id: r for r in session.execute(_OLD_FOR_UPDATE if pg else _OLD, {"ids": ids})}
    groups = {gid: g for gid in ids if (g := session.get(Group, gid)) is not None}
    where = whereabouts(session, ids)
    new = [gid for gid in ids if gid not in old and gid in fresh]
    first_last: dict[int, dt.date] = {gid: day for gid, day in session.execute(_LAST_VISITS, {"ids": new})} if new else {}
    group_rows: list[dict[str, Any]] = []
    group_weeks: list[dict[str, Any]] = []
    by_key: dict[GroupKey, Figures] = {}
    by_key_week: dict[tuple[GroupKey, dt.date], Figures] = {}
    by_roll: dict[RollKey, Figures] = {}
    by_roll_week: dict[tuple[RollKey, dt.date], Figures] = {}
    moved: dict[int, tuple[list[RollKey], list[RollKey]]] = {}  # group -> (rollups it leaves, it joins)
    for gid in ids:
        if gid not in fresh:
            continue
        key, day, fig = fresh[gid]
        week = week_of(day)
        before = old.get(gid)
        prev = Figures() if before is None else Figures(*(getattr(before, c) for c in FIGURES))
        prev_key = None if before is None else GroupKey(before.region, before.kind, before.currency)
        delta = fig.minus(prev)
        here = where.get(gid, Whereabouts(False, None, "", ""))
        path, projects = here.place_path, here.projects
        now_in = buckets(path, projects)
        was_in = [] if before is None else buckets(before.place_path, before.projects)
        last = before.last_visit if before is not None else first_last.get(gid)
        group = groups.get(gid)
        quiet = quiet_on(here.active, here.created, last)
        rolls = [((*b, *_order(key)), delta) for b in now_in]
        if prev_key == key and was_in == now_in:
            if (delta.is_zero() and before is not None and before.as_of == day and before.quiet_on == quiet
                    and before.place_path == path and before.projects == projects):
                continue
            moves = [(key, delta)]
        else:  # new, moved, or in other rollups: out of the old ones, into the new
            gone = Figures().minus(prev)
            moves = [(key, fig)] + ([(prev_key, gone)] if prev_key is not None else [])
            if prev_key is not None and (was_in or now_in):  # its history goes with it (below)
                moved[gid] = ([(*b, *_order(prev_key)) for b in was_in], [(*b, *_order(key)) for b in now_in])
        group_rows.append({"group_id": gid, "region": key.region, "kind": key.kind, "currency": key.currency,
                           "as_of": day, "refresh_at": _next_midnight(group.timezone if group else "UTC", day)
                           if _dated(fig) else None, "last_visit": last, "quiet_on": quiet,
                           "place_path": path, "projects": projects, **fig.as_dict()})
        if not delta.is_zero():
            group_weeks.append({"group_id": gid, "week": week, **delta.as_dict()})
        for k, d in moves:
            if d.is_zero():
                continue
            by_key[k] = by_key.get(k, Figures()).plus(d)
            by_key_week[(k, week)] = by_key_week.get((k, week), Figures()).plus(d)
        for r, d in rolls:
            if d.is_zero():
                continue
            by_roll_week[(r, week)] = by_roll_week.get((r, week), Figures()).plus(d)
        if gid in moved or before is None:
            for r in moved.get(gid, ([], []))[0]:
                by_roll[r] = by_roll.get(r, Figures()).minus(prev)
            for b in now_in:
                r = (*b, *_order(key))
                by_roll[r] = by_roll.get(r, Figures()).plus(fig)
        else:
            for r, d in rolls:
                by_roll[r] = by_roll.get(r, Figures()).plus(d)
    if not group_rows:
        return
    sms_moves = _move_history(session, moved, by_roll_week)
    dialect = session.get_bind().dialect.name
    stmt = _UPSERTS.get((dialect, "report_groups", ()))
    if stmt is None:
        ins = _insert(session, T_GROUPS)
        stmt = _UPSERTS[(dialect, "report_groups", ())] = ins.on_conflict_do_update(
            index_elements=["group_id"],
            set_={c: ins.excluded[c] for c in ["region", "kind", "currency", "as_of", "refresh_at", "last_visit",
                                               "quiet_on", "place_path", "projects", *FIGURES]})
    session.execute(stmt, group_rows)
    _add(session, T_GROUP_WEEKS, ["group_id", "week"], group_weeks, FIGURES)
    _add(session, T_TOTALS, ["region", "kind", "currency"],
         [{**vars(k), **f.as_dict()} for k, f in sorted(by_key.items(), key=lambda kv: _order(kv[0]))
          if not f.is_zero()], FIGURES)
    _add(session, T_WEEKS, ["week", "region", "kind", "currency"],
         [{**vars(k), "week": w, **f.as_dict()} for (k, w), f in sorted(
             by_key_week.items(), key=lambda kv: (kv[0][1], *_order(kv[0][0])))
          if not f.is_zero()], FIGURES)
    _add(session, T_ROLLUPS, list(ROLL_KEY),
         [{**dict(zip(ROLL_KEY, r, strict=True)), **f.as_dict()} for r, f in sorted(by_roll.items())
          if not f.is_zero()], FIGURES)
    _add(session, T_ROLLUP_WEEKS, [*ROLL_KEY, "week"],
         [{**dict(zip(ROLL_KEY, r, strict=True)), "week": w, **f.as_dict()} for (r, w), f in sorted(
             by_roll_week.items(), key=lambda kv: (kv[0][1], kv[0][0])) if not f.is_zero()], FIGURES)
    _add(session, T_ROLLUP_SMS, [*ROLL_KEY, "month"],
         [{**dict(zip(ROLL_KEY, r, strict=True)), "month": m, "sent": n, "segments": segs}
          for (r, m), (n, segs) in sorted(sms_moves.items(), key=lambda kv: (kv[0][1], kv[0][0])) if n or segs],
         ["sent", "segments"])


def _move_history(session: Session, moved: dict[int, tuple[list[RollKey], list[RollKey]]],
                  by_roll_week: dict[tuple[RollKey, dt.date], Figures]) -> dict[tuple[RollKey, dt.date], list[int]]:
    """A group that left rollups takes its weeks and its SMS with it (rare: one read of its weeks and
    months), so a rollup's history is its groups' own, as ``reports.rollups_sql`` recomputes it.
    The weeks' moves are added to ``by_roll_week``; the SMS moves are returned."""
    sms: dict[tuple[RollKey, dt.date], list[int]] = {}
    if not moved:
        return sms
    ids = sorted(moved)
    for row in session.execute(select(T_GROUP_WEEKS).where(T_GROUP_WEEKS.c.group_id.in_(ids))):
        f = Figures(*(getattr(row, c) for c in FIGURES))
        leaves, joins = moved[row.group_id]
        for r in leaves:
            by_roll_week[(r, row.week)] = by_roll_week.get((r, row.week), Figures()).minus(f)
        for r in joins:
            by_roll_week[(r, row.week)] = by_roll_week.get((r, row.week), Figures()).plus(f)
    for gid, month, sent, segments in session.execute(
            select(T_SMS.c.group_id, T_SMS.c.month, T_SMS.c.sent, T_SMS.c.segments).where(T_SMS.c.group_id.in_(ids))):
        leaves, joins = moved[gid]
        for r, sign in [(r, -1) for r in leaves] + [(r, 1) for r in joins]:
            cell = sms.setdefault((r, month), [0, 0])
            cell[0] += sign * int(sent)
            cell[1] += sign * int(segments)
    return sms


ROLL_KEY = ("dim", "ref", "region", "kind", "currency")


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
    groups = session.execute(select(Group.id, Group.region, Group.kind, Group.currency, T_GROUPS.c.place_path,
                                    T_GROUPS.c.projects).outerjoin(T_GROUPS, T_GROUPS.c.group_id == Group.id)
                             .where(Group.id.in_(sorted(per_group))).order_by(Group.id)).all()
    month = month_of(when)
    totals: dict[tuple[str, str, str], list[int]] = {}
    rolled: dict[RollKey, list[int]] = {}
    for g in groups:
        kind = g.kind.value if hasattr(g.kind, "value") else str(g.kind)
        key = (g.region or "", kind, g.currency)
        into = totals.setdefault(key, [0, 0])
        into[0] += per_group[g.id][0]
        into[1] += per_group[g.id][1]
        for b in buckets(g.place_path or "", g.projects or ""):
            cell = rolled.setdefault((*b, *key), [0, 0])
            cell[0] += per_group[g.id][0]
            cell[1] += per_group[g.id][1]
    _add(session, T_SMS, ["group_id", "month"],
         [{"group_id": g.id, "month": month, "sent": per_group[g.id][0], "segments": per_group[g.id][1]}
          for g in groups], ["sent", "segments"])
    _add(session, T_SMS_TOTALS, ["month", "region", "kind", "currency"],
         [{"month": month, "region": region, "kind": kind, "currency": currency, "sent": n, "segments": segs}
          for (region, kind, currency), (n, segs) in sorted(totals.items())], ["sent", "segments"])
    _add(session, T_ROLLUP_SMS, [*ROLL_KEY, "month"],
         [{**dict(zip(ROLL_KEY, r, strict=True)), "month": month, "sent": n, "segments": segs}
          for r, (n, segs) in sorted(rolled.items())], ["sent", "segments"])


def all_group_ids(session: Session) -> Iterable[int]:
    return session.scalars(select(Group.id).order_by(Group.id))
