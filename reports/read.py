"""The dashboard's figures over a scope, read from the aggregates (never from the ledger).

A scope is ``None`` (every group: an admin) or the ids of the groups a
coordinator serves (a collection or a SELECT of ids). Filters narrow it by
region and group kind; a place (subtree) or a project narrows the scope's group ids
(``GroupScope.group_ids``: a SELECT read against ``report_groups`` by join).

Money is summed per currency and never across currencies: a dashboard over
Kenyan and Vietnamese groups shows one line per currency. Counts (groups,
members, meetings, SMS) add up across currencies too.

Where the figures come from:

- every group (``scope=None``): ``report_totals``, ``report_weeks`` and
  ``report_sms_totals``, a few rows per region, kind and currency whatever the
  number of groups;
- a coordinator's groups: ``report_groups``, ``report_group_weeks`` and
  ``report_sms`` for her groups (primary-key lookups);
- a place (its subtree) or a project (``GroupScope.rollup``): ``report_rollups``,
  ``report_rollup_weeks`` and ``report_rollup_sms`` for that place or project,
  a few rows per region, kind and currency however many groups it holds (for a
  coordinator, those of her regions, and her other groups in it by their own rows).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    String,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

from groups.models import CoordinatorGroup
from ledger.figures import Figures
from ledger.money import AmountError, parse_amount
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
    Bucket,
    month_of,
    week_of,
)
from reports.models import FIGURES

TREND_WEEKS = 12
MEETING_WEEKS = 4

#: Figures shown on the dashboard, in order; each links to the groups behind it.
HEADLINE = ["groups", "members", "savings", "social_fund", "loans_outstanding", "par30", "repayment_rate",
            "meetings_4w", "sms_sent"]
#: Trend series drawn as charts.
TRENDS = ["savings", "loans_outstanding", "par30", "members", "meetings"]


@dataclass(frozen=True)
class Filters:
    region: str | None = None  # '' selects groups without a region
    kind: str | None = None
    # A place (its subtree) and a project: the caller turns them into the scope's group ids
    # (``console.dashboard``); here they only travel with the links.
    place: int | None = None
    project: int | None = None

    def query(self) -> dict[str, str]:
        return {k: str(v) for k, v in (("region", self.region), ("kind", self.kind), ("place", self.place),
                                       ("project", self.project)) if v is not None}


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
    # Groups nobody has visited since the cut-off day asked for (``dashboard(quiet_since=...)``).
    unvisited: int | None = None

    def total(self, name: str) -> int:
        if name in ("meetings_4w", "sms_sent", "sms_segments"):
            return sum(getattr(line, name) for line in self.lines)
        return sum(getattr(line.figures, name) for line in self.lines)


def segment_prices(config: object, provider: str | None = None) -> dict[str, int]:
    """Price of one SMS segment per group currency, in its minor units (``SMS_SEGMENT_PRICE(S)``).

    ``SMS_SEGMENT_PRICES`` lists ``CUR=amount`` for every provider and ``CUR:provider=amount``
    for one provider (``INR=0.25,INR:twilio=0.40``); the provider's own price wins. ``provider``
    defaults to the configured ``SMS_BACKEND``. ``config`` is a :class:`config.Config` or anything with
    those names (each one read with a default).
    """
    provider = (provider or getattr(config, "SMS_BACKEND", "") or "").strip().lower()
    pairs = [(getattr(config, "SMS_PRICE_CURRENCY", "") or "KES", str(getattr(config, "SMS_SEGMENT_PRICE", "")))]
    specific = []
    for item in (getattr(config, "SMS_SEGMENT_PRICES", "") or "").replace(";", ",").split(","):
        if "=" in item:
            cur, _, amount = item.partition("=")
            cur, _, only = cur.partition(":")
            if not only:
                pairs.append((cur, amount))
            elif only.strip().lower() == provider:
                specific.append((cur, amount))
    prices: dict[str, int] = {}
    for cur, amount in pairs + specific:
        cur = cur.strip().upper()
        try:
            prices[cur] = parse_amount(amount.strip(), cur)
        except AmountError:
            prices.pop(cur, None)
    return prices


@dataclass(frozen=True)
class GroupScope:
    """The groups in ``regions`` and the groups ``group_ids`` (a collection or a SELECT of ids).

    A coordinator's scope: the regions she serves are read from the totals per
    region (a few rows however many groups they hold); the groups linked to her
    outside those regions from their own rows.
    """

    regions: tuple[str, ...] = ()
    group_ids: Collection[int] | Select[Any] | None = None
    coordinator_id: int | None = None  # and the groups linked to this coordinator (coordinator_groups)
    # Within one place's subtree or one project: ('place', id) or ('project', id). The regions are
    # then read from that rollup's rows per region, and ``group_ids`` must lie within it.
    rollup: Bucket | None = None
    everything: bool = False  # every group of the rollup (an admin), not only ``regions``

    def ids(self) -> Any:
        """The explicit groups as something ``IN`` takes, or None."""
        if self.coordinator_id is not None:
            return select(CoordinatorGroup.group_id).where(CoordinatorGroup.coordinator_id == self.coordinator_id)
        return None if self.group_ids is None else _ids(self.group_ids)


Scope = GroupScope | Collection[int] | Select[Any] | None


def _ids(ids: Collection[int] | Select[Any]) -> Any:
    return ids if isinstance(ids, Select) else sorted(set(ids))


def _as_scope(scope: Scope) -> GroupScope | None:
    if scope is None or isinstance(scope, GroupScope):
        return scope
    return GroupScope((), scope)


def _where(table: Any, filters: Filters, scope: Scope, key_table: Any = None) -> list[Any]:
    """Filters, and ``scope`` as group ids (for the per-group tables)."""
    keys = key_table if key_table is not None else table
    conds: list[Any] = []
    if filters.region is not None:
        conds.append(keys.c.region == filters.region)
    if filters.kind is not None:
        conds.append(keys.c.kind == filters.kind)
    sc = _as_scope(scope)
    if sc is not None and sc.rollup is not None:  # where each group is counted (``table`` is report_groups)
        dim, ref = sc.rollup
        conds.append(T_GROUPS.c.place_path.contains(f"/{ref}/") if dim == "place"
                     else T_GROUPS.c.projects.contains(f",{ref},"))
    if sc is not None and not sc.everything:
        either = []
        if sc.regions:
            either.append(keys.c.region.in_(list(sc.regions)))
        if sc.ids() is not None:
            either.append(table.c.group_id.in_(sc.ids()))
        conds.append(or_(*either) if either else false())
    return conds


def _key_filters(table: Any, filters: Filters) -> list[Any]:
    conds: list[Any] = []
    if filters.region is not None:
        conds.append(table.c.region == filters.region)
    if filters.kind is not None:
        conds.append(table.c.kind == filters.kind)
    return conds


_NO_TEXT = cast(null(), String)
_NO_DATE = cast(null(), Date)
_ZEROS: list[ColumnClause[Any]] = [literal_column("0") for _ in FIGURES]


def _tag(name: str) -> Any:
    return literal_column(f"'{name}'")


def _bound_filters(table: Any, filters: Filters) -> list[Any]:
    conds: list[Any] = []
    if filters.region is not None:
        conds.append(table.c.region == bindparam("f_region"))
    if filters.kind is not None:
        conds.append(table.c.kind == bindparam("f_kind"))
    return conds


_SHAPES: dict[tuple[bool, ...], Any] = {}


def _statement(scope: GroupScope | None, filters: Filters, quiet: bool = False) -> Any:
    """The UNION ALL for this scope and filters; built once per shape unless it names group ids.
    ``quiet``: with the count of groups nobody visited since ``quiet_since`` (over the same scope)."""
    if scope is not None and scope.group_ids is not None:
        parts = _parts(scope, filters) + (_quiet_part(scope, filters) if quiet else [])
        return union_all(*parts) if parts else None
    if scope is not None and not scope.regions and scope.coordinator_id is None and not scope.everything:
        return None
    shape = (scope is None, bool(scope and scope.regions), bool(scope and scope.coordinator_id is not None),
             bool(scope and scope.everything), bool(scope and scope.rollup is not None),
             filters.region is not None, filters.kind is not None, quiet)
    if shape not in _SHAPES:
        placeholder = None if scope is None else GroupScope(
            ("*",) if scope.regions else (), coordinator_id=-1 if scope.coordinator_id is not None else None,
            rollup=("*", 0) if scope.rollup is not None else None, everything=scope.everything)
        _SHAPES[shape] = union_all(*_parts(placeholder, filters),
                                   *(_quiet_part(placeholder, filters) if quiet else []))
    return _SHAPES[shape]


def _quiet_where(scope: GroupScope | None, filters: Filters, bound: bool) -> list[Any]:
    """Groups of the scope (regions by bind parameter when ``bound``) nobody visited since the cut-off."""
    conds: list[Any] = [T_GROUPS.c.quiet_on <= bindparam("quiet_since")]
    if bound:
        conds += _bound_filters(T_GROUPS, filters)
        if scope is not None and scope.rollup is not None:
            raise ValueError("the unvisited count of a rollup is read by count_unvisited")
        if scope is not None:
            either = []
            if scope.regions:
                either.append(T_GROUPS.c.region.in_(bindparam("regions", expanding=True)))
            if scope.coordinator_id is not None:
                either.append(T_GROUPS.c.group_id.in_(select(CoordinatorGroup.group_id).where(
                    CoordinatorGroup.coordinator_id == bindparam("coordinator"))))
            elif scope.group_ids is not None:
                either.append(T_GROUPS.c.group_id.in_(_ids(scope.group_ids)))
            conds.append(or_(*either) if either else false())
    else:
        conds += _where(T_GROUPS, filters, scope)
    return conds


#: The unvisited count reads at most this many index entries on either side of the cut-off:
#: the groups nobody visited (counted when fewer), else the groups seen since (subtracted from the
#: active groups the totals already hold), else, both being larger, all of them (see count_unvisited).
QUIET_CAP = 20_000


def _quiet_part(scope: GroupScope | None, filters: Filters) -> list[Any]:
    """Two capped counts: groups quiet since the cut-off, and groups seen after it (formed or visited)."""
    scope_where = _quiet_where(scope, filters, bound=True)[1:]
    quiet = (select(T_GROUPS.c.group_id).where(T_GROUPS.c.quiet_on <= bindparam("quiet_since"), *scope_where)
             .limit(bindparam("quiet_cap")))
    # the seen groups only when the quiet ones reached the cap (a one-time condition: no scan otherwise)
    many_quiet = select(func.count()).select_from(quiet.subquery()).scalar_subquery() >= bindparam("quiet_cap")
    recent = (select(T_GROUPS.c.group_id).where(T_GROUPS.c.quiet_on > bindparam("quiet_since"), *scope_where,
                                                 many_quiet).limit(bindparam("quiet_cap")))
    return [select(_tag(tag), _NO_TEXT, _NO_TEXT, _NO_TEXT, _NO_DATE, func.count(), *_ZEROS[1:])
            .select_from(capped.subquery()) for tag, capped in (("quiet", quiet), ("recent", recent))]


def _unvisited(quiet: int, recent: int, active: int, cap: int) -> int | None:
    """The count from the two capped counts and the active groups of the scope, or None (both capped)."""
    if quiet < cap:
        return quiet
    if recent < cap:
        return active - recent  # an active group has a quiet day (it was formed): active = quiet + recent
    return None


def count_unvisited(session: Session, scope: Scope, since: dt.date, filters: Filters | None = None) -> int:
    """How many active groups of ``scope`` nobody has visited after ``since`` (formed on or before it):
    ``report_groups.quiet_on <= since``. At most ``QUIET_CAP`` index entries are read on either
    side of the cut-off (the dashboard's statement, :func:`dashboard`), and all of them only when
    both sides are larger. Equal to ``field.visits.count_unvisited`` over the same groups (a test
    holds it, on every path)."""
    f = filters or Filters()
    sc = _as_scope(scope)
    if sc is None or sc.rollup is None:
        board = dashboard(session, sc, f, today=since, prices={}, weeks=1, quiet_since=since)
        if board.unvisited is not None:
            return board.unvisited
    return count_all_unvisited(session, sc, since, f)


def count_all_unvisited(session: Session, scope: Scope, since: dt.date, filters: Filters | None = None) -> int:
    """The same count, reading every index entry of the groups nobody visited (no cap)."""
    conds = [T_GROUPS.c.quiet_on <= since, *_where(T_GROUPS, filters or Filters(), scope)]
    return int(session.scalar(select(func.count()).select_from(T_GROUPS).where(*conds)) or 0)


def _parts(scope: GroupScope | None, filters: Filters) -> list[Any]:
    """SELECTs of (tag, currency, region, kind, week, *figures), to be sent as one UNION ALL.

    Values are bind parameters (``first_week``, ``month``, ``f_region``, ``f_kind``, ``regions``), so the
    statement for a shape of scope and filters is built once (see :func:`_statement`).
    """
    parts: list[Any] = []
    rolled = scope is None or bool(scope.regions) or scope.everything
    if rolled:  # every group, or the regions of the scope: the totals per key (of the rollup, if any)
        in_rollup = scope is not None and scope.rollup is not None
        totals, weeks, sms = (T_ROLLUPS, T_ROLLUP_WEEKS, T_ROLLUP_SMS) if in_rollup else (T_TOTALS, T_WEEKS, T_SMS_TOTALS)
        only_regions = scope is not None and not scope.everything

        def within(table: Any) -> list[Any]:
            conds = [table.c.dim == bindparam("r_dim"), table.c.ref == bindparam("r_ref")] if in_rollup else []
            if only_regions:
                conds.append(table.c.region.in_(bindparam("regions", expanding=True)))
            return conds

        def keyed(table: Any) -> list[Any]:
            return _bound_filters(table, filters) + within(table)
        parts += [
            select(_tag("now"), totals.c.currency, _NO_TEXT, _NO_TEXT, _NO_DATE,
                   *(func.sum(totals.c[c]) for c in FIGURES)).where(*keyed(totals))
            .group_by(totals.c.currency),
            select(_tag("week"), weeks.c.currency, _NO_TEXT, _NO_TEXT, weeks.c.week,
                   *(func.sum(weeks.c[c]) for c in FIGURES)).where(weeks.c.week >= bindparam("first_week"), *keyed(weeks))
            .group_by(weeks.c.currency, weeks.c.week),
            select(_tag("sms"), sms.c.currency, _NO_TEXT, _NO_TEXT, _NO_DATE,
                   func.sum(sms.c.sent), func.sum(sms.c.segments), *_ZEROS[2:])
            .where(sms.c.month == bindparam("month"), *keyed(sms)).group_by(sms.c.currency),
            select(_tag("key"), _NO_TEXT, totals.c.region, totals.c.kind, _NO_DATE, *_ZEROS)
            .where(totals.c.groups != 0, *within(totals))
            .group_by(totals.c.region, totals.c.kind),
        ]
    explicit = None
    if scope is not None and scope.coordinator_id is not None:
        explicit = select(CoordinatorGroup.group_id).where(CoordinatorGroup.coordinator_id == bindparam("coordinator"))
    elif scope is not None and scope.group_ids is not None:
        explicit = _ids(scope.group_ids)
    if scope is not None and explicit is not None:  # her groups outside those regions: their own rows
        def own(table: Any, key_table: Any = T_GROUPS, filtered: bool = True) -> list[Any]:
            conds = [table.c.group_id.in_(explicit),
                     *(_bound_filters(key_table, filters) if filtered else [])]
            if scope.regions:
                conds.append(key_table.c.region.not_in(bindparam("regions", expanding=True)))
            return conds
        gw = T_GROUP_WEEKS.join(T_GROUPS, T_GROUPS.c.group_id == T_GROUP_WEEKS.c.group_id)
        gs = T_SMS.join(T_GROUPS, T_GROUPS.c.group_id == T_SMS.c.group_id)
        parts += [
            select(_tag("now"), T_GROUPS.c.currency, _NO_TEXT, _NO_TEXT, _NO_DATE,
                   *(func.sum(T_GROUPS.c[c]) for c in FIGURES)).where(*own(T_GROUPS)).group_by(T_GROUPS.c.currency),
            select(_tag("week"), T_GROUPS.c.currency, _NO_TEXT, _NO_TEXT, T_GROUP_WEEKS.c.week,
                   *(func.sum(T_GROUP_WEEKS.c[c]) for c in FIGURES)).select_from(gw)
            .where(T_GROUP_WEEKS.c.week >= bindparam("first_week"), *own(T_GROUP_WEEKS))
            .group_by(T_GROUPS.c.currency, T_GROUP_WEEKS.c.week),
            select(_tag("sms"), T_GROUPS.c.currency, _NO_TEXT, _NO_TEXT, _NO_DATE,
                   func.sum(T_SMS.c.sent), func.sum(T_SMS.c.segments), *_ZEROS[2:]).select_from(gs)
            .where(T_SMS.c.month == bindparam("month"), *own(T_SMS)).group_by(T_GROUPS.c.currency),
            select(_tag("key"), _NO_TEXT, T_GROUPS.c.region, T_GROUPS.c.kind, _NO_DATE, *_ZEROS)
            .where(T_GROUPS.c.groups != 0, *own(T_GROUPS, filtered=False))
            .group_by(T_GROUPS.c.region, T_GROUPS.c.kind),
        ]
    return parts


def dashboard(session: Session, scope: Scope, filters: Filters, *, today: dt.date,
              prices: Mapping[str, int], weeks: int = TREND_WEEKS, quiet_since: dt.date | None = None) -> Dashboard:
    """Every figure of the dashboard over ``scope`` narrowed by ``filters``, as of ``today``: one round trip.

    ``quiet_since``: also count the groups of the scope nobody has visited after that day
    (``Dashboard.unvisited``; not for a place or project rollup: see :func:`count_unvisited`)."""
    this_week = week_of(today)
    first_week = this_week - dt.timedelta(weeks=weeks - 1)
    meeting_from = this_week - dt.timedelta(weeks=MEETING_WEEKS - 1)
    month = month_of(dt.datetime.combine(today, dt.time(12), dt.UTC))
    sc = _as_scope(scope)
    quiet = quiet_since is not None
    stmt = _statement(sc, filters, quiet)
    params = {"quiet_since": quiet_since, "quiet_cap": QUIET_CAP, "first_week": first_week, "month": month, "f_region": filters.region, "f_kind": filters.kind,
              "regions": list(sc.regions) if sc is not None else [],
              "coordinator": sc.coordinator_id if sc is not None else None,
              "r_dim": sc.rollup[0] if sc is not None and sc.rollup is not None else None,
              "r_ref": sc.rollup[1] if sc is not None and sc.rollup is not None else None}
    now: dict[str, Figures] = {}
    moves: dict[str, dict[dt.date, Figures]] = defaultdict(dict)
    sms: dict[str, tuple[int, int]] = {}
    keys: set[tuple[str, str]] = set()
    sides = {"quiet": 0, "recent": 0}
    for r in session.execute(stmt, params) if stmt is not None else []:
        tag, cur, region, kind, week = r[:5]
        if tag in sides:
            sides[tag] = int(r[5] or 0)
            continue
        if tag == "key":
            keys.add((region, kind))
            continue
        fig = Figures(*(int(v or 0) for v in r[5:]))
        if tag == "now":
            now[cur] = now.get(cur, Figures()).plus(fig)
        elif tag == "week":
            moves[cur][week] = moves[cur].get(week, Figures()).plus(fig)
        elif tag == "sms":
            sent, segments = sms.get(cur, (0, 0))
            sms[cur] = (sent + fig.groups, segments + fig.members)
    lines: list[CurrencyLine] = []
    trends: list[Trend] = []
    week_list = [first_week + dt.timedelta(weeks=i) for i in range(weeks)]
    for cur in sorted(set(now) | set(sms)):
        fig = now.get(cur, Figures())
        cur_moves = moves.get(cur, {})
        sent, segments = sms.get(cur, (0, 0))
        if fig.is_zero() and not sent and not segments:
            continue  # kept rows of a currency whose groups all left the scope: nothing to show
        price = prices.get(cur)
        lines.append(CurrencyLine(cur, fig, sum(f.meetings for w, f in cur_moves.items() if w >= meeting_from),
                                  sent, segments, segments * price if price is not None else None))
        trends.append(_trend(cur, fig, cur_moves, week_list))
    unvisited = None
    if quiet:
        unvisited = _unvisited(sides["quiet"], sides["recent"], sum(f.groups for f in now.values()), QUIET_CAP)
    return Dashboard(today, month, filters, lines, trends,
                     regions=sorted({r for r, _ in keys}), kinds=sorted({k for _, k in keys}), unvisited=unvisited)


def _trend(currency: str, now: Figures, moves: dict[dt.date, Figures], weeks: list[dt.date]) -> Trend:
    """Each figure at the end of each week: today's value less the moves of the weeks after."""
    names = ("savings", "loans_outstanding", "par30", "par_base", "members")
    value = {n: getattr(now, n) for n in names}
    ends: dict[str, list[int]] = {n: [] for n in names}
    for w in reversed(weeks):
        for n in names:
            ends[n].append(value[n])
        move = moves.get(w)
        if move is not None:
            for n in names:
                value[n] -= getattr(move, n)
    for n in names:
        ends[n].reverse()
    par30 = [risk * 10_000 // base if base else 0 for risk, base in zip(ends["par30"], ends["par_base"], strict=True)]
    empty = Figures()
    return Trend(currency, weeks, {"savings": ends["savings"], "loans_outstanding": ends["loans_outstanding"],
                                   "par30": par30, "members": ends["members"],
                                   "meetings": [moves.get(w, empty).meetings for w in weeks]})


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
