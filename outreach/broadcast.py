"""Coordinator broadcasts: resolve the target within her scope, preview, fan out.

Life of a broadcast: ``create_broadcast`` (draft, its texts fixed for every
language and letter style) -> ``preview`` (recipients, segments per language
and encoding, cost and the saving with plain letters) -> ``confirm`` (status
``sending``; the fan-out job is enqueued after the commit) -> ``fan_out_batch``
until done.

Fan-out walks the target groups in id order, a batch of groups per
transaction: an INSERT ... SELECT writes the outbox rows of their members
(``dedupe_key`` ``bc:<broadcast>:<member>``, unique, conflicts skipped, so a
member of two target groups gets it once) and the same transaction moves
``cursor`` to the last group id of the batch. A worker killed at any point
leaves either the whole batch and its cursor or neither, so the next run
resumes with no duplicate and no gap. On PostgreSQL ``run_fan_out`` writes
two batches at once on two connections and moves the cursor once both have
committed; a kill in between leaves rows past the cursor, and the resumed run
writes those batches again with their existing keys skipped. Members who sent
STOP or left are skipped when their batch is written. Each batch costs what its groups hold,
whatever the size of the rest.
"""
from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, String, and_, case, cast, func, literal, or_, select, true
from sqlalchemy.orm import Session, aliased

from db import on_commit
from groups.letters import plain_sql
from groups.models import Coordinator, Group, Member, Membership, Status
from i18n import LANGUAGES, N_, Translator
from messaging.models import OutboxMessage, OutStatus, Priority
from messaging.outbox import variant
from outreach.bulk import insert_outbox_from_select, no_commit_wait, one_of, send_after_commit
from outreach.models import Broadcast, BroadcastGroup, BroadcastStatus, BroadcastText
from outreach.texts import broadcast_text
from text.plain import Letters

FANOUT_BATCH = 500  # groups per transaction (15-25 members each: keeps the index plan)
MAX_MESSAGE = 1000  # characters a coordinator may write
KIND = "broadcast"
UTC = dt.UTC


