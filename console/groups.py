"""Groups: the list (search, region, kind), a group's page, create and edit a group."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple
from zoneinfo import available_timezones

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Text,
    Time,
    bindparam,
    case,
    cast,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from console.audit import record
from console.auth import logged_in_staff, staff_required
from console.blueprint import bp
from console.messages import explain
from console.orgs import remember_choices
from console.scope import group_filter, group_or_404
from console.tables import GROUP_FILTERS, ROLE_LABELS, groups_table, loans_table, members_table, regions
from console.web import _, services, tr, url_maker
from groups.changes import reschedule
from groups.models import CoordinatorGroup, Group, GroupKind, Member, Membership, Role, Status
from groups.schedule import Change, meeting_day_for, meeting_on_or_after, rhythm_of
from groups.service import SetupError, create_group
from i18n import LANGUAGES, N_
from ledger.books import group_today
from ledger.figures import Figures
from ledger.models import Cycle, Loan, LoanStatus, Meeting
from ledger.money import AmountError, parse_amount
from ledger.summaries import Summary, group_summary
from messaging.models import InboxMessage, OutboxMessage
from orgs.models import Place
from orgs.places import region_name, set_group_place
from reports.models import FIGURES, ReportGroup

#: How far back the member page looks for a member's SMS: the outbox keeps no index by
#: member (reminders and broadcasts write it in bulk), so only its newest rows are searched.
#: (A group's page reads the group's own SMS by the index on (group_id, id), however old.)
RECENT_OUTBOX_ROWS = 20_000
SCHEDULE_FIELDS = ("timezone", "meeting_weekday", "meeting_time", "meeting_every_weeks",
                   "reminder_days_before", "reminder_time")
MONEY_FIELDS = ("saving_amount", "share_value", "social_fund_amount")
INT_FIELDS = {"shares_min": (1, 100), "shares_max": (1, 100), "max_active_loans": (1, 10),
              "loan_limit_multiplier": (1, 20), "meeting_every_weeks": (1, 2), "reminder_days_before": (0, 6)}
TIMEZONES = sorted(available_timezones())
SMS_STATUS = {"pending": N_("Waiting"), "sending": N_("Sending"), "sent": N_("Sent"), "delivered": N_("Delivered"),
              "failed": N_("Failed"), "rejected": N_("Refused")}


@bp.get("/groups")
@staff_required
def groups() -> ResponseReturnValue:
    staff = logged_in_staff()
    args = {k: request.args.get(k, "") for k in GROUP_FILTERS}
    page = max(1, request.args.get("page", 1, type=int))
    with services().db.transaction() as s:
        table = groups_table(s, staff, args, page=page)
        known_regions = regions(s, staff)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render_template("console/_groups_results.html", table=table, page=page, args=args)
    return render_template("console/groups.html", table=table, page=page, args=args, regions=known_regions,
                           kinds=[k.value for k in GroupKind])


# -- a group's page ---------------------------------------------------------------

def upcoming_meetings(group: Group, n: int = 6) -> list[dt.date]:
    rhythm = rhythm_of(group)
    day, out = group_today(group), []
    for _i in range(n):
        day = meeting_on_or_after(rhythm, day)
        out.append(day)
        day += dt.timedelta(days=1)
    return out


def _sms_rows(incoming: Iterable[Sequence[Any]], outgoing: Iterable[Sequence[Any]], limit: int) -> list[dict[str, Any]]:
    rows = [dict(at=r[0], direction="in", phone=r[1], text=r[2], status="") for r in incoming]
    rows += [dict(at=r[0], direction="out", phone=r[1], text=r[2], status=SMS_STATUS.get(_value(r[3]), ""))
             for r in outgoing]
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda r: (r["at"].replace(tzinfo=dt.UTC) if r["at"] and r["at"].tzinfo is None
                             else r["at"] or epoch), reverse=True)
    return rows[:limit]


def _value(status: Any) -> str:
    return getattr(status, "value", status) or ""


def recent_sms(session: Session, phones: list[str], member_ids: list[int] | None = None,
               group_id: int | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """The latest SMS from these phones (inbox, indexed) and to this group or these members
    among the outbox's newest rows, newest first (the member page; a group's page reads
    :func:`group_sms`)."""
    incoming = session.execute(select(InboxMessage.received_at, InboxMessage.from_phone, InboxMessage.text)
                               .where(InboxMessage.from_phone.in_(phones))
                               .order_by(InboxMessage.id.desc()).limit(limit)).all() if phones else []
    top = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0
    out_q = select(OutboxMessage.created_at, OutboxMessage.to_phone, OutboxMessage.text, OutboxMessage.status,
                   OutboxMessage.kind).where(OutboxMessage.id > top - RECENT_OUTBOX_ROWS)
    if group_id is not None:
        out_q = out_q.where(OutboxMessage.group_id == group_id)
    else:
        out_q = out_q.where(OutboxMessage.member_id.in_(member_ids or [-1]))
    outgoing = session.execute(out_q.order_by(OutboxMessage.id.desc()).limit(limit)).all()
    return _sms_rows(incoming, outgoing, limit)


def books(session: Session, group: Group, row: Any, cycles: Any) -> Summary:
    """This cycle's books: from the group's row of the dashboard's aggregates when it is current,
    else from the ledger (``group_summary``: five reads).

    The row is rewritten in the same transaction as every posting and change that moves a figure
    (``reports.maintain``), so its balances are the ledger's; only the date-dependent figures
    (PAR30, overdue loans, repayment rate) age, and they are current until ``refresh_at`` (the
    group's next local midnight; None when the group has no loans they depend on)."""
    if row is None or (row.refresh_at is not None and _aware(row.refresh_at) <= dt.datetime.now(dt.UTC)):
        return group_summary(session, group)
    fig = Figures(*(getattr(row, name) for name in FIGURES))
    open_cycle = next((c for c in cycles if c.ended_on is None), None)  # cycles: newest first
    return Summary(currency=group.currency, cycle=open_cycle.number if open_cycle else 1, members=fig.members,
                   cash_box=fig.cash_box, bank=fig.bank, savings=fig.savings, social_fund=fig.social_fund,
                   service_charges=fig.service_charges, fines=fig.fines, loans_outstanding=fig.loans_outstanding,
                   active_loans=fig.active_loans, overdue_loans=fig.overdue_loans, par30_bp=fig.par30_bp,
                   repayment_rate_bp=fig.repayment_rate_bp)


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)  # SQLite keeps no zone


