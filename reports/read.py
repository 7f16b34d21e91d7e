"""The dashboard's figures over a scope, read from the aggregates (never from the ledger).

A scope is ``None`` (every group: an admin) or the ids of the groups a
coordinator serves (a collection or a SELECT of ids). Filters narrow it by
region and group kind. (Kassa has no programme concept yet, so there is no
programme filter.)

Money is summed per currency and never across currencies: a dashboard over
Kenyan and Vietnamese groups shows one line per currency. Counts (groups,
members, meetings, SMS) add up across currencies too.

Where the figures come from:

- every group (``scope=None``): ``report_totals``, ``report_weeks`` and
  ``report_sms_totals``, a few rows per region, kind and currency whatever the
  number of groups;
- a coordinator's groups: ``report_groups``, ``report_group_weeks`` and
  ``report_sms`` for her groups (primary-key lookups).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from ledger.figures import Figures
from ledger.money import AmountError, parse_amount
from reports.maintain import (
    T_GROUP_WEEKS,
    T_GROUPS,
    T_SMS,
    T_SMS_TOTALS,
    T_TOTALS,
    T_WEEKS,
    month_of,
    week_of,
)
from reports.models import FIGURES

TREND_WEEKS = 12
MEETING_WEEKS = 4
Scope = Collection[int] | Select | None

#: Figures shown on the dashboard, in order; each links to the groups behind it.
HEADLINE = ["groups", "members", "savings", "social_fund", "loans_outstanding", "par30", "repayment_rate",
            "meetings_4w", "sms_sent"]
#: Trend series drawn as charts.
TRENDS = ["savings", "loans_outstanding", "par30", "members", "meetings"]


@dataclass(frozen=True)
class Filters:
    region: str | None = None  # '' selects groups without a region
    kind: str | None = None

    def query(self) -> dict[str, str]:
        return {k: v for k, v in (("region", self.region), ("kind", self.kind)) if v is not None}


@dataclass
class CurrencyLine:
    """The figures of the groups in one currency."""

    currency: str
    figures: Figures
    meetings_4w: int = 0
    sms_sent: int = 0
    sms_segments: int = 0
    sms_cost: int | None = None  # minor units of ``currency``; None when no price is set for it


@dataclass
class Trend:
    """Weekly series of one currency's groups: the value at the end of each week (``weeks`` are Mondays)."""

    currency: str
    weeks: list[dt.date]
    series: dict[str, list[int]]  # savings, loans_outstanding (minor units), par30 (bp), members, meetings


@dataclass
class Dashboard:
    today: dt.date
    month: dt.date
    filters: Filters
    lines: list[CurrencyLine]
    trends: list[Trend]
    regions: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def total(self, name: str) -> int:
        if name in ("meetings_4w", "sms_sent", "sms_segments"):
            return sum(getattr(line, name) for line in self.lines)
        return sum(getattr(line.figures, name) for line in self.lines)


def segment_prices(config: Any) -> dict[str, int]:
    """Price of one SMS segment per group currency, in its minor units (``SMS_SEGMENT_PRICE(S)``)."""
    pairs = [(getattr(config, "SMS_PRICE_CURRENCY", "") or "KES", str(getattr(config, "SMS_SEGMENT_PRICE", "")))]
    for item in (getattr(config, "SMS_SEGMENT_PRICES", "") or "").replace(";", ",").split(","):
        if "=" in item:
            cur, _, amount = item.partition("=")
            pairs.append((cur, amount))
    prices: dict[str, int] = {}
    for cur, amount in pairs:
        cur = cur.strip().upper()
        try:
            prices[cur] = parse_amount(amount.strip(), cur)
        except AmountError:
            prices.pop(cur, None)
    return prices


def _ids(scope: Collection[int] | Select) -> Any:
    return scope if isinstance(scope, Select) else sorted(set(scope))


def _where(table: Any, filters: Filters, scope: Scope, key_table: Any = None) -> list[Any]:
    keys = key_table if key_table is not None else table
    conds: list[Any] = []
    if filters.region is not None:
        conds.append(keys.c.region == filters.region)
    if filters.kind is not None:
        conds.append(keys.c.kind == filters.kind)
    if scope is not None:
        conds.append(table.c.group_id.in_(_ids(scope)))
    return conds