class BroadcastError(ValueError):
    """A broadcast that cannot be made as asked; ``code`` is stable, ``message`` an N_ msgid."""

    def __init__(self, code: str, message: str, /, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.code, self.message, self.params = code, message, params

    def render(self, t: Translator) -> str:
        return t.gettext(self.message, **self.params)


@dataclass(frozen=True)
class Target:
    """Who a broadcast is for: some groups (by code), some regions, or all the sender serves.

    ``projects``, ``languages`` and ``roles`` narrow it: only groups enrolled in one of
    the projects, only members speaking one of the languages, only members holding one
    of the roles in their group. Projects alone (no codes, no regions) mean every group
    the sender serves in those projects.
    """

    codes: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    everyone: bool = False
    projects: tuple[int, ...] = ()
    languages: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Target:
        """``ALL``, or group codes separated by commas (``KAS1,KAS2``), as typed in ``BC``."""
        text = text.strip()
        if text.upper() == "ALL":
            return cls(everyone=True)
        return cls(codes=tuple(c.strip().upper() for c in text.split(",") if c.strip()))


@dataclass(frozen=True)
class Scope:
    """What the target resolves to: stored on the broadcast, read at fan-out."""

    group_ids: tuple[int, ...]
    regions: tuple[str, ...]
    all_groups: bool


def resolve(session: Session, coordinator: Coordinator | None, target: Target) -> Scope:
    """The groups ``target`` names, refused outside the coordinator's scope.

    ``coordinator=None`` is the operator (the CLI without ``--as``): every group.
    A coordinator's ALL means every group she serves (hers and her regions').
    """
    unlimited = coordinator is None or coordinator.all_groups
    if target.projects and not target.codes and not target.regions:
        target = Target(everyone=True, projects=target.projects)
    if target.everyone:
        if unlimited:
            return Scope((), (), True)
        from orgs.places import coordinator_clause  # her groups, and every group under her places

        mine = session.scalars(select(Group.id).where(coordinator_clause(coordinator, regions=False))
                               .order_by(Group.id))  # her regions stay a rule, read at fan-out
        scope = Scope(tuple(mine), tuple(coordinator.regions or ()), False)
        if not scope.group_ids and not scope.regions:
            raise BroadcastError("no_groups", N_("You have no groups to send to."))
        return scope
    if not target.codes and not target.regions:
        raise BroadcastError("no_target", N_("Say which groups: a group code, several codes, or ALL."))
    for region in target.regions:
        if not unlimited and region not in (coordinator.regions or ()):
            raise BroadcastError("not_your_region", N_("Region {region} is not one of yours."), region=region)
    ids = [_group_in_scope(session, coordinator, code, unlimited) for code in target.codes]
    return Scope(tuple(dict.fromkeys(ids)), tuple(target.regions), False)


def _group_in_scope(session: Session, coordinator: Coordinator | None, code: str, unlimited: bool) -> int:
    group = session.scalar(select(Group).where(Group.code == code))
    if group is None:
        raise BroadcastError("unknown_group", N_("There is no group {code}."), code=code)
    if not unlimited and session.scalar(select(Group.id).where(Group.id == group.id,
                                                               _serves(coordinator))) is None:
        raise BroadcastError("not_your_group", N_("Group {code} is not one of yours."), code=code)
    return group.id


def _serves(coordinator: Coordinator):
    from orgs.places import coordinator_clause

    return coordinator_clause(coordinator)  # linked, under her places, or in her regions


def clean_message(message: str) -> str:
    """The message as it will be sent (spaces folded), refused when empty or too long."""
    message = " ".join(message.split())
    if not message:
        raise BroadcastError("empty_message", N_("The message is empty."))
    if len(message) > MAX_MESSAGE:
        raise BroadcastError("too_long", N_("The message is too long: at most {limit} letters."),
                             limit=MAX_MESSAGE)
    return message


def create_broadcast(session: Session, *, coordinator: Coordinator | None, target: Target, message: str,
                     key: str, sender: str | None = None, plain: bool = False,
                     messages: dict[str, str] | None = None, staff_id: int | None = None,
                     now: dt.datetime | None = None) -> Broadcast:
    """A draft broadcast with its texts fixed for every language and letter style.

    ``messages`` gives a text per language (the composer); a language without one gets
    ``message``. Idempotent on ``key``: the same key returns the broadcast made the first time.
    """
    existing = session.scalar(select(Broadcast).where(Broadcast.key == key))
    if existing is not None:
        return existing
    own = {lang: clean_message(text) for lang, text in (messages or {}).items() if lang in LANGUAGES}
    message = clean_message(message or next(iter(own.values()), ""))
    for lang in target.languages:
        if lang not in LANGUAGES:
            raise BroadcastError("language", N_("{language} is not one of Kassa's languages."), language=lang)
    scope = resolve(session, coordinator, target)
    sender = sender or (coordinator.organisation or coordinator.name if coordinator else "Kassa")
    b = Broadcast(key=key, coordinator_id=coordinator.id if coordinator else None, sender=sender,
                  message=message, all_groups=scope.all_groups, regions=list(scope.regions), plain=plain,
                  status=BroadcastStatus.DRAFT, project_ids=sorted(set(target.projects)),
                  languages=sorted(set(target.languages)), roles=sorted(set(target.roles)),
                  messages=own, staff_id=staff_id, created_at=now or dt.datetime.now(UTC))
    b.groups = [BroadcastGroup(group_id=gid) for gid in scope.group_ids]
    b.texts = [_text(lang, is_plain, sender, own.get(lang, message))
               for lang in LANGUAGES for is_plain in (False, True)]
    session.add(b)
    session.flush()
    b.recipients = count_recipients(session, b)
    return b


def _text(lang: str, plain: bool, sender: str, message: str) -> BroadcastText:
    v = text_variant(lang, sender, message, plain)
    return BroadcastText(language=lang, plain=plain, text=v.text, encoding=v.encoding, segments=v.segments)


def text_variant(lang: str, sender: str, message: str, plain: bool):
    """The announcement as a member in ``lang`` receives it: its body, encoding and segments."""
    return variant(broadcast_text(lang, sender, " ".join(message.split())), Letters.of(plain))


# -- who receives it ---------------------------------------------------------------------

def _target_filter(b: Broadcast):
    if b.all_groups:
        chosen = true()
    else:
        conditions = [Group.id.in_(select(BroadcastGroup.group_id).where(BroadcastGroup.broadcast_id == b.id))]
        if b.regions:
            conditions.append(Group.region.in_(list(b.regions)))
        chosen = or_(*conditions)
    if b.project_ids:
        from orgs.models import ProjectGroup

        chosen = and_(chosen, Group.id.in_(select(ProjectGroup.group_id)
                                           .where(ProjectGroup.project_id.in_(list(b.project_ids)))))
    return chosen


def _member_filter(b: Broadcast):
    """The narrowing by language and role (true when the broadcast has none)."""
    conditions = []
    if b.languages:
        conditions.append(_language().in_(list(b.languages)))
    if b.roles:
        conditions.append(Membership.role.in_(list(b.roles)))
    return and_(*conditions) if conditions else true()


def _holders(b: Broadcast) -> Select:
    """(member_id, group_id): each member with an active membership of a target group, once."""
    q = (select(Membership.member_id.label("member_id"), func.min(Membership.group_id).label("group_id"))
         .join(Group, Group.id == Membership.group_id)
         .where(Membership.status == Status.ACTIVE, Group.status == Status.ACTIVE, _target_filter(b)))
    if b.languages:
        q = q.join(Member, Member.id == Membership.member_id)
    return q.where(_member_filter(b)).group_by(Membership.member_id)


def _reachable():
    return and_(Member.status == Status.ACTIVE, Member.opted_out.is_(False))


def _language():
    return case((Member.language.in_(list(LANGUAGES)), Member.language), else_=literal("en"))


def _recipients_by_variant(session: Session, b: Broadcast) -> list[tuple[str, bool, str, int]]:
    """(language, plain, group currency, recipients) for every variant the broadcast would send."""
    holders = _holders(b).subquery()
    g = aliased(Group)
    lang = _language()
    keys = [lang, g.currency] if b.plain else [lang, g.currency, plain_sql(Member.plain_letters, g.plain_letters)]
    rows = session.execute(
        select(func.count(), *keys).select_from(holders)
        .join(Member, Member.id == holders.c.member_id).join(g, g.id == holders.c.group_id)
        .where(_reachable()).group_by(*keys)).all()
    return [(row[1], b.plain or bool(row[3]), row[2], row[0]) for row in rows]


def count_recipients(session: Session, b: Broadcast) -> int:
    """Members the broadcast would reach now (active, not opted out, counted once)."""
    return sum(n for *_, n in _recipients_by_variant(session, b))


def recipient_languages(session: Session, b: Broadcast) -> dict[str, int]:
    """How many recipients read each language (the composer asks for one text per language)."""
    counts: dict[str, int] = {}
    for lang, _plain, _currency, n in _recipients_by_variant(session, b):
        counts[lang] = counts.get(lang, 0) + n
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# -- preview -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Price:
    """What one SMS segment costs, in minor units of ``currency`` (one price for every recipient)."""

    per_segment: int
    currency: str


@dataclass(frozen=True)
class Prices:
    """What one SMS segment costs in each group currency (minor units): each recipient at her group's."""

    per_currency: dict[str, int]

    def of(self, currency: str) -> int | None:
        return self.per_currency.get(currency)


def price_from_config(config: Any) -> Price:
    """The configured price of one segment (``SMS_SEGMENT_PRICE`` in ``SMS_PRICE_CURRENCY``)."""
    from ledger.money import AmountError, parse_amount

    currency = (getattr(config, "SMS_PRICE_CURRENCY", None) or "KES").upper()
    text = str(getattr(config, "SMS_SEGMENT_PRICE", None) or "0")
    try:
        return Price(parse_amount(text, currency), currency)
    except AmountError:  # "0" or a typo: preview without a cost rather than refuse to send
        return Price(0, currency)


def prices_from_config(config: Any, provider: str | None = None) -> Prices:
    """Prices per group currency for the configured provider (``SMS_SEGMENT_PRICE(S)``)."""
    from reports.read import segment_prices

    return Prices(segment_prices(config, provider))


@dataclass(frozen=True)
class PreviewLine:
    language: str
    plain: bool
    encoding: str
    segments: int  # per message
    recipients: int
    cost: int  # minor units of ``currency``: recipients x segments x price
    currency: str = ""
    priced: bool = True  # False: no price is configured for this currency (cost shown as 0)


@dataclass(frozen=True)
class Cost:
    """The cost of a broadcast in one currency, and what plain letters would cost."""

    currency: str
    recipients: int
    segments: int
    cost: int
    plain_cost: int
    priced: bool = True

    @property
    def saving(self) -> int:
        return self.cost - self.plain_cost


@dataclass(frozen=True)
class Preview:
    broadcast_id: int
    recipients: int
    lines: tuple[PreviewLine, ...]
    segments: int  # all messages together
    costs: tuple[Cost, ...]  # one per currency

    def _one(self) -> Cost:
        return self.costs[0] if self.costs else Cost("", 0, 0, 0, 0)

    @property
    def cost(self) -> int:
        """The cost when it is in one currency (a single :class:`Price`)."""
        return self._one().cost

    @property
    def plain_cost(self) -> int:
        return self._one().plain_cost

    @property
    def currency(self) -> str:
        return self._one().currency

    @property
    def saving(self) -> int:
        """What plain letters would save (minor units, >= 0)."""
        return self.cost - self.plain_cost


def preview(session: Session, b: Broadcast, price: Price | Prices) -> Preview:
    """Recipients, segments per language and encoding, cost, and the saving with plain letters.

    With one :class:`Price` every recipient costs the same; with :class:`Prices` each is
    priced in her group's currency, and the costs come one per currency.
    """
    texts = {(t.language, t.plain): t for t in b.texts}
    lines = []
    per_currency: dict[str, list[int]] = {}  # currency -> [recipients, segments, cost, plain_cost, priced]
    for lang, is_plain, group_currency, n in sorted(_recipients_by_variant(session, b)):
        if isinstance(price, Price):
            currency, unit = price.currency, price.per_segment
        else:
            currency, unit = group_currency, price.of(group_currency)
        priced = unit is not None
        unit = unit or 0
        text = texts[(lang, is_plain)]
        lines.append(PreviewLine(lang, is_plain, text.encoding, text.segments, n,
                                 n * text.segments * unit, currency, priced))
        acc = per_currency.setdefault(currency, [0, 0, 0, 0, 1])
        acc[0] += n
        acc[1] += n * text.segments
        acc[2] += n * text.segments * unit
        acc[3] += n * texts[(lang, True)].segments * unit
        acc[4] = acc[4] and priced
    costs = tuple(Cost(cur, *vals[:4], priced=bool(vals[4])) for cur, vals in sorted(per_currency.items()))
    return Preview(b.id, sum(x.recipients for x in lines), tuple(lines),
                   sum(x.recipients * x.segments for x in lines), costs)


# -- sending -----------------------------------------------------------------------------

def confirm(session: Session, b: Broadcast, now: dt.datetime, *, enqueue: bool = True) -> None:
    """Start sending: status ``sending`` and, after the commit, the fan-out job.

    ``enqueue=False`` when the caller runs the fan-out itself (the CLI, with a
    progress bar); if it dies, the scheduler's resume task picks it up.
    """
    if b.status == BroadcastStatus.DRAFT:
        b.status = BroadcastStatus.SENDING
        b.started_at = now
        session.flush()
        if enqueue:
            on_commit(session, enqueue_fan_out, b.id)


def cancel(session: Session, b: Broadcast) -> bool:
    """Stop a draft or a fan-out in progress (rows already written stay, and are sent)."""
    if b.status in (BroadcastStatus.DRAFT, BroadcastStatus.SENDING):
        b.status = BroadcastStatus.CANCELLED
        session.flush()
        return True
    return False


YES_WINDOW = dt.timedelta(minutes=10)  # how long a BC sent by SMS waits for its YES


def draft_by_sms(session: Session, coordinator: Coordinator, target: Target | str, text: str, *,
                 key: str, price: Price | Prices | None = None, now: dt.datetime | None = None) -> Preview:
    """A coordinator's ``BC`` by SMS: a draft and its preview; nothing goes out before her ``YES``.

    Her older drafts still waiting are cancelled (only the newest one answers to YES).
    Raises :class:`BroadcastError` (nothing written) when the target is not hers or
    the message is empty. Idempotent on ``key`` (the inbound SMS id).
    """
    if isinstance(target, str):
        target = Target.parse(target)
    b = create_broadcast(session, coordinator=coordinator, target=target, message=text, key=key, now=now)
    for older in session.scalars(select(Broadcast).where(
            Broadcast.coordinator_id == coordinator.id, Broadcast.status == BroadcastStatus.DRAFT,
            Broadcast.staff_id.is_(None), Broadcast.id != b.id)):
        older.status = BroadcastStatus.CANCELLED
    session.flush()
    return preview(session, b, price or Price(0, "KES"))


@dataclass(frozen=True)
class Waiting:
    """What a coordinator's ``YES`` found: the broadcast it started, or one that waited too long."""

    broadcast: Broadcast | None
    expired: bool = False


def confirm_waiting(session: Session, coordinator: Coordinator, now: dt.datetime) -> Waiting:
    """Start the coordinator's newest draft from ``BC`` if it is younger than :data:`YES_WINDOW`.

    An older one is cancelled and reported as expired; none at all gives an empty answer.
    """
    b = session.scalar(select(Broadcast).where(
        Broadcast.coordinator_id == coordinator.id, Broadcast.status == BroadcastStatus.DRAFT,
        Broadcast.staff_id.is_(None)).order_by(Broadcast.id.desc()).limit(1).with_for_update())
    if b is None:
        return Waiting(None)
    made = b.created_at if b.created_at.tzinfo else b.created_at.replace(tzinfo=UTC)
    if now - made > YES_WINDOW:
        b.status = BroadcastStatus.CANCELLED
        session.flush()
        return Waiting(b, expired=True)
    b.recipients = count_recipients(session, b)
    confirm(session, b, now)
    return Waiting(b)


def resume(session: Session, b: Broadcast, now: dt.datetime) -> int:
    """Take up a broadcast that stopped: its fan-out again, and its failed messages once more.

    The fan-out resumes from its cursor (no duplicate, no gap); failed rows go back to
    pending and are sent after the commit. Returns how many failed rows were retried.
    """
    if b.status == BroadcastStatus.SENDING:
        b.updated_at = now
        on_commit(session, enqueue_fan_out, b.id, int(now.timestamp()))
    lo, hi = dedupe_range(b.id)
    failed = list(session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.dedupe_key >= lo, OutboxMessage.dedupe_key < hi,
        OutboxMessage.status == OutStatus.FAILED)))
    if failed:
        from sqlalchemy import update

        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(failed))
                        .values(status=OutStatus.PENDING, attempts=0, retry_at=None, last_error=None))
        send_after_commit(session, failed, Priority.BULK)
    session.flush()
    return len(failed)


