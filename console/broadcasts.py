"""The broadcast composer: target, one text per language with its preview, cost, confirm, progress.

A coordinator sends within her own groups (her ``Coordinator`` row resolves the
target, as ``BC`` by SMS does); an admin within every group. Nothing goes out
before the draft's preview page is confirmed; the progress page polls the
fan-out and the delivery figures; a broadcast that stopped (a dead worker, or
messages the provider failed) can be resumed.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from console.audit import record
from console.auth import logged_in_staff, staff_required
from console.blueprint import bp
from console.models import Staff
from console.scope import group_filter
from console.web import _, services, tr
from groups.models import Coordinator, Group, Role, Status
from i18n import LANGUAGES, N_
from orgs.models import Project, ProjectGroup
from outreach import broadcast as bc
from outreach import fanout
from outreach.models import Broadcast, BroadcastStatus

UTC = dt.UTC
ROLES = [r.value for r in Role]


STATUS_LABELS = {"draft": N_("Waiting for your confirmation"), "sending": N_("Sending"), "done": N_("Sent"),
                 "cancelled": N_("Cancelled")}
ROLE_LABELS = {"member": N_("Member"), "treasurer": N_("Treasurer"), "chair": N_("Chair"),
               "secretary": N_("Secretary")}


def _labels() -> dict[str, object]:
    return {"status_labels": {k: _(v) for k, v in STATUS_LABELS.items()},
            "role_labels": {k: _(v) for k, v in ROLE_LABELS.items()}}


def _coordinator(session: Session, staff: Staff) -> Coordinator | None:
    """Who the broadcast is resolved for: her coordinator row, or None (an admin: every group)."""
    if staff.is_admin:
        return None
    coordinator = session.get(Coordinator, staff.coordinator_id) if staff.coordinator_id else None
    if coordinator is None:
        abort(404)
    return coordinator


def _mine(staff: Staff) -> ColumnElement[bool]:
    """A WHERE clause on ``Broadcast``: every one for an admin, a coordinator's own."""
    if staff.is_admin:
        return Broadcast.id.isnot(None)
    clauses = [Broadcast.staff_id == staff.id]
    if staff.coordinator_id is not None:
        clauses.append(Broadcast.coordinator_id == staff.coordinator_id)
    return or_(*clauses)


def _broadcast_or_404(session: Session, staff: Staff, broadcast_id: int) -> Broadcast:
    b = session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id, _mine(staff)))
    if b is None:
        abort(404)
    return b


@dataclass
class Choices:
    """What the target form offers: her groups, regions and projects."""

    groups: list[tuple[int, str, str]]
    regions: list[str]
    projects: list[tuple[int, str]]


def _choices(session: Session, staff: Staff) -> Choices:
    visible = group_filter(staff)
    groups = [(g.id, g.code, g.name) for g in session.execute(
        select(Group.id, Group.code, Group.name).where(visible, Group.status == Status.ACTIVE)
        .order_by(Group.code).limit(500))]
    regions = [r for r in session.scalars(select(Group.region).where(visible, Group.region.isnot(None))
                                          .distinct().order_by(Group.region)) if r]
    projects = [(p.id, p.name) for p in session.execute(
        select(Project.id, Project.name).where(Project.id.in_(
            select(ProjectGroup.project_id).join(Group, Group.id == ProjectGroup.group_id).where(visible)))
        .order_by(Project.name))]
    return Choices(groups, regions, projects)


def _target(session: Session, form: MultiDict[str, str]) -> bc.Target:
    """The form's target: ALL, or the chosen groups and regions; narrowed by project, language, role."""
    ids = [int(x) for x in form.getlist("group") if x.isdigit()]
    codes = tuple(session.scalars(select(Group.code).where(Group.id.in_(ids)))) if ids else ()
    return bc.Target(codes=codes, regions=tuple(r for r in form.getlist("region") if r),
                     everyone=form.get("everyone") == "1",
                     projects=tuple(int(x) for x in form.getlist("project") if x.isdigit()),
                     languages=tuple(x for x in form.getlist("language") if x in LANGUAGES),
                     roles=tuple(x for x in form.getlist("role") if x in ROLES))


def _texts(form: MultiDict[str, str]) -> dict[str, str]:
    return {lang: form.get(f"text_{lang}", "").strip() for lang in LANGUAGES if form.get(f"text_{lang}", "").strip()}


