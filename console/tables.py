"""The console's tables, each built once for its page and for its CSV / XLSX export.

A table is columns (key, label msgid, kind) and rows (dicts of raw values:
minor units for money, with the row's ``currency``). Pages format the values
in the staff member's language; exports write plain numbers (money in major
units) so a spreadsheet can sum them. ``TABLES`` maps an export name to its
builder: ``builder(session, staff, args) -> Table`` (``args``: the page's query
string, so an export has the page's filters), raising 404 for what the staff
member may not see.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import abort, url_for
from markupsafe import Markup, escape
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from console.blueprint import bp
from console.models import STAFF_ROLE_LABELS, AuditEntry, Staff
from console.scope import group_filter, group_or_404
from console.web import tr, url_maker
from groups.models import Group, GroupKind, Member, Membership, Status
from i18n import N_, Translator, translator
from ledger.loans import LoanRow, days_past_due
from ledger.models import Loan, LoanStatus, Txn
from ledger.money import minor_digits
from ledger.queries import KIND_LABELS
from orgs.places import group_ids_in

PAGE = 50


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # msgid
    kind: str = "text"  # text | money | number | date | datetime | label (a msgid to translate)
    link: Callable[[dict[str, Any]], str | None] | None = None
    wide: bool = False  # left out on a phone's narrow screen (still in the export)


@dataclass
class Table:
    name: str  # export name (TABLES key)
    title: str  # msgid
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    args: dict[str, Any] = field(default_factory=dict)  # what the export link repeats
    more: bool = False  # a next page exists (pages only; exports have every row)


def major(minor: int, currency: str) -> Decimal:
    return Decimal(int(minor or 0)).scaleb(-minor_digits(currency))


# -- groups ---------------------------------------------------------------------

GROUP_FILTERS = ("q", "region", "kind", "place", "project")


def groups_query(staff: Staff, args: dict[str, Any]) -> Select[Group]:
    q = (args.get("q") or "").strip()
    stmt = select(Group).where(group_filter(staff))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Group.name).like(like), func.lower(Group.code).like(like)))
    if args.get("region"):
        stmt = stmt.where(Group.region == args["region"])
    if args.get("kind") in {k.value for k in GroupKind}:
        stmt = stmt.where(Group.kind == GroupKind(args["kind"]))
    place, project = (str(args.get(k) or "") for k in ("place", "project"))
    if place.isdigit() or project.isdigit():  # the place's subtree, the project's groups
        stmt = stmt.where(Group.id.in_(group_ids_in(int(place) if place.isdigit() else None,
                                                    int(project) if project.isdigit() else None)))
    return stmt.order_by(Group.code)  # the unique index on code: a page of 300,000 groups reads 51 rows


def groups_table(session: Session, staff: Staff, args: dict[str, Any], page: int | None = None) -> Table:
    stmt = groups_query(staff, args)
    if page is not None:
        stmt = stmt.limit(PAGE + 1).offset((page - 1) * PAGE)
    groups = list(session.scalars(stmt))
    more = page is not None and len(groups) > PAGE
    groups = groups[:PAGE] if page is not None else groups
    counts = dict(session.execute(
        select(Membership.group_id, func.count(Membership.id))
        .where(Membership.group_id.in_([g.id for g in groups]), Membership.status == Status.ACTIVE)
        .group_by(Membership.group_id)).all()) if groups else {}
    rows = [dict(id=g.id, code=g.code, name=g.name, kind=g.kind.value.upper(), region=g.region or "",
                 country=g.country, currency=g.currency, members=int(counts.get(g.id, 0)),
                 status=g.status.value) for g in groups]
    return Table("groups", N_("Groups"), [
        Column("code", N_("Code")),
        Column("name", N_("Name"), link=lambda r: url_for("console.group_page", group_id=r["id"])),
        Column("kind", N_("Kind")),
        Column("region", N_("Region")),
        Column("country", N_("Country"), wide=True),
        Column("currency", N_("Currency"), wide=True),
        Column("members", N_("Members"), "number"),
    ], rows, {k: v for k, v in args.items() if k in GROUP_FILTERS and v}, more)


def regions(session: Session, staff: Staff) -> list[str]:
    return [r for r in session.scalars(select(Group.region).where(group_filter(staff), Group.region.is_not(None))
                                       .distinct().order_by(Group.region)) if r]


# -- a group's members and loans -------------------------------------------------

ROLE_LABELS = {"member": N_("Member"), "treasurer": N_("Treasurer"), "chair": N_("Chair"),
               "secretary": N_("Secretary")}
STATUS_LABELS = {"active": N_("Active"), "inactive": N_("Removed")}
LOAN_LABELS = {LoanStatus.REQUESTED.value: N_("Requested"), LoanStatus.APPROVED.value: N_("Approved"),
               LoanStatus.DECLINED.value: N_("Declined"), LoanStatus.ACTIVE.value: N_("Being repaid"),
               LoanStatus.CLOSED.value: N_("Repaid")}


def _group_arg(session: Session, staff: Staff, args: dict[str, Any]) -> Group:
    try:
        group_id = int(args.get("group_id") or 0)
    except ValueError:
        abort(404)
    return group_or_404(session, staff, group_id)


# Plain table columns, not ORM entities, built once: a group's page reads these on every view.
_M, _P, _L = Membership.__table__, Member.__table__, Loan.__table__
_MEMBERS = (select(_M.c.id, _M.c.member_id, _M.c.number, _M.c.role, _M.c.status, _P.c.name, _P.c.phone,
                   _P.c.language, _P.c.pin_locked, _P.c.pin_hash.is_not(None).label("has_pin"))
            .join_from(_M, _P, _P.c.id == _M.c.member_id).where(_M.c.group_id == bindparam("group_id"))
            .order_by(_M.c.status, _M.c.number))
_LOANS = (select(_L.c.id, _L.c.principal, _L.c.charge, _L.c.principal_paid, _L.c.charge_paid, _L.c.term,
                 _L.c.unit, _L.c.disbursed_on, _L.c.status, _L.c.requested_on, _P.c.name)
          .join_from(_L, _P, _P.c.id == _L.c.member_id).where(_L.c.group_id == bindparam("group_id"))
          .order_by(_L.c.id.desc()))
_MEMBER_LOANS = _LOANS.where(_L.c.member_id == bindparam("member_id"))


def members_table(session: Session, staff: Staff, args: dict[str, Any], group: Group | None = None,
                  records: Any = None) -> Table:
    """``group``: the group already read (and its scope checked) by the caller's page; ``records``:
    its members already read (rows like ``_MEMBERS``'s, in its order)."""
    group = group if group is not None else _group_arg(session, staff, args)
    if records is None:
        records = session.execute(_MEMBERS, {"group_id": group.id})
    member_url = url_maker("console.member_page", group_id=group.id, member_id=None)
    rows = [dict(id=r.id, member_id=r.member_id, group_id=group.id, number=r.number, name=r.name, phone=r.phone,
                 role=ROLE_LABELS[r.role.value], language=r.language, status=STATUS_LABELS[r.status.value],
                 pin=N_("Locked") if r.pin_locked else (N_("Set") if r.has_pin else N_("Not set")))
            for r in records]
    return Table("members", N_("Members"), [
        Column("number", N_("No."), "number"),
        Column("name", N_("Name"), link=lambda r: member_url(r["member_id"])),
        Column("phone", N_("Phone")),
        Column("role", N_("Role"), "label"),
        Column("language", N_("Language"), wide=True),
        Column("pin", N_("PIN"), "label", wide=True),
        Column("status", N_("Status"), "label"),
    ], rows, {"group_id": group.id})


def loans_table(session: Session, staff: Staff, args: dict[str, Any], group: Group | None = None,
                records: Any = None, meets: Any = None) -> Table:
    """``group``: the group already read (and its scope checked) by the caller's page; ``records``:
    its loans already read (rows like ``_LOANS``'s, in its order); ``meets``: its meeting days
    (``groups.changes.meeting_days``'s function) already known."""
    group = group if group is not None else _group_arg(session, staff, args)
    today = dt.date.today()
    if records is None:
        params: dict[str, Any] = {"group_id": group.id}
        stmt = _LOANS
        if args.get("member_id"):
            stmt, params["member_id"] = _MEMBER_LOANS, int(args["member_id"])
        records = session.execute(stmt, params)
    rows = []
    from groups.changes import meeting_days

    if meets is None:
        meets = meeting_days(session, [group.id]).get(group.id)
    for r in records:
        loan = LoanRow(r.id, r.principal, r.charge, r.principal_paid, r.charge_paid, r.term, r.unit,
                       r.disbursed_on, r.status)
        active = loan.status == LoanStatus.ACTIVE
        rows.append(dict(ref=loan.ref, member=r.name, currency=group.currency, principal=loan.principal,
                         charge=loan.charge, paid=loan.paid, outstanding=loan.outstanding if active else 0,
                         status=LOAN_LABELS.get(loan.status.value, loan.status.value),
                         requested_on=r.requested_on, disbursed_on=loan.disbursed_on,
                         days_late=days_past_due(loan, today, meets) if active else 0))
    args_out = {"group_id": group.id, **({"member_id": args["member_id"]} if args.get("member_id") else {})}
    return Table("loans", N_("Loans"), [
        Column("ref", N_("Loan")),
        Column("member", N_("Member")),
        Column("status", N_("State"), "label"),
        Column("principal", N_("Amount"), "money"),
        Column("charge", N_("Service charge"), "money", wide=True),
        Column("paid", N_("Paid"), "money"),
        Column("outstanding", N_("Outstanding"), "money"),
        Column("days_late", N_("Days late"), "number"),
        Column("requested_on", N_("Requested"), "date", wide=True),
        Column("disbursed_on", N_("Paid out"), "date", wide=True),
    ], rows, args_out)


def statement_table(session: Session, staff: Staff, args: dict[str, Any]) -> Table:
    group = _group_arg(session, staff, args)
    try:
        member_id = int(args.get("member_id") or 0)
    except ValueError:
        abort(404)
    if session.scalar(select(Membership.id).where(Membership.group_id == group.id,
                                                  Membership.member_id == member_id)) is None:
        abort(404)
    txns = session.scalars(select(Txn).where(Txn.group_id == group.id, Txn.member_id == member_id)
                           .order_by(Txn.id.desc()).limit(500))
    rows = [dict(on=t.on, ref=t.ref, kind=KIND_LABELS.get(t.kind.value, t.kind.value), currency=group.currency,
                 amount=t.amount, shares=t.shares or 0, balance=t.balance_after,
                 note=N_("Corrected") if t.reversed else "") for t in txns]
    return Table("statement", N_("Statement"), [
        Column("on", N_("Date"), "date"),
        Column("ref", N_("Receipt")),
        Column("kind", N_("What"), "label"),
        Column("amount", N_("Amount"), "money"),
        Column("balance", N_("Balance after"), "money"),
        Column("note", N_("Note"), "label"),
    ], rows, {"group_id": group.id, "member_id": member_id})


# -- admin tables ---------------------------------------------------------------

def staff_table(session: Session, staff: Staff, args: dict[str, Any]) -> Table:
    if not staff.is_admin:
        abort(404)
    from orgs.models import Centre

    centres: dict[int | None, str] = dict(session.execute(select(Centre.id, Centre.name)).all())
    rows = [dict(id=s.id, name=s.name, phone=s.phone, role=STAFF_ROLE_LABELS[s.role],
                 centre=centres.get(s.centre_id, ""), language=s.language,
                 active=N_("Yes") if s.active else N_("No"), last_login=s.last_login_at)
            for s in session.scalars(select(Staff).order_by(Staff.name))]
    return Table("staff", N_("Staff"), [
        Column("name", N_("Name"), link=lambda r: url_for("console.staff_edit", staff_id=r["id"])),
        Column("phone", N_("Phone")),
        Column("role", N_("Role"), "label"),
        Column("centre", N_("Centre"), wide=True),
        Column("language", N_("Language")),
        Column("active", N_("Can log in"), "label"),
        Column("last_login", N_("Last login (UTC)"), "datetime"),
    ], rows)


def audit_table(session: Session, staff: Staff, args: dict[str, Any]) -> Table:
    if not staff.is_admin:
        abort(404)
    names: dict[int | None, str] = dict(session.execute(select(Staff.id, Staff.name)).all())
    rows = [dict(at=e.at, who=names.get(e.staff_id, ""), action=e.action, target=e.target,
                 before=e.before or {}, after=e.after or {})
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(10_000))]
    return Table("audit", N_("Audit log"), [
        Column("at", N_("When (UTC)"), "datetime"),
        Column("who", N_("Who")),
        Column("action", N_("What")),
        Column("target", N_("Changed")),
        Column("before", N_("Before")),
        Column("after", N_("After")),
    ], rows)