def enqueue_fan_out(services, broadcast_id: int, attempt: int = 0) -> None:
    """Enqueue the fan-out job (deterministic id per attempt, so a duplicate enqueue is harmless)."""
    services.queue("default").enqueue("outreach.jobs.fan_out", broadcast_id,
                                      job_id=services.job_id(f"fanout-{broadcast_id}-{attempt}"), job_timeout="2h")


@dataclass(frozen=True)
class Batch:
    written: int  # outbox rows this batch wrote
    cursor: int  # last group id done
    done: bool
    outbox_ids: list[int] = field(default_factory=list, repr=False)


def fan_out_batch(session: Session, broadcast_id: int, *, batch: int = FANOUT_BATCH,
                  now: dt.datetime | None = None) -> Batch:
    """Write the outbox rows for the members of the next ``batch`` target groups; move the cursor past them.

    The broadcast row is locked (PostgreSQL) so two workers take turns; either
    way the unique dedupe keys make a repeated batch write nothing.
    """
    now = now or dt.datetime.now(UTC)
    b = session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update())
    if b is None or b.status != BroadcastStatus.SENDING:
        return Batch(0, b.cursor if b else 0, True)
    groups = _next_groups(session, b, batch)
    if not groups:
        b.status, b.finished_at, b.updated_at = BroadcastStatus.DONE, now, now
        session.flush()
        return Batch(0, b.cursor, True)
    ids = _write_groups(session, b.id, b.plain, groups)  # with its cursor, below: together or not at all
    b.cursor, b.written, b.updated_at = groups[-1].id, b.written + len(ids), now
    session.flush()
    return Batch(len(ids), groups[-1].id, False, ids)