# -- everything a group's page lists, in one round trip -------------------------------
#
# Its members, loans, cycles, last six meetings and latest SMS are read by one UNION ALL
# of SELECTs into the same columns (``what`` says which list a row belongs to): on a busy
# server each round trip to the database costs more than the reading itself.

_SLOTS: list[tuple[str, Any]] = [*((f"n{i}", BigInteger()) for i in range(1, 7)),
                                 *((f"s{i}", Text()) for i in range(1, 6)),
                                 ("d1", Date()), ("d2", Date()), ("at", DateTime(timezone=True)), ("t1", Time())]


def _part(what: str, **cols: Any) -> Any:
    """A SELECT into the slots: columns typed for reading only (SQLite would CAST a date to a number),
    empty slots as typed NULLs (PostgreSQL matches a UNION's types pairwise)."""
    return select(literal(what).label("what"), *((type_coerce(cols[name], type_) if name in cols
                                                  else cast(null(), type_)).label(name) for name, type_ in _SLOTS))


def _page_statement(sms: int = 10, meetings: int = 6, visits: int = 10) -> Any:
    from field.models import LoanCondition, Visit
    from groups.changes import MeetingChange
    from orgs.models import FieldWorker

    gid: BindParameter[int] = bindparam("group_id")
    g, place, above = Group.__table__, Place.__table__.alias("group_place"), Place.__table__.alias("above")
    mc, lc, fv, fw = MeetingChange.__table__, LoanCondition.__table__, Visit.__table__, FieldWorker.__table__
    seen = (select(fv.c.id, fv.c.visited_on, fv.c.note, fw.c.name).outerjoin(fw, fw.c.id == fv.c.field_worker_id)
            .where(fv.c.group_id == gid).order_by(fv.c.visited_on.desc(), fv.c.id.desc()).limit(visits).subquery())
    ms, p, ln, cy, mt = (Membership.__table__, Member.__table__, Loan.__table__, Cycle.__table__,
                         Meeting.__table__)
    inbox, outbox = InboxMessage.__table__, OutboxMessage.__table__
    met = select(mt.c.on).where(mt.c.group_id == gid).order_by(mt.c.on.desc()).limit(meetings).subquery()
    phones = select(p.c.phone).join_from(ms, p, p.c.id == ms.c.member_id).where(ms.c.group_id == gid)
    came = (select(inbox.c.id, inbox.c.received_at, inbox.c.from_phone, inbox.c.text)  # by the phone index
            .where(inbox.c.from_phone.in_(phones)).order_by(inbox.c.id.desc()).limit(sms).subquery())
    went = (select(outbox.c.id, outbox.c.created_at, outbox.c.to_phone, outbox.c.text, outbox.c.status)
            .where(outbox.c.group_id == gid).order_by(outbox.c.id.desc()).limit(sms).subquery())  # (group_id, id)
    return union_all(
        _part("member", n1=ms.c.id, n2=ms.c.member_id, n3=ms.c.number,
              n4=case((p.c.status == Status.ACTIVE, 1), else_=0), n5=case((p.c.pin_locked, 1), else_=0),
              n6=case((p.c.pin_hash.is_not(None), 1), else_=0), s1=ms.c.role, s2=p.c.name, s3=p.c.phone,
              s4=p.c.language, s5=ms.c.status).select_from(ms.join(p, p.c.id == ms.c.member_id)).where(ms.c.group_id == gid),
        _part("loan", n1=ln.c.id, n2=ln.c.principal, n3=ln.c.charge, n4=ln.c.principal_paid,
              n5=ln.c.charge_paid, n6=ln.c.term, s1=ln.c.unit, s2=p.c.name, s3=ln.c.status,
              d1=ln.c.disbursed_on, d2=ln.c.requested_on)
        .select_from(ln.join(p, p.c.id == ln.c.member_id)).where(ln.c.group_id == gid),
        _part("cycle", n1=cy.c.number, d1=cy.c.started_on, d2=cy.c.ended_on).where(cy.c.group_id == gid),
        _part("meeting", d1=met.c.on),
        _part("in", n1=came.c.id, at=came.c.received_at, s2=came.c.text, s3=came.c.from_phone),
        _part("out", n1=went.c.id, at=went.c.created_at, s2=went.c.text, s3=went.c.to_phone, s1=went.c.status),
        # the names along the group's place path (its place and the places above it)
        _part("place", n1=above.c.id, s2=above.c.name)
        .select_from(g.join(place, place.c.id == g.c.place_id).join(above, place.c.path.startswith(above.c.path)))
        .where(g.c.id == gid),
        # its moved and cancelled meetings (a loan's instalments fall on its meeting days)
        _part("change", d1=mc.c.regular_on, d2=mc.c.new_on, n1=case((mc.c.cancelled, 1), else_=0),
              t1=mc.c.new_time).where(mc.c.group_id == gid),
        _part("visit", n1=seen.c.id, d1=seen.c.visited_on, s1=seen.c.note, s2=seen.c.name),
        _part("condition", s1=lc.c.condition).where(lc.c.group_id == gid),
    )