def dashboard(session: Session, scope: Scope, filters: Filters, *, today: dt.date,
              prices: Mapping[str, int], weeks: int = TREND_WEEKS) -> Dashboard:
    """Every figure of the dashboard over ``scope`` narrowed by ``filters``, as of ``today``."""
    this_week = week_of(today)
    first_week = this_week - dt.timedelta(weeks=weeks - 1)
    meeting_from = this_week - dt.timedelta(weeks=MEETING_WEEKS - 1)
    month = month_of(dt.datetime.combine(today, dt.time(12), dt.UTC))
    if scope is None:
        now_q = select(T_TOTALS.c.currency, *(func.sum(T_TOTALS.c[c]) for c in FIGURES)).where(
            *_where(T_TOTALS, filters, None)).group_by(T_TOTALS.c.currency)
        week_q = select(T_WEEKS.c.currency, T_WEEKS.c.week, *(func.sum(T_WEEKS.c[c]) for c in FIGURES)).where(
            T_WEEKS.c.week >= first_week, *_where(T_WEEKS, filters, None)).group_by(T_WEEKS.c.currency,
                                                                                   T_WEEKS.c.week)
        sms_q = select(T_SMS_TOTALS.c.currency, func.sum(T_SMS_TOTALS.c.sent), func.sum(T_SMS_TOTALS.c.segments)
                       ).where(T_SMS_TOTALS.c.month == month, *_where(T_SMS_TOTALS, filters, None)
                               ).group_by(T_SMS_TOTALS.c.currency)
        keys_q = select(T_TOTALS.c.region, T_TOTALS.c.kind).where(T_TOTALS.c.groups != 0).distinct()
    else:
        now_q = select(T_GROUPS.c.currency, *(func.sum(T_GROUPS.c[c]) for c in FIGURES)).where(
            *_where(T_GROUPS, filters, scope)).group_by(T_GROUPS.c.currency)
        gw = T_GROUP_WEEKS.join(T_GROUPS, T_GROUPS.c.group_id == T_GROUP_WEEKS.c.group_id)
        week_q = select(T_GROUPS.c.currency, T_GROUP_WEEKS.c.week, *(func.sum(T_GROUP_WEEKS.c[c]) for c in FIGURES)
                        ).select_from(gw).where(T_GROUP_WEEKS.c.week >= first_week,
                                                *_where(T_GROUP_WEEKS, filters, scope, T_GROUPS)
                                                ).group_by(T_GROUPS.c.currency, T_GROUP_WEEKS.c.week)
        gs = T_SMS.join(T_GROUPS, T_GROUPS.c.group_id == T_SMS.c.group_id)
        sms_q = select(T_GROUPS.c.currency, func.sum(T_SMS.c.sent), func.sum(T_SMS.c.segments)).select_from(gs).where(
            T_SMS.c.month == month, *_where(T_SMS, filters, scope, T_GROUPS)).group_by(T_GROUPS.c.currency)
        keys_q = select(T_GROUPS.c.region, T_GROUPS.c.kind).where(
            T_GROUPS.c.group_id.in_(_ids(scope))).distinct()
    now = {r[0]: Figures(*(int(v or 0) for v in r[1:])) for r in session.execute(now_q)}
    moves: dict[str, dict[dt.date, Figures]] = defaultdict(dict)
    for r in session.execute(week_q):
        moves[r[0]][r[1]] = Figures(*(int(v or 0) for v in r[2:]))
    sms = {r[0]: (int(r[1] or 0), int(r[2] or 0)) for r in session.execute(sms_q)}
    keys = session.execute(keys_q).all()
    lines: list[CurrencyLine] = []
    trends: list[Trend] = []
    week_list = [first_week + dt.timedelta(weeks=i) for i in range(weeks)]
    for cur in sorted(set(now) | set(sms)):
        fig = now.get(cur, Figures())
        cur_moves = moves.get(cur, {})
        sent, segments = sms.get(cur, (0, 0))
        price = prices.get(cur)
        lines.append(CurrencyLine(cur, fig, sum(f.meetings for w, f in cur_moves.items() if w >= meeting_from),
                                  sent, segments, segments * price if price is not None else None))
        trends.append(_trend(cur, fig, cur_moves, week_list))
    return Dashboard(today, month, filters, lines, trends,
                     regions=sorted({r for r, _ in keys}), kinds=sorted({k for _, k in keys}))