def _next_groups(session: Session, b: Broadcast, limit: int) -> list[Any]:
    """The next ``limit`` target groups after the cursor: ``(id, plain_letters)`` rows."""
    return list(session.execute(
        select(Group.id, Group.plain_letters).where(Group.status == Status.ACTIVE, _target_filter(b),
                                                    Group.id > b.cursor)
        .order_by(Group.id).limit(limit)).all())


def _write_groups(session: Session, broadcast_id: int, plain: bool, groups: list[Any]) -> list[int]:
    """Outbox rows for the members of ``groups``; the new ids, sent after the commit."""
    no_commit_wait(session)  # a lost batch is written again: its cursor had not moved either
    ids = insert_outbox_from_select(session, _rows(session, broadcast_id, plain, [g.id for g in groups],
                                                   [g.id for g in groups if g.plain_letters]))
    send_after_commit(session, ids, Priority.BULK)
    return ids


def _rows(session: Session, broadcast_id: int, all_plain: bool, group_ids: list[int],
          plain_groups: list[int]) -> Select:
    """The outbox rows (OUTBOX_COLUMNS) for the reachable members of ``group_ids``.

    The recipients are gathered first, each with her variant's language and
    letter style (a group's style from ``plain_groups``, the ids of those
    that want plain letters), in a MATERIALIZED CTE: the database walks only
    memberships and members, then matches the few texts by a hash join.
    """
    t = BroadcastText
    narrowing = _narrowing(session, broadcast_id)
    group_plain = one_of(session, Membership.group_id, plain_groups)
    plain = true() if all_plain else plain_sql(Member.plain_letters, group_plain)
    r = (select(Member.phone, Member.id, Membership.group_id, Member.language,
                _language().label("variant"), plain.label("plain"))
         .select_from(Membership).join(Member, Member.id == Membership.member_id)
         .where(one_of(session, Membership.group_id, group_ids), Membership.status == Status.ACTIVE,
                _reachable(), *narrowing)
         .cte("r").prefix_with("MATERIALIZED", dialect="postgresql"))
    return (select(r.c.phone, r.c.id, r.c.group_id, t.text, r.c.language, t.encoding, t.segments,
                   literal(int(Priority.BULK)), literal(KIND), literal(f"bc:{broadcast_id}:") + cast(r.c.id, String),
                   literal(OutStatus.PENDING.value), literal(0))
            .select_from(r)
            .join(t, and_(t.broadcast_id == broadcast_id, t.language == r.c.variant, t.plain == r.c.plain)))