_PAGE = _page_statement()


class MemberRecord(NamedTuple):  # as console.tables._MEMBERS reads a member
    id: int
    member_id: int
    number: int
    role: Role
    status: Status
    name: str
    phone: str
    language: str
    pin_locked: bool
    has_pin: bool


class LoanRecord(NamedTuple):  # as console.tables._LOANS reads a loan
    id: int
    principal: int
    charge: int
    principal_paid: int
    charge_paid: int
    term: int
    unit: str
    disbursed_on: dt.date | None
    status: LoanStatus
    requested_on: dt.date
    name: str


class CycleRow(NamedTuple):
    number: int
    started_on: dt.date
    ended_on: dt.date | None


class PageLists(NamedTuple):
    members: list[MemberRecord]  # removed ones last, then by number
    loans: list[LoanRecord]  # newest first
    cycles: list[CycleRow]  # newest first
    meetings: list[dt.date]  # the last six, newest first
    sms: list[dict[str, Any]]  # the ten latest, in and out, newest first
    places: dict[int, str]  # place id -> name, for the group's place and those above it
    changes: dict[dt.date, Change]  # its moved and cancelled meetings, by regular day
    visits: list[tuple[dt.date, str | None, str]]  # the ten latest field visits (day, worker, note), newest first
    active_members: int  # active memberships of active members (the size warning)
    condition: str | None  # its loan condition, if one is set


