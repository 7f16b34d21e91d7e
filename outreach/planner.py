"""The reminder planner: every member reminded once per meeting, at the group's lead.

Each group carries its own cursor: ``next_meeting_on`` (the meeting its next
reminder is for) and ``next_reminder_at`` (when it goes, UTC, indexed). A
planner batch takes the groups whose reminder is due (``next_reminder_at <=
now``; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two planners share the
work), writes one outbox row per active member who has not sent STOP with an
INSERT ... SELECT, and moves each group's cursor to its next meeting, all in
one transaction. The cost of a run grows with the groups that are due, not
with all groups.

Exactly once per member, meeting and kind: the outbox ``dedupe_key``
``rem:meeting:<group>:<date>:<member>`` is unique and the insert skips a key
that exists, so a replayed batch, a restarted or a second planner adds nothing.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Select,
    String,
    Text,
    and_,
    cast,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from groups.changes import changes_of
from groups.letters import letters_of
from groups.models import Group, Member, Membership, Status
from groups.schedule import (
    Plan,
    Rhythm,
    effective,
    effective_start,
    meeting_on_or_after,
    plan_after,
    plan_following,
    rhythm_of,
)
from ledger.models import Cycle
from messaging.bulk import (
    insert_outbox_from_select,
    insert_outbox_rows,
    json_rows,
    no_commit_wait,
    no_jit,
    one_of,
    send_after_commit,
)
from messaging.models import OutStatus, Priority
from messaging.outbox import variant
from outreach import loans
from outreach.texts import MeetingFacts, meeting_reminder
from text.plain import Letters

if TYPE_CHECKING:
    from services import Services

log = logging.getLogger("kassa.outreach")

BATCH = 500  # groups per transaction
KIND = "reminder"
#: A due group with nobody to remind is looked at again this much later, until its meeting starts.
RECHECK_EMPTY = dt.timedelta(minutes=1)

_RHYTHM = (Group.timezone, Group.meeting_weekday, Group.meeting_time, Group.meeting_every_weeks,
           Group.meeting_anchor, Group.reminder_days_before, Group.reminder_time)
# A VSLA's share value is fixed for its open cycle (a new value from the chair counts from the next one).
_CYCLE_SHARE = (select(Cycle.share_value).where(Cycle.group_id == Group.id, Cycle.ended_on.is_(None))
                .order_by(Cycle.number.desc()).limit(1).correlate(Group).scalar_subquery())
_FACTS = (Group.name, Group.meeting_place, Group.currency, Group.saving_amount,
          func.coalesce(func.nullif(_CYCLE_SHARE, 0), Group.share_value).label("share_value"),
          Group.shares_min, Group.shares_max, Group.social_fund_amount, Group.plain_letters)


@dataclass
class BatchResult:
    """What one planner batch did."""

    planned: int = 0  # groups given their first plan
    due: int = 0  # groups whose reminder was due
    stale: int = 0  # of those, meetings that had already started (nothing sent)
    reminders: int = 0  # outbox rows written
    outbox_ids: list[int] = field(default_factory=list)

    @property
    def touched(self) -> int:
        return self.planned + self.due


def plan_batch(session: Session, now: dt.datetime, *, limit: int = BATCH) -> BatchResult:
    """Plan new groups and send the reminders due at ``now`` for up to ``limit`` groups.

    Flushes, never commits; the caller's commit also enqueues the sending.
    """
    result = BatchResult()
    no_jit(session)
    no_commit_wait(session)  # a batch is atomic: its rows and its cursor moves commit together or not at all
    result.planned = _plan_new_groups(session, now, limit)
    due = session.execute(
        select(Group.id, Group.next_meeting_on, *_RHYTHM, *_FACTS)
        .where(Group.status == Status.ACTIVE, Group.next_reminder_at <= now)
        .order_by(Group.next_reminder_at).limit(limit)
        .with_for_update(skip_locked=True, of=Group.__table__)).all()
    if not due:
        return result
    changes = changes_of(session, [row.id for row in due], now)  # most groups: none (one cheap query)
    when = {row.id: effective(rhythm_of(row), row.next_meeting_on, changes.get(row.id)) for row in due}
    live = [row for row in due if when[row.id] is not None and (
        effective_start(rhythm_of(row), row.next_meeting_on, changes.get(row.id)) or now) > now]
    result.due, result.stale = len(due), len(due) - len(live)
    moved = {row.id: when[row.id] for row in live if row.id in changes and row.next_meeting_on in changes[row.id]}
    result.outbox_ids, reached = _write_reminders(session, live, now, moved)
    result.reminders = len(result.outbox_ids)
    # A group with nobody to remind yet (created after its reminder hour, its members
    # added a minute later) keeps this meeting's reminder, looked at again shortly,
    # until the meeting starts; the others move on to their next meeting.
    waiting = {row.id for row in live} - reached
    _advance(session, [(row.id, Plan(row.next_meeting_on, now + RECHECK_EMPTY) if row.id in waiting
                        else plan_following(rhythm_of(row), row.next_meeting_on, now, changes.get(row.id)))
                       for row in due])
    send_after_commit(session, result.outbox_ids, Priority.NOTICE)
    return result


def _plan_new_groups(session: Session, now: dt.datetime, limit: int) -> int:
    """Give unplanned groups (new, or rescheduled) their first reminder time."""
    rows = session.execute(
        select(Group.id, *_RHYTHM).where(Group.status == Status.ACTIVE, Group.next_reminder_at.is_(None))
        .limit(limit).with_for_update(skip_locked=True, of=Group.__table__)).all()
    plans = []
    changes = changes_of(session, [row.id for row in rows], now)
    for row in rows:
        rhythm = rhythm_of(row)
        anchor = row.meeting_anchor
        if rhythm.every_weeks > 1 and anchor is None:
            anchor = meeting_on_or_after(rhythm, now.astimezone(rhythm.tz).date())
            rhythm = Rhythm(**{**rhythm.__dict__, "anchor": anchor})
        plans.append((row.id, plan_after(rhythm, now, changes.get(row.id)), anchor))
    _advance(session, [(gid, plan) for gid, plan, _ in plans],
             anchors={gid: anchor for gid, _, anchor in plans})
    return len(rows)


def _advance(session: Session, plans: Iterable[tuple[int, Plan]],
             anchors: dict[int, dt.date | None] | None = None) -> None:
    params = [{"id": gid, "next_meeting_on": plan.meeting_on, "next_reminder_at": plan.remind_at,
               **({"meeting_anchor": anchors[gid]} if anchors else {})} for gid, plan in plans]
    if not params:
        return
    if anchors is None and session.get_bind().dialect.name == "postgresql":
        # one UPDATE ... FROM unnest(arrays) instead of a thousand single-row UPDATEs
        v = select(*(func.unnest(literal([p[name] for p in params], ARRAY(type_))).label(name)
                     for name, type_ in (("id", Integer()), ("next_meeting_on", Date()),
                                         ("next_reminder_at", DateTime(timezone=True))))).subquery("v")
        session.execute(update(Group).where(Group.id == v.c.id)
                        .values(next_meeting_on=v.c.next_meeting_on, next_reminder_at=v.c.next_reminder_at)
                        .execution_options(synchronize_session=False))
        return
    session.execute(update(Group), params)


SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])
#: (group id, language, member_plain, prefix, text, encoding, segments): one text of a group (VARIANT_COLUMNS)
Variant = tuple[int, str, int, str, str, str, int]


def _recipients(session: Session, stmt: SelectT, group_ids: list[int]) -> SelectT:
    return stmt.where(one_of(session, Membership.group_id, group_ids), Membership.status == Status.ACTIVE,
                      Member.status == Status.ACTIVE, Member.opted_out.is_(False))


def _facts(row: Any, moved: dict[int, Any] | None = None) -> MeetingFacts:
    on, at = (moved or {}).get(row.id) or (row.next_meeting_on, row.meeting_time)
    return MeetingFacts(row.name, on, at, row.meeting_place, row.currency,
                        row.saving_amount, row.share_value, row.shares_min, row.shares_max,
                        row.social_fund_amount)


def reminder_words(row: Any, language: str, loan: int | None = None, moved: dict[int, Any] | None = None) -> str:
    """The reminder for the meeting ``row.next_meeting_on`` of group ``row`` (at its new day and
    time when ``moved`` names it), in ``language``."""
    return meeting_reminder(language, _facts(row, moved), loan=loan)


def letters(row: Any, member_choice: int) -> Letters:
    """The letter style of a member of group ``row`` whose own choice is ``member_choice``
    (see ``_member_plain``): ``groups.letters``' one rule."""
    return letters_of(None if member_choice == FOLLOW_GROUP else bool(member_choice), row.plain_letters)