def _sender(staff: Staff) -> str:
    coord = staff.coordinator
    return (coord.organisation or coord.name) if coord is not None else staff.name


def _probe(session: Session, staff: Staff, target: bc.Target) -> Broadcast:
    """An unsaved draft for counting (flushed inside the caller's rolled-back transaction)."""
    return bc.create_broadcast(session, coordinator=_coordinator(session, staff), target=target, message="-",
                               key=f"probe:{secrets.token_hex(8)}", sender=_sender(staff))


@bp.get("/broadcasts")
@staff_required
def broadcasts() -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as session:
        rows = list(session.scalars(select(Broadcast).where(_mine(staff)).order_by(Broadcast.id.desc()).limit(100)))
        return render_template("console/broadcasts.html", rows=rows, **_labels())


@bp.get("/broadcasts/new")
@staff_required
def broadcast_new() -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as session:
        _coordinator(session, staff)
        return render_template("console/broadcast_new.html", choices=_choices(session, staff), form=request.args,
                               languages=LANGUAGES, roles=ROLES, errors={}, nonce=secrets.token_hex(8), **_labels())


@bp.post("/broadcasts/recipients")
@staff_required
def broadcast_recipients() -> ResponseReturnValue:
    """htmx: the count of recipients and a text box per language they read (typed texts kept)."""
    staff = logged_in_staff()
    session = services().db.sessionmaker()
    try:
        try:
            b = _probe(session, staff, _target(session, request.form))
            by_language = bc.recipient_languages(session, b)
            error = None
        except bc.BroadcastError as exc:
            by_language, error = {}, exc.render(tr())
        return render_template("console/_broadcast_recipients.html", by_language=by_language, error=error,
                               texts=_texts(request.form), languages=LANGUAGES, sender=_sender(staff))
    finally:
        session.rollback()
        session.close()


@bp.post("/broadcasts/text-preview")
@staff_required
def broadcast_text_preview() -> ResponseReturnValue:
    """htmx: one language's text as members will get it: letters, encoding, segments, plain letters."""
    staff = logged_in_staff()
    lang = request.form.get("lang", "en")
    if lang not in LANGUAGES:
        abort(400)
    text = request.form.get(f"text_{lang}", "")
    full = bc.text_variant(lang, _sender(staff), text or " ", False)
    plain = bc.text_variant(lang, _sender(staff), text or " ", True)
    return render_template("console/_broadcast_text_preview.html", lang=lang, text=text, full=full, plain=plain,
                           limit=bc.MAX_MESSAGE)


@bp.post("/broadcasts")
@staff_required
def broadcast_create() -> ResponseReturnValue:
    """Save the draft (nothing is sent) and show its preview with the cost."""
    staff = logged_in_staff()
    form = request.form
    texts = _texts(form)
    key = f"console:{staff.id}:{form.get('nonce', '')}"
    with services().db.transaction() as session:
        made = session.scalar(select(Broadcast.id).where(Broadcast.key == key))
        if made is not None:  # the same form posted twice (a double click): the draft made the first time
            return redirect(url_for("console.broadcast_page", broadcast_id=made))
        coordinator = _coordinator(session, staff)
        target = _target(session, form)
        try:
            probe = _probe(session, staff, target)
            missing = [lang for lang in bc.recipient_languages(session, probe) if lang not in texts]
            session.rollback()
            if not texts:
                raise bc.BroadcastError("empty_message", N_("The message is empty."))
            if missing:
                raise bc.BroadcastError("missing_text", N_("Write the message in {language} too."),
                                        language=LANGUAGES[missing[0]])
            b = bc.create_broadcast(session, coordinator=coordinator, target=target, message="",
                                    messages=texts, key=key,
                                    sender=_sender(staff), plain=form.get("plain") == "1", staff_id=staff.id)
        except bc.BroadcastError as exc:
            session.rollback()
            return render_template("console/broadcast_new.html", choices=_choices(session, staff), form=form,
                                   languages=LANGUAGES, roles=ROLES, errors={"target": exc.render(tr())},
                                   nonce=secrets.token_hex(8), **_labels()), 400
        record(session, "broadcast.draft", f"B{b.id}", None,
               {"recipients": b.recipients, "languages": sorted(texts), "target": _target_summary(b)})
        broadcast_id = b.id
    return redirect(url_for("console.broadcast_page", broadcast_id=broadcast_id))