def page_lists(session: Session, group_id: int) -> PageLists:
    """Everything the group's page lists, in one statement whatever the size of the group."""
    members, loans, cycles, meetings, came, went, visits = [], [], [], [], [], [], []
    places: dict[int, str] = {}
    changes: dict[dt.date, Change] = {}
    active, condition = 0, None
    for r in session.execute(_PAGE, {"group_id": group_id}):
        if r.what == "member":
            members.append(MemberRecord(r.n1, r.n2, r.n3, Role(r.s1), Status(r.s5), r.s2, r.s3, r.s4,
                                        bool(r.n5), bool(r.n6)))
            active += members[-1].status == Status.ACTIVE and r.n4 == 1
        elif r.what == "place":
            places[r.n1] = r.s2
        elif r.what == "change":
            changes[r.d1] = Change(bool(r.n1), r.d2, r.t1)
        elif r.what == "visit":
            visits.append((r.n1, r.d1, r.s2, r.s1))
        elif r.what == "condition":
            condition = r.s1
        elif r.what == "loan":
            loans.append(LoanRecord(r.n1, r.n2, r.n3, r.n4, r.n5, r.n6, r.s1, r.d1, LoanStatus(r.s3), r.d2, r.s2))
        elif r.what == "cycle":
            cycles.append(CycleRow(r.n1, r.d1, r.d2))
        elif r.what == "meeting":
            meetings.append(r.d1)
        elif r.what == "in":
            came.append((r.at, r.s3, r.s2))
        else:
            went.append((r.at, r.s3, r.s2, r.s1))
    members.sort(key=lambda m: (m.status.value, m.number))  # as ORDER BY status, number
    loans.sort(key=lambda loan: loan.id, reverse=True)
    cycles.sort(key=lambda c: c.number, reverse=True)
    meetings.sort(reverse=True)
    visits.sort(key=lambda v: (v[1], v[0]), reverse=True)  # as ORDER BY visited_on DESC, id DESC
    return PageLists(members, loans, cycles, meetings, _sms_rows(came, went, 10), places, changes,
                     [(on, name, note) for _id, on, name, note in visits], int(active), condition)


@bp.get("/groups/<int:group_id>")
@staff_required
def group_page(group_id: int) -> ResponseReturnValue:
    """Three statements whatever the size of the group (a test holds the number): the session's
    staff member (``console.auth``), the group with its figures row and place path, and
    :func:`page_lists` (its lists, place names, meeting changes, field visits, size, loan condition)."""
    from console.field import field_panel
    staff = logged_in_staff()
    with services().db.transaction() as s:
        found = s.execute(select(Group, ReportGroup, Place.path)
                          .outerjoin(ReportGroup, ReportGroup.group_id == Group.id)
                          .outerjoin(Place, Place.id == Group.place_id)
                          .where(Group.id == group_id, group_filter(staff))).first()
        if found is None:
            abort(404)
        group, row, path = found
        lists = page_lists(s, group.id)
        ids = [int(x) for x in path.strip("/").split("/") if x] if path else []
        place_path = " › ".join(lists.places[i] for i in ids if i in lists.places)  # root first
        summary = books(s, group, row, lists.cycles)
        members = members_table(s, staff, {"group_id": group.id}, group=group, records=lists.members)
        meets = meeting_day_for(rhythm_of(group), lists.changes or None)
        loans = loans_table(s, staff, {"group_id": group.id}, group=group, records=lists.loans, meets=meets)
        field_view = field_panel(group, {"visits": lists.visits, "active_members": lists.active_members,
                                         "condition": lists.condition})
    return render_template("console/group.html", group=group, summary=summary, members=members, loans=loans,
                           cycles=lists.cycles, past=lists.meetings, upcoming=upcoming_meetings(group), sms=lists.sms,
                           weekday=tr().weekday(group.meeting_weekday), roles=ROLE_LABELS,
                           edit_url=url_maker("console.member_edit", group_id=group.id, membership_id=None),
                           place_path=place_path, field_view=field_view)


# -- create and edit ----------------------------------------------------------------

