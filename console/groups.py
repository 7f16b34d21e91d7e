"""Groups: the list (search, region, kind), a group's page, create and edit a group."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import available_timezones

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from console import bp
from console.audit import record
from console.auth import current_staff, staff_required
from console.messages import explain
from console.orgs import remember_choices
from console.scope import group_or_404
from console.tables import GROUP_FILTERS, ROLE_LABELS, groups_table, loans_table, members_table, regions
from console.web import _, services, tr
from groups.models import CoordinatorGroup, Group, GroupKind, Member, Membership
from groups.schedule import meeting_on_or_after, rhythm_of
from groups.service import SetupError, create_group
from i18n import LANGUAGES, N_
from ledger.books import group_today
from ledger.models import Cycle, Meeting
from ledger.money import AmountError, parse_amount
from ledger.queries import group_summary
from messaging.models import InboxMessage, OutboxMessage
from orgs.models import Place
from orgs.places import ancestors, region_name, set_group_place
from outreach.planner import reschedule

#: How far back the group page looks for its SMS: the outbox keeps no index by group
#: (reminders and broadcasts write it in bulk), so only its newest rows are searched.
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
def groups():
    staff = current_staff()
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


def recent_sms(session: Session, phones: list[str], member_ids: list[int] | None = None,
               group_id: int | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """The latest SMS from these phones (inbox, indexed) and to this group or these members
    among the outbox's newest rows, newest first."""
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
    rows = [dict(at=r[0], direction="in", phone=r[1], text=r[2], status="") for r in incoming]
    rows += [dict(at=r[0], direction="out", phone=r[1], text=r[2], status=SMS_STATUS.get(r[3].value, ""))
             for r in outgoing]
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda r: (r["at"].replace(tzinfo=dt.UTC) if r["at"] and r["at"].tzinfo is None
                             else r["at"] or epoch), reverse=True)
    return rows[:limit]


@bp.get("/groups/<int:group_id>")
@staff_required
def group_page(group_id: int):
    staff = current_staff()
    with services().db.transaction() as s:
        group = group_or_404(s, staff, group_id)
        summary = group_summary(s, group)
        members = members_table(s, staff, {"group_id": group.id})
        loans = loans_table(s, staff, {"group_id": group.id})
        cycles = list(s.scalars(select(Cycle).where(Cycle.group_id == group.id).order_by(Cycle.number.desc())))
        past = list(s.scalars(select(Meeting).where(Meeting.group_id == group.id)
                              .order_by(Meeting.on.desc()).limit(6)))
        phones = list(s.scalars(select(Member.phone).join(Membership).where(Membership.group_id == group.id)))
        sms = recent_sms(s, phones, group_id=group.id)
        place = s.get(Place, group.place_id) if group.place_id else None
        place_path = " › ".join(p.name for p in ancestors(s, place)) if place else ""
    return render_template("console/group.html", group=group, summary=summary, members=members, loans=loans,
                           cycles=cycles, past=past, upcoming=upcoming_meetings(group), sms=sms,
                           weekday=tr().weekday(group.meeting_weekday), roles=ROLE_LABELS,
                           place_path=place_path)


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


def _form_page(template_values: dict[str, Any], errors: dict[str, str], group: Group | None, status: int = 200):
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
def group_new():
    if request.method == "GET":
        return _form_page(_form_values(None), {}, None)
    form = request.form.to_dict()
    head, errors = _new_group_fields(form)
    rules, rule_errors = parse_group_form(form, head["currency"] if "currency" not in errors else None)
    errors.update(rule_errors)
    if errors:
        return _form_page(form, errors, None, 400)
    staff = current_staff()
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
def group_edit(group_id: int):
    staff = current_staff()
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
