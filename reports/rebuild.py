"""``flask reports rebuild``: recompute every aggregate from the ledger, the groups and the outbox.

For a new deployment, after a bulk load that bypassed the ORM (a seed, a
restore), or to check the kept figures (``--check`` compares before writing).

Each group's figures now come from ``ledger.figures.group_figures``. Their
history by week is dated as well as the books allow: money by the date of the
posting (its meeting), meetings by their date, members by when they joined;
what cannot be dated (loan counts, PAR30, repayment rate) and whatever the
dated history does not explain lands in the current week, so the weeks of a
group always add up to its figures now. (Kept figures date a change by the
week it was committed in, which differs only for a posting backdated to an
earlier week's meeting.) SMS are counted from the outbox by the month they
were accepted by the provider.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from groups.models import Group, Membership, Status
from ledger.books import natural
from ledger.figures import Figures, GroupKey, group_figures
from ledger.models import Account, AccountCode, Line, Meeting, Txn
from messaging.models import OutboxMessage
from reports.maintain import (
    T_GROUP_WEEKS,
    T_GROUPS,
    T_ROLLUP_SMS,
    T_ROLLUP_WEEKS,
    T_ROLLUPS,
    T_SMS,
    T_SMS_TOTALS,
    T_TOTALS,
    T_WEEKS,
    _dated,
    _next_midnight,
    month_of,
    week_of,
)
from reports.models import FIGURES
from reports.rollups_sql import rollups, whereabouts

BATCH = 2000
_MONEY = {AccountCode.CASH: "cash_box", AccountCode.BANK: "bank", AccountCode.SAVINGS: "savings",
          AccountCode.SOCIAL: "social_fund", AccountCode.CHARGES: "service_charges", AccountCode.FINES: "fines",
          AccountCode.LOANS: "loans_outstanding"}


def clear(session: Session) -> None:
    for table in (T_GROUPS, T_GROUP_WEEKS, T_TOTALS, T_WEEKS, T_SMS, T_SMS_TOTALS, T_ROLLUPS, T_ROLLUP_WEEKS,
                  T_ROLLUP_SMS):
        session.execute(delete(table))


def rebuild_rollups(session: Session) -> None:
    """Each group's place path, projects, last visit and quiet day, then the rollups per place and
    project, from the per-group rows (set-wise statements: ``reports.rollups_sql``)."""
    for stmt in whereabouts(session.get_bind().dialect.name) + rollups():
        session.execute(text(stmt))


def _history(session: Session, ids: list[int]) -> dict[int, dict[dt.date, Figures]]:
    """What can be dated of each group's figures, by week."""
    weeks: dict[int, dict[dt.date, Figures]] = defaultdict(lambda: defaultdict(Figures))
    for gid, on, code, total in session.execute(
            select(Txn.group_id, Txn.on, Account.code, func.sum(Line.amount))
            .join(Line, Line.txn_id == Txn.id).join(Account, Account.id == Line.account_id)
            .where(Txn.group_id.in_(ids)).group_by(Txn.group_id, Txn.on, Account.code)):
        code = AccountCode(code)
        fig = weeks[gid][week_of(on)]
        setattr(fig, _MONEY[code], getattr(fig, _MONEY[code]) + natural(code, int(total)))
    for gid, on, n in session.execute(select(Meeting.group_id, Meeting.on, func.count(Meeting.id))
                                      .where(Meeting.group_id.in_(ids)).group_by(Meeting.group_id, Meeting.on)):
        weeks[gid][week_of(on)].meetings += int(n)
    for gid, joined in session.execute(select(Membership.group_id, Membership.joined_at).where(
            Membership.group_id.in_(ids), Membership.status == Status.ACTIVE)):
        if joined is not None:
            weeks[gid][week_of(joined.date())].members += 1
    for gid, created, status in session.execute(select(Group.id, Group.created_at, Group.status)
                                                .where(Group.id.in_(ids))):
        if created is not None and status == Status.ACTIVE:
            weeks[gid][week_of(created.date())].groups += 1
    return weeks