TABLES: dict[str, Callable[[Session, Staff, dict[str, Any]], Table]] = {
    "groups": groups_table,
    "members": members_table,
    "loans": loans_table,
    "statement": statement_table,
    "staff": staff_table,
    "audit": audit_table,
}


# -- drawing a table (the pages' cells in one pass) ---------------------------------

@functools.lru_cache(maxsize=4096)
def _number_in(lang: str, n: int) -> str:
    return translator(lang).number(n)


Cell = Callable[[Any, dict[str, Any]], Any]  # (value, row) -> what the cell shows


def _cell_formats(t: Translator) -> dict[str, Cell]:
    """Column kind -> how a cell of that kind is written (as ``_macros.html``'s ``cell`` did)."""
    return {
        # a masked figure ("<5", "–", programme reports) is shown as it is
        "money": lambda v, row: v if isinstance(v, str) else t.money(int(v or 0), row["currency"]),
        "number": lambda v, row: v if isinstance(v, str) else _number_in(t.lang, int(v or 0)),
        "label": lambda v, row: t.gettext(v) if v else "",
        "date": lambda v, row: t.date(v, "d MMM yyyy") if v else "",
        "datetime": lambda v, row: v.strftime("%Y-%m-%d %H:%M") if v else "",
    }


def table_rows(table: Table) -> list[tuple[dict[str, Any], Markup]]:
    """A table's rows as the page shows them: (row, the row's cells as HTML), every value escaped.

    Written here in one pass: a Jinja expression per cell (a macro call, an escape, a join)
    cost more than the page's queries on a group of 15 members."""
    formats = _cell_formats(tr())
    cols = [(c.key, formats.get(c.kind), c.link,
             '<td class="%s">' % (("num" if c.kind in ("money", "number") else "") + (" wide" if c.wide else "")))
            for c in table.columns]
    out = []
    for row in table.rows:
        cells = []
        for key, fmt, link, td in cols:
            v = row[key]
            text = escape(fmt(v, row) if fmt else v)
            if link is not None and (url := link(row)):
                cells.append(f'{td}<a href="{escape(url)}">{text}</a></td>')
            else:
                cells.append(f"{td}{text}</td>")
        out.append((row, Markup("".join(cells))))
    return out


@bp.context_processor
def _table_helpers() -> dict[str, object]:
    return {"table_rows": table_rows}