def _narrowing(session: Session, broadcast_id: int) -> list:
    """The language and role narrowing of a broadcast, as WHERE conditions on its members."""
    languages, roles = session.execute(select(Broadcast.languages, Broadcast.roles)
                                       .where(Broadcast.id == broadcast_id)).one()
    conditions = []
    if languages:
        conditions.append(_language().in_(list(languages)))
    if roles:
        conditions.append(Membership.role.in_(list(roles)))
    return conditions


@dataclass
class FanOutSummary:
    batches: int = 0
    written: int = 0
    cursor: int = 0
    done: bool = False


def run_fan_out(services, broadcast_id: int, *, batch: int = FANOUT_BATCH, pause: float = 0.0,
                progress: Callable[[Batch], None] | None = None, lanes: int | None = None) -> FanOutSummary:
    """Fan out until done, resuming from the stored cursor.

    On SQLite (one writer at a time) each batch of ``batch`` groups is one
    transaction that also moves the cursor. On PostgreSQL ``lanes`` batches are
    written at once, each in its own transaction on its own connection (the
    database's work spreads over the cores), and the cursor moves past them
    only after every one has committed. A kill between the two leaves rows
    past the cursor; the run that resumes writes those batches again and the
    unique dedupe keys skip what is there: no duplicate, no gap.

    ``pause`` sleeps after writing each part, before its commit: it paces a
    broadcast and lets a test kill the process with a batch in flight.
    """
    if lanes is None:
        lanes = FANOUT_LANES if services.db.engine.dialect.name == "postgresql" else 1
    if lanes <= 1:
        return _run_serial(services, broadcast_id, batch, pause, progress)
    summary = FanOutSummary()
    with ThreadPoolExecutor(lanes, thread_name_prefix="fanout") as pool:
        while True:
            with services.db.transaction() as session:
                b = session.get(Broadcast, broadcast_id)
                if b is None or b.status != BroadcastStatus.SENDING:
                    summary.cursor, summary.done = (b.cursor if b else 0), True
                    return summary
                groups = _next_groups(session, b, batch * lanes)
                plain_b, cursor = b.plain, b.cursor
            if not groups:
                _finish(services, broadcast_id)
                summary.cursor, summary.done = cursor, True
                return summary
            parts = [groups[i:i + batch] for i in range(0, len(groups), batch)]  # at most ``lanes``
            written = sum(pool.map(functools.partial(_write_part, services, broadcast_id, plain_b, pause=pause), parts))
            last = groups[-1].id
            with services.db.transaction() as session:
                b = session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update())
                if b is not None and b.cursor < last:
                    b.cursor, b.written, b.updated_at = last, b.written + written, dt.datetime.now(UTC)
            step = Batch(written, last, False)
            summary.batches += 1
            summary.written += written
            summary.cursor = last
            if progress:
                progress(step)