def _target_summary(b: Broadcast) -> dict[str, object]:
    return {"all": b.all_groups, "groups": [g.group_id for g in b.groups], "regions": list(b.regions),
            "projects": list(b.project_ids), "languages": list(b.languages), "roles": list(b.roles)}


@bp.get("/broadcasts/<int:broadcast_id>")
@staff_required
def broadcast_page(broadcast_id: int) -> ResponseReturnValue:
    staff = logged_in_staff()
    with services().db.transaction() as session:
        b = _broadcast_or_404(session, staff, broadcast_id)
        view = bc.preview(session, b, bc.prices_from_config(services().config))
        status = bc.broadcast_status(session, b.id)
        groups = {g.group_id for g in b.groups}
        names = dict(session.execute(select(Group.id, Group.code).where(Group.id.in_(groups))).all())
        projects = dict(session.execute(select(Project.id, Project.name)
                                        .where(Project.id.in_(list(b.project_ids)))).all())
        texts = {t.language: t for t in b.texts if not t.plain}
        return render_template("console/broadcast.html", b=b, view=view, status=status, figures=figures(status, b),
                               group_codes=sorted(names.values()), projects=sorted(projects.values()),
                               texts=texts, languages=LANGUAGES, **_labels())


@dataclass(frozen=True)
class Figures:
    """The progress bar and the delivery figures of a broadcast."""

    recipients: int
    written: int
    queued: int
    sent: int
    delivered: int
    failed: int
    percent: int  # the fan-out's progress, 0-100
    stalled: bool  # sending, but its worker has not moved for a while

    @property
    def done(self) -> bool:
        return self.percent >= 100


def figures(report: bc.StatusReport | None, b: Broadcast, now: dt.datetime | None = None) -> Figures:
    counts = report.by_status if report else {}
    total = max(b.recipients, 1)
    written = sum(counts.values())
    if b.status == BroadcastStatus.DONE:
        percent = 100
    elif b.status == BroadcastStatus.SENDING:
        percent = min(99, written * 100 // total)
    else:
        percent = 0
    now = now or dt.datetime.now(UTC)
    last = b.updated_at or b.started_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    stalled = b.status == BroadcastStatus.SENDING and last is not None and now - last > dt.timedelta(minutes=2)
    return Figures(b.recipients, written, counts.get("pending", 0) + counts.get("sending", 0),
                   counts.get("sent", 0), counts.get("delivered", 0),
                   counts.get("failed", 0) + counts.get("rejected", 0), percent, stalled)


@bp.get("/broadcasts/<int:broadcast_id>/progress")
@staff_required
def broadcast_progress(broadcast_id: int) -> ResponseReturnValue:
    """htmx: the progress bar and the delivery figures (polled while it sends)."""
    staff = logged_in_staff()
    with services().db.transaction() as session:
        b = _broadcast_or_404(session, staff, broadcast_id)
        return render_template("console/_broadcast_progress.html", b=b,
                               figures=figures(bc.broadcast_status(session, b.id), b))


def _act(broadcast_id: int, action: str) -> None:
    staff = logged_in_staff()
    now = dt.datetime.now(UTC)
    with services().db.transaction() as session:
        b = _broadcast_or_404(session, staff, broadcast_id)
        before = b.status.value
        if action == "confirm":
            if b.status != BroadcastStatus.DRAFT:
                flash(_("This announcement is not waiting to be sent."), "error")
                return
            b.recipients = bc.count_recipients(session, b)
            bc.confirm(session, b, now)
            flash(_("Sending: the figures below follow it."), "info")
        elif action == "cancel":
            if not bc.cancel(session, b):
                flash(_("This announcement can no longer be cancelled."), "error")
                return
        elif action == "resume":
            retried = fanout.resume(session, b, now)
            flash(tr().ngettext("Resumed; {n} failed message will be tried again.",
                                "Resumed; {n} failed messages will be tried again.", retried), "info")
        record(session, f"broadcast.{action}", f"B{b.id}", {"status": before}, {"status": b.status.value})


@bp.post("/broadcasts/<int:broadcast_id>/<any(confirm, cancel, resume):action>")
@staff_required
def broadcast_act(broadcast_id: int, action: str) -> ResponseReturnValue:
    _act(broadcast_id, action)
    return redirect(url_for("console.broadcast_page", broadcast_id=broadcast_id))