def _form_values(group: Group | None) -> dict[str, Any]:
    """The form's fields as text: the group's values, else the defaults of a new group."""
    if group is None:
        return dict(code="", name="", kind="shg", currency="", country="", language="en", timezone="UTC",
                    region="", place="", meeting_weekday="0", meeting_time="10:00", meeting_place="",
                    meeting_every_weeks="1", reminder_days_before="1", reminder_time="18:00",
                    saving_amount="", share_value="", social_fund_amount="", shares_min="1", shares_max="5",
                    max_active_loans="1", loan_limit_multiplier="3", service_charge="", plain_letters="",
                    loans_after_training="")
    def amount(minor: int) -> str:
        return _major_text(minor, group.currency)

    return dict(code=group.code, name=group.name, kind=group.kind.value, currency=group.currency,
                country=group.country, language=group.language, timezone=group.timezone, region=group.region or "",
                place=str(group.place_id or ""),
                meeting_weekday=str(group.meeting_weekday), meeting_time=group.meeting_time.strftime("%H:%M"),
                meeting_place=group.meeting_place, meeting_every_weeks=str(group.meeting_every_weeks),
                reminder_days_before=str(group.reminder_days_before),
                reminder_time=group.reminder_time.strftime("%H:%M"),
                saving_amount=amount(group.saving_amount), share_value=amount(group.share_value),
                social_fund_amount=amount(group.social_fund_amount), shares_min=str(group.shares_min),
                shares_max=str(group.shares_max), max_active_loans=str(group.max_active_loans),
                loan_limit_multiplier=str(group.loan_limit_multiplier),
                service_charge=f"{group.service_charge_bp / 100:g}", plain_letters="1" if group.plain_letters else "",
                loans_after_training="1" if group.loans_after_training else "")


def _major_text(minor: int, currency: str) -> str:
    from console.tables import major

    return "" if not minor else f"{major(minor, currency).normalize():f}"


def _parse_time(text: str) -> dt.time:
    hh, mm = text.strip().split(":")
    return dt.time(int(hh), int(mm))


