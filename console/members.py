"""A group's members: add, edit (name, language, number, role), remove; the member page
(position, statement, loans, messages) with its PIN reset; importing members from CSV or XLSX."""
from __future__ import annotations

import io
import json
import secrets
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from console.audit import record
from console.auth import logged_in_staff, staff_required
from console.blueprint import bp
from console.groups import recent_sms
from console.messages import explain
from console.scope import group_or_404
from console.tables import ROLE_LABELS, loans_table, statement_table
from console.web import _, services, tr
from db import run_after_commit
from groups.kinds import size_warning
from groups.letters import letters_for
from groups.models import Group, Member, Membership, Role, Status
from groups.phones import PhoneError
from groups.service import CSV_COLUMNS, SetupError, add_member, import_members, read_csv
from i18n import LANGUAGES, translator
from ledger.queries import member_position
from messaging.models import Priority
from messaging.outbox import queue_sms
from security.pins import reset_pin

IMPORT_SECONDS = 1800  # a previewed file waits this long for its confirmation
IMPORT_MAX_ROWS = 2000
IMPORT_MAX_BYTES = 1024 * 1024
IMPORT_KEY = "console:import:{}"


def _membership(s: Session, group_id: int, membership_id: int) -> tuple[Group, Membership]:
    group = group_or_404(s, logged_in_staff(), group_id)
    m = s.scalar(select(Membership).where(Membership.id == membership_id, Membership.group_id == group.id))
    if m is None:
        abort(404)
    return group, m


@bp.post("/groups/<int:group_id>/members")
@staff_required
def member_add(group_id: int) -> ResponseReturnValue:
    form = request.form
    role = form.get("role", "member")
    language = form.get("language") or None
    try:
        with services().db.transaction() as s:
            group = group_or_404(s, logged_in_staff(), group_id)
            if role not in ROLE_LABELS or (language and language not in LANGUAGES):
                abort(400)
            m = _reactivate(s, group, form) or add_member(s, group, phone=form.get("phone", ""),
                                                            name=form.get("name", ""), role=role,
                                                            language=language)
            record(s, "member.add", f"{group.code} #{m.number} {m.member.phone}", None,
                   {"name": m.member.name, "phone": m.member.phone, "role": m.role, "number": m.number},
                   group_id=group.id)
            name = m.member.name
            too_few_or_many = size_warning(s, group)
    except (SetupError, PhoneError) as exc:
        flash(explain(tr(), exc), "error")
        return redirect(url_for("console.group_page", group_id=group_id) + "#add-member", code=303)
    flash(_("{name} is now a member of the group.", name=name), "info")
    if too_few_or_many is not None:
        flash(too_few_or_many.render(tr()), "error")
    return redirect(url_for("console.group_page", group_id=group_id) + "#members", code=303)


def _reactivate(s: Session, group: Group, form: MultiDict[str, str]) -> Membership | None:
    """A removed member added again gets her old membership (and number) back."""
    from groups.phones import normalise_phone

    try:
        phone = normalise_phone(form.get("phone", ""), group.country)
    except PhoneError:
        return None
    m = s.scalar(select(Membership).join(Member).where(Membership.group_id == group.id, Member.phone == phone,
                                                       Membership.status == Status.INACTIVE))
    if m is not None:
        m.status = Status.ACTIVE
        m.role = Role(form.get("role", "member"))
        s.flush()
    return m


@bp.route("/groups/<int:group_id>/members/<int:membership_id>/edit", methods=["GET", "POST"])
@staff_required
def member_edit(group_id: int, membership_id: int) -> ResponseReturnValue:
    with services().db.transaction() as s:
        group, m = _membership(s, group_id, membership_id)
        if request.method == "GET":
            return render_template("console/member_form.html", group=group, m=m, errors={}, languages=LANGUAGES,
                                   roles=ROLE_LABELS)
        form = request.form
        errors: dict[str, str] = {}
        name = form.get("name", "").strip()
        if not name:
            errors["name"] = _("A member needs a name.")
        language = form.get("language", "")
        if language not in LANGUAGES:
            errors["language"] = _("Choose one of the languages in the list.")
        role = form.get("role", "")
        if role not in ROLE_LABELS:
            errors["role"] = _("Choose a role from the list.")
        number_text = form.get("number", "").strip()
        number = int(number_text) if number_text.isdigit() and int(number_text) > 0 else None
        if number is None:
            errors["number"] = _("A whole number from {low} to {high}.", low=1, high=9999)
        elif number != m.number and s.scalar(select(Membership.id).where(
                Membership.group_id == group.id, Membership.number == number)):
            errors["number"] = _("Member number {number} is taken in group {group}.", number=number,
                                 group=group.code)
        if errors or number is None:
            return render_template("console/member_form.html", group=group, m=m, errors=errors,
                                   languages=LANGUAGES, roles=ROLE_LABELS), 400
        before = {"name": m.member.name, "language": m.member.language, "role": m.role.value, "number": m.number}
        after = {"name": name[:120], "language": language, "role": role, "number": number}
        if before != after:
            m.member.name, m.member.language = name[:120], language
            m.role, m.number = Role(role), number
            record(s, "member.edit", f"{group.code} #{m.number} {m.member.phone}", before, after, group_id=group.id)
    flash(_("Saved."), "info")
    return redirect(url_for("console.group_page", group_id=group_id) + "#members", code=303)