def dedupe_prefix(group_id: int, meeting_on: dt.date, kind: str = "meeting") -> str:
    """``rem:<kind>:<group>:<date>:``; the member id completes the unique key."""
    return f"rem:{kind}:{group_id}:{meeting_on.isoformat()}:"


def _prefix(row: Any, moved: dict[int, Any]) -> str:
    """A moved meeting's reminder has its own key (its new day and time), so it goes again even
    when the reminder for the usual day had already gone."""
    if row.id in moved:
        on, at = moved[row.id]
        return dedupe_prefix(row.id, on, f"meeting@{at.strftime('%H%M')}")
    return dedupe_prefix(row.id, row.next_meeting_on)


MAX_VARIANTS = 5000  # texts per statement


def _write_reminders(session: Session, rows: list[Any], now: dt.datetime,
                     moved: dict[int, Any] | None = None) -> tuple[list[int], set[int]]:
    """One outbox row per recipient of each group in ``rows``; the new row ids, and the
    groups that have anyone to remind. ``moved``: group id -> (day, time) of a meeting
    the chair moved.

    Texts are rendered once per (group, language, letter style) present and
    joined to the recipients inside the database (one JSON parameter), so no
    per-member row passes through Python. The groups table stays out of the
    per-member queries: a member's letter style is her own choice, else her
    group's (in ``rows``), so each text is listed under the member choices
    (``_member_plain``: yes, no, follow the group) that lead to it.
    """
    if not rows:
        return [], set()
    by_id = {row.id: row for row in rows}
    moved = moved or {}
    written = _write_loan_members(session, by_id, now, moved)
    combos = session.execute(_recipients(
        session, select(Membership.group_id, Member.language, _member_plain()).distinct()
        .join(Member, Member.id == Membership.member_id), list(by_id))).all()
    words: dict[tuple[int, str], str] = {}  # the reminder, once per group and language ...
    texts: dict[tuple[int, str, Letters], Any] = {}  # ... as sent, once per letter style too
    per_group: dict[int, list[Variant]] = {}
    for gid, lang, choice in combos:
        row = by_id[gid]
        style = letters(row, choice)
        if (gid, lang) not in words:
            words[gid, lang] = reminder_words(row, lang, moved=moved)
        if (gid, lang, style) not in texts:
            texts[gid, lang, style] = variant(words[gid, lang], style)
        v = texts[gid, lang, style]
        per_group.setdefault(gid, []).append(
            (gid, lang, choice, _prefix(row, moved), v.text, v.encoding, v.segments))
    for chunk in _chunks(per_group, MAX_VARIANTS):
        written += insert_outbox_from_select(session, _rows_select(session, chunk))
    return written, set(per_group)