FANOUT_LANES = 2  # parts of a batch written at once on PostgreSQL (the machine's 2 cores)


def _write_part(services, broadcast_id: int, plain: bool, groups: list[Any], *, pause: float) -> int:
    """The outbox rows of ``groups``' members, in a transaction of their own; how many were new."""
    with services.db.transaction() as session:
        ids = _write_groups(session, broadcast_id, plain, groups)
        if pause:
            time.sleep(pause)
    return len(ids)


def _finish(services, broadcast_id: int) -> None:
    """Mark the broadcast done; ``written`` recounted (a resumed batch skips rows it had written)."""
    lo, hi = dedupe_range(broadcast_id)
    with services.db.transaction() as session:
        b = session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update())
        if b is None or b.status != BroadcastStatus.SENDING:
            return
        now = dt.datetime.now(UTC)
        b.written = session.scalar(select(func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.dedupe_key >= lo, OutboxMessage.dedupe_key < hi)) or 0
        b.status, b.finished_at, b.updated_at = BroadcastStatus.DONE, now, now


def _run_serial(services, broadcast_id: int, batch: int, pause: float,
                progress: Callable[[Batch], None] | None) -> FanOutSummary:
    summary = FanOutSummary()
    while True:
        with services.db.transaction() as session:
            step = fan_out_batch(session, broadcast_id, batch=batch)
            if pause and not step.done:
                time.sleep(pause)
        summary.cursor, summary.done = step.cursor, step.done
        if step.done:
            return summary
        summary.batches += 1
        summary.written += step.written
        if progress:
            progress(step)