@bp.post("/groups/<int:group_id>/members/<int:membership_id>/remove")
@staff_required
def member_remove(group_id: int, membership_id: int) -> ResponseReturnValue:
    with services().db.transaction() as s:
        group, m = _membership(s, group_id, membership_id)
        if m.status == Status.ACTIVE:
            m.status = Status.INACTIVE
            record(s, "member.remove", f"{group.code} #{m.number} {m.member.phone}", {"status": "active"},
                   {"status": "inactive"}, group_id=group.id)
        name = m.member.name
    flash(_("{name} is no longer a member of the group.", name=name), "info")
    return redirect(url_for("console.group_page", group_id=group_id) + "#members", code=303)


# -- the member page -------------------------------------------------------------------

@bp.get("/groups/<int:group_id>/members/<int:member_id>")
@staff_required
def member_page(group_id: int, member_id: int) -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as s:
        group = group_or_404(s, staff, group_id)
        m = s.scalar(select(Membership).where(Membership.group_id == group.id, Membership.member_id == member_id))
        if m is None:
            abort(404)
        member = m.member
        position = member_position(s, group, member)
        statement = statement_table(s, staff, {"group_id": group.id, "member_id": member.id})
        loans = loans_table(s, staff, {"group_id": group.id, "member_id": str(member.id)})
        sms = recent_sms(s, [member.phone], member_ids=[member.id])
    return render_template("console/member.html", group=group, m=m, member=member, position=position,
                           statement=statement, loans=loans, sms=sms)


@bp.post("/groups/<int:group_id>/members/<int:member_id>/reset-pin")
@staff_required
def member_reset_pin(group_id: int, member_id: int) -> ResponseReturnValue:
    cfg = services().config
    with services().db.transaction() as s:
        group = group_or_404(s, logged_in_staff(), group_id)
        m = s.scalar(select(Membership).where(Membership.group_id == group.id, Membership.member_id == member_id))
        if m is None:
            abort(404)
        member = m.member
        before = {"pin": "locked" if member.pin_locked else ("set" if member.pin_hash else "not set")}
        reset_pin(s, member)
        t = translator(member.language)
        queue_sms(s, to=member.phone, language=t.lang, kind="pin_reset", priority=Priority.NOTICE,
                  letters=letters_for(member, group), member_id=member.id, group_id=group.id, text=t.gettext(
                      "Kassa: your PIN was reset by {chair}. Dial {code} to choose a new one.",
                      chair=t.gettext("your coordinator"), code=cfg.USSD_SERVICE_CODE))
        record(s, "member.reset_pin", f"{group.code} {member.phone}", before, {"pin": "not set"},
               group_id=group.id)
        name = member.name
    flash(_("The PIN of {name} is reset; she chooses a new one when she next dials {code}.",
            name=name, code=cfg.USSD_SERVICE_CODE), "info")
    return redirect(url_for("console.member_page", group_id=group_id, member_id=member_id), code=303)


# -- import ---------------------------------------------------------------------------

class ImportFileError(ValueError):
    pass