FOLLOW_GROUP = 2  # _member_plain() of a member who left her letter style to the group


def _member_plain() -> ColumnElement[int]:
    """The member's own letter style as 0 (no), 1 (yes) or FOLLOW_GROUP: a plain value to join on."""
    return func.coalesce(cast(Member.plain_letters, Integer), FOLLOW_GROUP)


def _chunks(per_group: dict[int, list[Variant]], limit: int) -> Iterable[list[Variant]]:
    """Variants in chunks of at most ``limit``, never splitting a group."""
    chunk: list[Variant] = []
    for variants in per_group.values():
        if chunk and len(chunk) + len(variants) > limit:
            yield chunk
            chunk = []
        chunk.extend(variants)
    if chunk:
        yield chunk


VARIANT_COLUMNS = (("group_id", Integer()), ("language", String()), ("member_plain", Integer()),
                   ("prefix", String()), ("text", Text()), ("encoding", String()), ("segments", Integer()))


def _rows_select(session: Session, variants: list[Variant]) -> Select[*tuple[Any, ...]]:
    """Outbox rows (OUTBOX_COLUMNS) for the recipients of the groups named in ``variants``.

    The recipients are gathered first (a MATERIALIZED CTE: PostgreSQL cannot
    see how many rows the JSON table holds, and would otherwise join it to the
    memberships first and look up each member once per text of her group),
    then matched to their text by a hash join.
    """
    v = json_rows(session, "v", VARIANT_COLUMNS, variants)
    r = _recipients(
        session, select(Member.phone, Member.id, Membership.group_id, Member.language, _member_plain().label("member_plain"))
        .select_from(Membership).join(Member, Member.id == Membership.member_id),
        sorted({variant[0] for variant in variants})).cte("r").prefix_with("MATERIALIZED", dialect="postgresql")
    return (select(r.c.phone, r.c.id, r.c.group_id, v.c.text, r.c.language, v.c.encoding, v.c.segments,
                   literal(int(Priority.NOTICE)), literal(KIND), v.c.prefix + cast(r.c.id, String),
                   literal(OutStatus.PENDING.value), literal(0))
            .select_from(r)
            .join(v, and_(v.c.group_id == r.c.group_id, v.c.language == r.c.language,
                          v.c.member_plain == r.c.member_plain)))


