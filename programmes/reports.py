"""Programme reports: what a programme reports to its funders, by region, category, gender or month.

Counts of people (enrolled, started training, completed it, equipped, grant
confirmed) come from one scan of ``enrolments`` (their milestone dates; the
index ``ix_enrolments_programme_group`` narrows to the programme and, for a
coordinator, her groups); counts of businesses (started, still going after 6
and 12 months) from one scan of ``businesses``. A period (``start``..``end``)
counts each figure by its own date: people enrolled in it, trained in it, ...

Small counts are masked (:func:`mask`): any count under 5 is shown as "<5"
(zero included: a zero says something about everyone in its row). A total
could give a masked cell away by subtraction, so when a column has exactly one
masked cell the next smallest cell of that column is hidden too (shown as
"–"); the total itself is masked only when it is under 5 or when the only
row is masked. See README ("Programmes").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import String, and_, case, cast, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from groups.models import Member
from i18n import N_
from programmes.models import (
    CATEGORIES,
    Business,
    Enrolment,
    Grant,
    GrantStatus,
    MemberCategory,
    StageReached,
    Trade,
)

SMALL = 5
MASKED = "<5"
HIDDEN = "–"

PEOPLE = ("enrolled", "trained", "completed", "equipped", "confirmed")
BUSINESS = ("started", "active_6m", "active_12m")
METRICS = PEOPLE + BUSINESS
METRIC_LABELS = {
    "enrolled": N_("Enrolled"),
    "trained": N_("Started training"),
    "completed": N_("Completed training"),
    "equipped": N_("Equipped"),
    "confirmed": N_("Grant confirmed"),
    "started": N_("Businesses started"),
    "active_6m": N_("Active after 6 months"),
    "active_12m": N_("Active after 12 months"),
}
DIMENSIONS = {"region": N_("Region"), "category": N_("Category"), "gender": N_("Gender"),
              "period": N_("Month")}
GENDERS = {"female": N_("Woman"), "male": N_("Man"), "other": N_("Other")}
NOT_RECORDED = N_("Not recorded")
NO_CATEGORY = N_("No category")
GROUP_BUSINESS = N_("Group business")

_DATES = {"enrolled": Enrolment.enrolled_on, "trained": Enrolment.trained_on,
          "completed": Enrolment.completed_on, "equipped": Enrolment.equipped_on,
          "confirmed": Enrolment.confirmed_on}


@dataclass
class Report:
    by: str
    rows: list[tuple[str | None, dict[str, int]]]  # (key: a msgid, a region, a month; counts)
    total: dict[str, int]
    stages: dict[str, int] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)


def _in(column: Any, start: dt.date | None, end: dt.date | None) -> ColumnElement[bool]:
    clauses = [column.is_not(None)]
    if start is not None:
        clauses.append(column >= start)
    if end is not None:
        clauses.append(column <= end)
    return and_(*clauses)


def _month(column: Any) -> ColumnElement[str]:
    """'YYYY-MM' of a date column, the same on SQLite and PostgreSQL."""
    # literal numbers: PostgreSQL matches the GROUP BY expression only when it is the same text
    return func.substr(cast(column, String), literal_column("1"), literal_column("7"))


AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])


def _scoped(stmt: AnySelect, column: Any, groups: Select[int] | None) -> AnySelect:
    return stmt if groups is None else stmt.where(column.in_(groups))


def _people_key(by: str) -> tuple[Any, list[tuple[Any, Any]]]:
    """The grouping expression over enrolments, and the joins it needs."""
    if by == "gender":
        return Member.gender, [(Member, Member.id == Enrolment.member_id)]
    if by == "category":
        return MemberCategory.category, [(MemberCategory, MemberCategory.member_id == Enrolment.member_id)]
    return Enrolment.region, []


def _people(session: Session, programme_id: int, by: str, groups: Select[int] | None, start: dt.date | None,
            end: dt.date | None, keyed: bool = True) -> dict[Any, dict[str, int]]:
    key, joins = _people_key(by) if keyed else (literal("all"), [])
    sums = [func.sum(case((_in(col, start, end), 1), else_=0)).label(name) for name, col in _DATES.items()]
    stmt = select(key.label("k"), *sums).select_from(Enrolment)
    for table, on in joins:
        stmt = stmt.outerjoin(table, on)
    stmt = _scoped(stmt.where(Enrolment.programme_id == programme_id), Enrolment.group_id, groups).group_by(key)
    return {row.k: {name: int(getattr(row, name) or 0) for name in _DATES} for row in session.execute(stmt)}


def _people_by_month(session: Session, programme_id: int, groups: Select[int] | None, start: dt.date | None,
                     end: dt.date | None) -> dict[Any, dict[str, int]]:
    out: dict[Any, dict[str, int]] = {}
    for name, col in _DATES.items():
        stmt = _scoped(select(_month(col).label("k"), func.count().label("n")).select_from(Enrolment)
                       .where(Enrolment.programme_id == programme_id, _in(col, start, end)),
                       Enrolment.group_id, groups).group_by(_month(col))
        for k, n in session.execute(stmt):
            out.setdefault(k, {})[name] = int(n)
    return out


def _business_sums(today: dt.date, start: dt.date | None, end: dt.date | None) -> list[Any]:
    started = _in(Business.started_on, start, end)
    def lasted(col: Any) -> ColumnElement[bool]:
        return and_(started, col <= today, or_(Business.closed_on.is_(None), Business.closed_on >= col))
    return [func.sum(case((started, 1), else_=0)).label("started"),
            func.sum(case((lasted(Business.six_months_on), 1), else_=0)).label("active_6m"),
            func.sum(case((lasted(Business.twelve_months_on), 1), else_=0)).label("active_12m")]


def _business_key(by: str) -> tuple[Any, list[tuple[Any, Any]]]:
    owner = Enrolment.id == Business.enrolment_id
    if by == "gender":
        return (case((Business.enrolment_id.is_(None), literal("__group")), else_=Member.gender),
                [(Enrolment, owner), (Member, Member.id == Enrolment.member_id)])
    if by == "category":
        return (case((Business.enrolment_id.is_(None), literal("__group")), else_=MemberCategory.category),
                [(Enrolment, owner), (MemberCategory, MemberCategory.member_id == Enrolment.member_id)])
    if by == "period":
        return _month(Business.started_on), []
    return Business.region, []


def _businesses(session: Session, programme_id: int, by: str, groups: Select[int] | None, today: dt.date,
                start: dt.date | None, end: dt.date | None, keyed: bool = True) -> dict[Any, dict[str, int]]:
    key, joins = _business_key(by) if keyed else (literal("all"), [])
    stmt = select(key.label("k"), *_business_sums(today, start, end)).select_from(Business)
    for table, on in joins:
        stmt = stmt.outerjoin(table, on)
    stmt = _scoped(stmt.where(Business.programme_id == programme_id), Business.group_id, groups).group_by(key)
    return {row.k: {name: int(getattr(row, name) or 0) for name in BUSINESS} for row in session.execute(stmt)}


def programme_report(session: Session, programme_id: int, *, by: str = "region", groups: Select[int] | None = None,
                     start: dt.date | None = None, end: dt.date | None = None,
                     today: dt.date | None = None) -> Report:
    """The programme's figures by ``by`` (region, category, gender, period), raw counts (unmasked).

    ``groups``: a SELECT of the group ids the reader may see (None: the whole programme).
    """
    by = by if by in DIMENSIONS else "region"
    today = today or dt.date.today()
    if by == "period":
        people = _people_by_month(session, programme_id, groups, start, end)
    else:
        people = _people(session, programme_id, by, groups, start, end)
    business = _businesses(session, programme_id, by, groups, today, start, end)
    keys = sorted(set(people) | set(business), key=lambda k: (k is None, str(k)))
    zero = dict.fromkeys(METRICS, 0)
    rows = [(_label(by, k), {**zero, **people.get(k, {}), **business.get(k, {})}) for k in keys]
    if by == "category":  # a person may be in two categories: the rows do not add up to the total
        total_people = _people(session, programme_id, by, groups, start, end, keyed=False).get("all", {})
        total_business = _businesses(session, programme_id, by, groups, today, start, end, keyed=False).get("all", {})
        total = {**dict.fromkeys(METRICS, 0), **total_people, **total_business}
    else:  # every person and business is in exactly one row
        total = {m: sum(c[m] for _, c in rows) for m in METRICS}
    return Report(by, rows, total, _stages(session, programme_id, groups, start, end),
                  _trades(session, programme_id, groups, start, end))


def _label(by: str, key: Any) -> str | None:
    if key == "__group":
        return GROUP_BUSINESS
    if by == "category":
        return CATEGORIES.get(key, NO_CATEGORY) if key else NO_CATEGORY
    if by == "gender":
        return GENDERS.get(key, NOT_RECORDED) if key else NOT_RECORDED
    return key or NOT_RECORDED


def _stages(session: Session, programme_id: int, groups: Select[int] | None, start: dt.date | None,
            end: dt.date | None) -> dict[str, int]:
    stmt = _scoped(select(StageReached.stage, func.count())
                   .where(StageReached.programme_id == programme_id, _in(StageReached.reached_on, start, end)),
                   StageReached.group_id, groups).group_by(StageReached.stage)
    return {stage: int(n) for stage, n in session.execute(stmt)}


def _trades(session: Session, programme_id: int, groups: Select[int] | None, start: dt.date | None,
            end: dt.date | None) -> list[dict[str, Any]]:
    confirmed = case((Grant.status == GrantStatus.CONFIRMED, 1), else_=0)
    pending = case((Grant.status == GrantStatus.PENDING, 1), else_=0)
    disputed = case((Grant.status == GrantStatus.DISPUTED, 1), else_=0)
    stmt = _scoped(select(Trade.name, Trade.code, func.count(func.distinct(Grant.enrolment_id)), func.count(),
                          func.sum(confirmed), func.sum(pending), func.sum(disputed), func.sum(Grant.value),
                          func.min(Grant.currency))
                   .join(Trade, Trade.id == Grant.trade_id)
                   .where(Grant.programme_id == programme_id, _in(Grant.given_on, start, end)),
                   Grant.group_id, groups).group_by(Trade.name, Trade.code).order_by(Trade.name)
    return [dict(trade=name, code=code, people=int(p), grants=int(g), confirmed=int(c or 0), pending=int(u or 0),
                 disputed=int(d or 0), value=int(v or 0), currency=cur)
            for name, code, p, g, c, u, d, v, cur in session.execute(stmt)]


# -- masking -----------------------------------------------------------------------------------

def masked(n: int) -> bool:
    return n < SMALL


def mask_column(values: list[int], total: int | None) -> tuple[list[int | str], int | str | None]:
    """One column of a breakdown, masked: counts under 5 as "<5"; if exactly one cell is masked,
    the smallest other cell is hidden too ("–"), so the total cannot give the masked one away."""
    shown: list[int | str] = [MASKED if masked(v) else v for v in values]
    small = [i for i, v in enumerate(values) if masked(v)]
    if len(small) == 1:
        others = sorted((v, i) for i, v in enumerate(values) if not masked(v))
        if others:
            shown[others[0][1]] = HIDDEN
    total_shown: int | str | None = total
    if total is not None and (masked(total) or (len(values) == 1 and small)):
        total_shown = MASKED if masked(total) else HIDDEN
    return shown, total_shown


def mask(report: Report) -> tuple[list[tuple[str | None, dict[str, int | str]]], dict[str, int | str]]:
    """The report's rows and total as they may be shown (every metric column masked)."""
    rows: list[tuple[str | None, dict[str, int | str]]] = [(k, {}) for k, _ in report.rows]
    total: dict[str, int | str] = {}
    for m in METRICS:
        shown, t = mask_column([c[m] for _, c in report.rows], report.total.get(m, 0))
        for i, v in enumerate(shown):
            rows[i][1][m] = v
        total[m] = t if t is not None else 0
    return rows, total


def mask_counts(counts: dict[str, int]) -> dict[str, int | str]:
    """A list of counts that are not parts of one total (stages): each under 5 as "<5"."""
    return {k: MASKED if masked(v) else v for k, v in counts.items()}


def mask_trades(trades: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The equipped-by-trade rows with their counts masked (each count column as a breakdown)."""
    out = [dict(t) for t in trades]
    for col in ("people", "grants", "confirmed", "pending", "disputed"):
        shown, _ = mask_column([t[col] for t in trades], None)
        for row, v in zip(out, shown, strict=True):
            row[col] = v
    for row, raw in zip(out, trades, strict=True):
        if masked(raw["people"]):
            row["value"] = HIDDEN  # the value of one or two people's grants is theirs
    return out