def _trend(currency: str, now: Figures, moves: dict[dt.date, Figures], weeks: list[dt.date]) -> Trend:
    """Each figure at the end of each week: today's value less the moves of the weeks after."""
    series: dict[str, list[int]] = {name: [] for name in TRENDS}
    later = Figures()
    ends: list[Figures] = []
    for w in reversed(weeks):
        ends.append(now.minus(later))
        later = later.plus(moves.get(w, Figures()))
    ends.reverse()
    for w, end in zip(weeks, ends, strict=True):
        series["savings"].append(end.savings)
        series["loans_outstanding"].append(end.loans_outstanding)
        series["par30"].append(end.par30_bp)
        series["members"].append(end.members)
        series["meetings"].append(moves.get(w, Figures()).meetings)
    return Trend(currency, weeks, series)


#: Figure name -> how the rows page orders and narrows the groups behind it.
ROWS: dict[str, tuple[str, Any]] = {
    "groups": ("savings", None),
    "members": ("members", None),
    "savings": ("savings", lambda t: t.c.savings != 0),
    "social_fund": ("social_fund", lambda t: t.c.social_fund != 0),
    "loans_outstanding": ("loans_outstanding", lambda t: t.c.loans_outstanding != 0),
    "par30": ("par30", lambda t: t.c.par30 != 0),
    "repayment_rate": ("due_so_far", lambda t: t.c.due_so_far != 0),
    "meetings_4w": ("meetings", None),
    "sms_sent": ("savings", None),
}


@dataclass(frozen=True)
class GroupRow:
    group_id: int
    code: str
    name: str
    region: str
    kind: str
    currency: str
    figures: Figures


def rows(session: Session, scope: Scope, filters: Filters, figure: str, *, today: dt.date,
         currency: str | None = None, limit: int = 100, offset: int = 0) -> tuple[list[GroupRow], int]:
    """The groups behind ``figure`` (largest first) and how many there are."""
    from groups.models import Group

    order, narrow = ROWS.get(figure, ROWS["groups"])
    conds = _where(T_GROUPS, filters, scope) + [T_GROUPS.c.groups != 0]
    if currency is not None:
        conds.append(T_GROUPS.c.currency == currency)
    if narrow is not None:
        conds.append(narrow(T_GROUPS))
    if figure == "meetings_4w":  # groups that met in the last four weeks
        since = week_of(today) - dt.timedelta(weeks=MEETING_WEEKS - 1)
        conds.append(T_GROUPS.c.group_id.in_(select(T_GROUP_WEEKS.c.group_id).where(
            T_GROUP_WEEKS.c.week >= since, T_GROUP_WEEKS.c.meetings > 0)))
    if figure == "sms_sent":  # groups that were sent SMS this month
        month = month_of(dt.datetime.combine(today, dt.time(12), dt.UTC))
        conds.append(T_GROUPS.c.group_id.in_(select(T_SMS.c.group_id).where(T_SMS.c.month == month)))
    count = session.scalar(select(func.count()).select_from(T_GROUPS).where(*conds)) or 0
    q = (select(T_GROUPS, Group.code, Group.name).join(Group, and_(Group.id == T_GROUPS.c.group_id))
         .where(*conds).order_by(T_GROUPS.c[order].desc(), T_GROUPS.c.group_id).limit(limit).offset(offset))
    out = [GroupRow(r.group_id, r.code, r.name, r.region, r.kind, r.currency,
                    Figures(*(getattr(r, c) for c in FIGURES))) for r in session.execute(q)]
    return out, int(count)