# -- status ------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatusReport:
    id: int
    status: str
    sender: str
    message: str
    recipients: int  # counted at preview
    written: int  # outbox rows written
    cursor: int
    by_status: dict[str, int]  # outbox rows by delivery status
    created_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def dedupe_range(broadcast_id: int) -> tuple[str, str]:
    """The key range holding ``bc:<id>:<member>`` (the unique index answers it)."""
    return f"bc:{broadcast_id}:", f"bc:{broadcast_id};"


def broadcast_status(session: Session, broadcast_id: int) -> StatusReport | None:
    """Where a broadcast stands: fan-out progress and its messages by delivery status."""
    b = session.get(Broadcast, broadcast_id)
    if b is None:
        return None
    lo, hi = dedupe_range(b.id)
    counts = session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.dedupe_key >= lo, OutboxMessage.dedupe_key < hi,
               OutboxMessage.dedupe_key.like(f"{lo}%"))
        .group_by(OutboxMessage.status)).all()
    return StatusReport(b.id, b.status.value, b.sender, b.message, b.recipients, b.written, b.cursor,
                        {s.value if hasattr(s, "value") else str(s): n for s, n in counts},
                        b.created_at, b.started_at, b.finished_at)


def stalled_broadcasts(session: Session, now: dt.datetime, idle: dt.timedelta = dt.timedelta(minutes=2)
                       ) -> Sequence[int]:
    """Broadcasts still sending whose last batch is older than ``idle`` (their worker died)."""
    since = now - idle
    return list(session.scalars(
        select(Broadcast.id).where(Broadcast.status == BroadcastStatus.SENDING,
                                   or_(Broadcast.updated_at.is_(None), Broadcast.updated_at < since),
                                   or_(Broadcast.started_at.is_(None), Broadcast.started_at < since))))