def _write_loan_members(session: Session, by_id: dict[int, Any], now: dt.datetime,
                        moved: dict[int, Any]) -> list[int]:
    """Members who owe a loan instalment get their own text, written before the shared one.

    The shared INSERT ... SELECT that follows skips them (same dedupe key).
    """
    dues = loans.instalments_for_meetings(session, {gid: row.next_meeting_on for gid, row in by_id.items()})
    rows = []
    for due in dues:
        row = by_id[due.group_id]
        v = variant(reminder_words(row, due.language, loan=due.amount, moved=moved), due.letters)
        rows.append(dict(to_phone=due.phone, member_id=due.member_id, group_id=due.group_id, text=v.text,
                         language=due.language, encoding=v.encoding, segments=v.segments,
                         priority=int(Priority.NOTICE), kind=KIND,
                         dedupe_key=_prefix(row, moved) + str(due.member_id),
                         status=OutStatus.PENDING.value, attempts=0))
    return insert_outbox_rows(session, rows)


@dataclass(frozen=True)
class PreviewLine:
    """What one member would get: her phone, name, language and the SMS as it would go."""

    member_id: int
    phone: str
    name: str
    language: str
    text: str
    encoding: str
    segments: int
    loan: int | None  # the instalment the text names, when she owes one


@dataclass(frozen=True)
class Preview:
    meeting_on: dt.date  # the regular date (the key of a change)
    remind_at: dt.datetime  # when the planner sends it (UTC); already past means at its next run
    lines: list[PreviewLine]
    moved_to: tuple[dt.date, dt.time] | None = None  # the day and time the chair moved it to


def preview(session: Session, group_id: int, now: dt.datetime) -> Preview:
    """The reminder each member of the group would get for its next meeting, rendered as the
    planner renders it (same words, same letter choice, same loan instalments); writes nothing."""
    row = session.execute(select(Group.id, Group.next_meeting_on, *_RHYTHM, *_FACTS)
                          .where(Group.id == group_id)).one()
    changes = changes_of(session, [group_id], now).get(group_id)
    plan = plan_after(rhythm_of(row), now, changes)
    facts_row = _Row({**row._asdict(), "next_meeting_on": plan.meeting_on})
    # the same facts the planner's batch uses: a moved meeting is reminded at its new day and time
    when = effective(rhythm_of(row), plan.meeting_on, changes)
    moved = {group_id: when} if changes and plan.meeting_on in changes and when is not None else {}
    dues = {due.member_id: due for due in loans.instalments_for_meetings(session, {group_id: plan.meeting_on})}
    members = session.execute(_recipients(
        session, select(Member.id, Member.phone, Member.name, Member.language, _member_plain())
        .select_from(Membership).join(Member, Member.id == Membership.member_id).order_by(Membership.number),
        [group_id])).all()
    lines = []
    for member_id, phone, name, language, choice in members:
        due = dues.get(member_id)
        if due is not None:
            v = variant(reminder_words(facts_row, due.language, loan=due.amount, moved=moved), due.letters)
        else:
            v = variant(reminder_words(facts_row, language, moved=moved), letters(facts_row, choice))
        lines.append(PreviewLine(member_id, phone, name, language, v.text, v.encoding, v.segments,
                                 due.amount if due else None))
    return Preview(plan.meeting_on, plan.remind_at, lines, moved.get(group_id))


class _Row(dict[str, Any]):
    """A group row with attribute access (a plan's meeting date in place of the cursor's)."""

    __getattr__ = dict.__getitem__


@dataclass
class PlanSummary:
    batches: int = 0
    planned: int = 0
    due: int = 0
    stale: int = 0
    reminders: int = 0


def run_planner(services: Services, now: dt.datetime | None = None, *, limit: int = BATCH,
                max_batches: int | None = None) -> PlanSummary:
    """Plan until no group is due at ``now`` (default: the clock); one transaction per batch."""
    now = now or dt.datetime.now(dt.UTC)
    summary = PlanSummary()
    while max_batches is None or summary.batches < max_batches:
        with services.db.transaction() as session:
            result = plan_batch(session, now, limit=limit)
        if not result.touched:
            break
        summary.batches += 1
        summary.planned += result.planned
        summary.due += result.due
        summary.stale += result.stale
        summary.reminders += result.reminders
    if summary.reminders or summary.stale:
        log.info("reminders: %s", summary)
    return summary