def rebuild(session: Session, now: dt.datetime, progress: Callable[[int], None] | None = None) -> int:
    """Replace every aggregate with figures recomputed from the records; the number of groups."""
    clear(session)
    totals: dict[GroupKey, Figures] = defaultdict(Figures)
    key_weeks: dict[tuple[GroupKey, dt.date], Figures] = defaultdict(Figures)
    last = 0
    done = 0
    while True:
        ids = list(session.scalars(select(Group.id).where(Group.id > last).order_by(Group.id).limit(BATCH)))
        if not ids:
            break
        last = ids[-1]
        fresh = group_figures(session, ids, now)
        zones = dict(session.execute(select(Group.id, Group.timezone).where(Group.id.in_(ids))).all())
        history = _history(session, ids)
        rows, week_rows = [], []
        for gid in ids:
            key, day, fig = fresh[gid]
            rows.append({"group_id": gid, "region": key.region, "kind": key.kind, "currency": key.currency,
                         "as_of": day, "refresh_at": _next_midnight(zones.get(gid) or "UTC", day)
                         if _dated(fig) else None, **fig.as_dict()})
            weeks = history.get(gid, {})
            dated = Figures()
            for w in weeks:
                if w < week_of(day):
                    dated = dated.plus(weeks[w])
            this = {w: f for w, f in weeks.items() if w < week_of(day)}
            this[week_of(day)] = fig.minus(dated)
            totals[key] = totals[key].plus(fig)
            for w, f in this.items():
                if f.is_zero():
                    continue
                week_rows.append({"group_id": gid, "week": w, **f.as_dict()})
                key_weeks[(key, w)] = key_weeks[(key, w)].plus(f)
        session.execute(T_GROUPS.insert(), rows)
        if week_rows:
            session.execute(T_GROUP_WEEKS.insert(), week_rows)
        done += len(ids)
        if progress is not None:
            progress(done)
    if totals:
        session.execute(T_TOTALS.insert(), [{**vars(k), **f.as_dict()} for k, f in totals.items()])
    rows = [{**vars(k), "week": w, **f.as_dict()} for (k, w), f in key_weeks.items() if not f.is_zero()]
    if rows:
        session.execute(T_WEEKS.insert(), rows)
    _rebuild_sms(session)
    rebuild_rollups(session)
    return done


def _rebuild_sms(session: Session) -> None:
    # sent_at is set once, when the provider accepts a message (what it charges for), whatever
    # a delivery report says later: the same messages the sender counts as it goes.
    per_group: dict[tuple[int | None, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    for gid, at, segments in session.execute(
            select(OutboxMessage.group_id, OutboxMessage.sent_at, OutboxMessage.segments)
            .where(OutboxMessage.group_id.is_not(None), OutboxMessage.sent_at.is_not(None))):
        if gid is None or at is None:
            continue
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        cell = per_group[(gid, month_of(at))]
        cell[0] += 1
        cell[1] += int(segments)
    if not per_group:
        return
    keys = {r.group_id: r for r in session.execute(select(T_GROUPS.c.group_id, T_GROUPS.c.region, T_GROUPS.c.kind,
                                                          T_GROUPS.c.currency))}
    session.execute(T_SMS.insert(), [{"group_id": g, "month": m, "sent": n, "segments": s}
                                     for (g, m), (n, s) in per_group.items()])
    by_key: dict[tuple[dt.date, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (g, m), (n, s) in per_group.items():
        k = keys.get(g)
        if k is not None:
            cell = by_key[(m, k.region, k.kind, k.currency)]
            cell[0] += n
            cell[1] += s
    session.execute(T_SMS_TOTALS.insert(), [{"month": m, "region": r, "kind": kd, "currency": c, "sent": n,
                                              "segments": s} for (m, r, kd, c), (n, s) in by_key.items()])


__all__ = ["FIGURES", "clear", "rebuild", "rebuild_rollups"]