def read_upload(filename: str, data: bytes) -> list[dict[str, str]]:
    """Rows of a members file, CSV or XLSX (first sheet; header phone,name[,role,language,number])."""
    if len(data) > IMPORT_MAX_BYTES:
        raise ImportFileError(_("The file is too large (at most 1 MB)."))
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        rows = _read_xlsx(data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFileError(_("Save the file as CSV in UTF-8, or as XLSX.")) from None
        try:
            rows = read_csv(text)
        except SetupError as exc:
            raise ImportFileError(explain(tr(), exc)) from None
    if not rows:
        raise ImportFileError(_("The file has no rows under its header."))
    if len(rows) > IMPORT_MAX_ROWS:
        raise ImportFileError(_("At most {n} rows in one file.", n=IMPORT_MAX_ROWS))
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone or number typed into a spreadsheet cell
    return str(value).strip()


def _read_xlsx(data: bytes) -> list[dict[str, str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportFileError(_("This file is not a CSV or XLSX file Kassa can read.")) from None
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    header = [_cell(v).lower() for v in next(it, ())]
    missing = {"phone", "name"} - set(header)
    if missing:
        raise ImportFileError(explain(tr(), SetupError("", "header", columns=", ".join(sorted(missing)))))
    rows = []
    for values in it:
        if values is None or all(v is None or _cell(v) == "" for v in values):
            continue
        rows.append({h: _cell(v) for h, v in zip(header, values, strict=False) if h})
    book.close()
    return rows


def _dry_run(group_id: int, rows: list[dict[str, str]]) -> tuple[str, list[tuple[int, dict[str, str], str]]]:
    """Every row tried in a transaction that is always rolled back: nothing is written."""
    db = services().db
    s = db.sessionmaker()
    try:
        group = group_or_404(s, logged_in_staff(), group_id)
        report = import_members(s, group, rows)
        return group.code, [(line, rows[line - 2], explain(tr(), exc)) for line, exc in report.problems]
    finally:
        s.rollback()
        s.close()


@bp.route("/groups/<int:group_id>/import", methods=["GET", "POST"])
@staff_required
def member_import(group_id: int) -> ResponseReturnValue:
    with services().db.transaction() as s:
        group = group_or_404(s, logged_in_staff(), group_id)
    if request.method == "GET":
        return render_template("console/import.html", group=group, columns=CSV_COLUMNS)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a file to import."), "error")
        return render_template("console/import.html", group=group, columns=CSV_COLUMNS), 400
    try:
        rows = read_upload(upload.filename, upload.read(IMPORT_MAX_BYTES + 1))
    except ImportFileError as exc:
        flash(str(exc), "error")
        return render_template("console/import.html", group=group, columns=CSV_COLUMNS), 400
    _code, bad = _dry_run(group.id, rows)
    token = secrets.token_urlsafe(16)
    services().redis.set(IMPORT_KEY.format(token), json.dumps(
        {"staff": logged_in_staff().id, "group": group.id, "rows": rows, "file": upload.filename}), ex=IMPORT_SECONDS)
    return render_template("console/import_preview.html", group=group, token=token, rows=rows, bad=bad,
                           good=len(rows) - len(bad), filename=upload.filename, columns=CSV_COLUMNS)


@bp.post("/groups/<int:group_id>/import/confirm")
@staff_required
def member_import_confirm(group_id: int) -> ResponseReturnValue:
    key = IMPORT_KEY.format(request.form.get("token", ""))
    raw = services().redis.get(key)
    saved = json.loads(raw) if raw else None
    if not saved or saved["staff"] != logged_in_staff().id or saved["group"] != group_id:
        flash(_("This preview has expired. Upload the file again."), "error")
        return redirect(url_for("console.member_import", group_id=group_id), code=303)
    skip_bad = request.form.get("mode") == "skip"
    db = services().db
    s = db.sessionmaker()
    try:
        group = group_or_404(s, logged_in_staff(), group_id)
        report = import_members(s, group, saved["rows"], skip_bad=skip_bad)
        if not report.committed:
            s.rollback()
            flash(_("Nothing was imported: {n} rows are bad. Fix them and upload the file again, "
                    "or import only the good rows.", n=len(report.problems)), "error")
            return redirect(url_for("console.member_import", group_id=group_id), code=303)
        record(s, "members.import", f"{group.code} {saved['file']}"[:120], None,
               {"added": len(report.added), "skipped": len(report.problems),
                "phones": [m.member.phone for m in report.added][:200]}, group_id=group.id)
        s.commit()
        run_after_commit(s, services())
        added, skipped = len(report.added), len(report.problems)
        too_few_or_many = size_warning(s, group)
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()
    services().redis.delete(key)
    flash(_("{added} members imported, {skipped} bad rows skipped.", added=added, skipped=skipped), "info")
    if too_few_or_many is not None:
        flash(too_few_or_many.render(tr()), "error")
    return redirect(url_for("console.group_page", group_id=group_id) + "#members", code=303)