def parse_group_form(form: dict[str, str], currency: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The rules typed in the form as Group values, and an error message per bad field."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    name = form.get("name", "").strip()
    if not name:
        errors["name"] = _("A group needs a name.")
    values["name"] = name[:120]
    language = form.get("language", "en")
    if language not in LANGUAGES:
        errors["language"] = _("Choose one of the languages in the list.")
    values["language"] = language
    timezone = form.get("timezone", "UTC").strip()
    if timezone not in TIMEZONES:
        errors["timezone"] = _("{timezone} is not a time zone Kassa knows.", timezone=timezone)
    values["timezone"] = timezone
    values["region"] = form.get("region", "").strip()[:80] or None
    values["meeting_place"] = form.get("meeting_place", "").strip()[:120]
    values["plain_letters"] = bool(form.get("plain_letters"))
    values["loans_after_training"] = bool(form.get("loans_after_training"))  # the programmes' rule
    try:
        values["meeting_weekday"] = int(form.get("meeting_weekday", "0"))
        if not 0 <= values["meeting_weekday"] <= 6:
            raise ValueError
    except ValueError:
        errors["meeting_weekday"] = _("Choose a day of the week.")
    for key in ("meeting_time", "reminder_time"):
        try:
            values[key] = _parse_time(form.get(key, ""))
        except ValueError:
            errors[key] = _("Write the time as HH:MM, for example 14:30.")
    for key, (low, high) in INT_FIELDS.items():
        text = form.get(key, "").strip()
        if not text.isdigit() or not low <= int(text) <= high:
            errors[key] = _("A whole number from {low} to {high}.", low=low, high=high)
        else:
            values[key] = int(text)
    if "shares_min" in values and "shares_max" in values and values["shares_max"] < values["shares_min"]:
        errors["shares_max"] = _("At least the minimum number of shares.")
    charge = form.get("service_charge", "").strip().replace(",", ".")
    if charge:
        try:
            bp_ = round(float(charge) * 100)
            if not 0 <= bp_ <= 10_000:
                raise ValueError
            values["service_charge_bp"] = bp_
        except ValueError:
            errors["service_charge"] = _("A percentage from 0 to 100.")
    if currency:
        for key in MONEY_FIELDS:
            text = form.get(key, "").strip()
            if text in ("", "0"):
                values[key] = 0
                continue
            try:
                values[key] = parse_amount(text, currency)
            except AmountError as exc:
                errors[key] = explain(tr(), exc)
    return values, errors


def _new_group_fields(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    from babel.numbers import get_currency_name

    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    values["code"] = form.get("code", "").strip().upper()
    kind = form.get("kind", "")
    if kind not in {k.value for k in GroupKind}:
        errors["kind"] = _("Choose a kind of group: SHG, VSLA or flexible.")
    values["kind"] = kind
    currency = form.get("currency", "").strip().upper()
    try:
        if len(currency) != 3 or get_currency_name(currency, locale="en") == currency:
            raise ValueError
    except ValueError:
        errors["currency"] = _("A currency code such as KES, AZN or VND.")
    values["currency"] = currency
    country = form.get("country", "").strip().upper()
    import phonenumbers

    if country not in phonenumbers.SUPPORTED_REGIONS:
        errors["country"] = _("A two-letter country code such as KE, AZ or VN.")
    values["country"] = country
    return values, errors


def _form_page(template_values: dict[str, Any], errors: dict[str, str], group: Group | None,
               status: int = 200) -> ResponseReturnValue:
    return render_template("console/group_form.html", form=template_values, errors=errors, group=group,
                           languages=LANGUAGES, timezones=TIMEZONES, kinds=[k.value for k in GroupKind],
                           weekdays=[tr().weekday(i) for i in range(7)]), status


class _BadPlace(Exception):
    pass


def _chosen_place(s: Session, form: dict[str, str]) -> Place | None:
    text = (form.get("place") or "").strip()
    if not text:
        return None
    place = s.get(Place, int(text)) if text.isdigit() else None
    if place is None:
        raise _BadPlace
    return place


@bp.route("/groups/new", methods=["GET", "POST"])
@staff_required
def group_new() -> ResponseReturnValue:
    if request.method == "GET":
        return _form_page(_form_values(None), {}, None)
    form = request.form.to_dict()
    head, errors = _new_group_fields(form)
    rules, rule_errors = parse_group_form(form, head["currency"] if "currency" not in errors else None)
    errors.update(rule_errors)
    if errors:
        return _form_page(form, errors, None, 400)
    staff = logged_in_staff()
    try:
        with services().db.transaction() as s:
            if rules.get("service_charge_bp") is None:
                rules.pop("service_charge_bp", None)
            place = _chosen_place(s, form)
            group = create_group(s, **head, **rules)
            if place is not None:
                set_group_place(s, group, place)
                rules.update(place_id=place.id, region=group.region)
            if not staff.is_admin and staff.coordinator is not None:
                s.add(CoordinatorGroup(coordinator_id=staff.coordinator.id, group_id=group.id))
            record(s, "group.create", f"group {group.code}", None, {**head, **rules}, group_id=group.id)
            group_id, code = group.id, group.code
    except _BadPlace:
        return _form_page(form, {"place": _("Choose places from the list.")}, None, 400)
    except SetupError as exc:
        field = "code" if exc.code.startswith("code") else "name"
        return _form_page(form, {field: explain(tr(), exc)}, None, 400)
    flash(_("Group {code} is created. Add its members now.", code=code), "info")
    return redirect(url_for("console.group_page", group_id=group_id), code=303)


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@staff_required
def group_edit(group_id: int) -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as s:
        group = group_or_404(s, staff, group_id)
        remember_choices(s)
        if request.method == "GET":
            return _form_page(_form_values(group), {}, group)
        form = request.form.to_dict()
        values, errors = parse_group_form(form, group.currency)
        if errors:
            return _form_page({**_form_values(group), **form}, errors, group, 400)
        try:
            place = _chosen_place(s, form)
        except _BadPlace:
            return _form_page({**_form_values(group), **form}, {"place": _("Choose places from the list.")}, group, 400)
        if "place" in form:  # the form offers places: the region follows the chosen place
            values["place_id"] = place.id if place is not None else None
            if place is not None:
                values["region"] = (region_name(s, place) or "")[:80] or None
        before = {k: getattr(group, k) for k in values}
        changed = {k: v for k, v in values.items() if before[k] != v}
        if changed:
            for key, value in changed.items():
                setattr(group, key, value)
            if any(k in SCHEDULE_FIELDS for k in changed):
                reschedule(group)  # the reminder planner plans the new rhythm afresh
            record(s, "group.edit", f"group {group.code}", {k: before[k] for k in changed}, changed,
                   group_id=group.id)
    flash(_("Saved.") if changed else _("Nothing was changed."), "info")
    return redirect(url_for("console.group_page", group_id=group_id), code=303)
