"""Coordinator broadcasts: resolve the target within her scope, draft, preview, start.

Life of a broadcast: ``create_broadcast`` (draft, its texts fixed for every
language and letter style) -> ``preview`` (recipients, segments per language
and encoding, cost and the saving with plain letters) -> ``confirm`` (status
``sending``; the fan-out job is enqueued after the commit). From there
:mod:`outreach.fanout` writes its outbox rows in batches and resumes a stopped
one; its public names (``run_fan_out``, ``fan_out_batch``, ``resume`` ...)
stay importable from here for callers that drive a broadcast end to end.
The preview counts recipients with the fan-out's own definitions (target,
reachable, language, letter style), so it counts whom the fan-out writes.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.orm import Session, aliased

from db import on_commit
from groups.letters import plain_sql
from groups.models import Coordinator, Group, Member, Membership, Status
from i18n import LANGUAGES, N_, Translator
from messaging.models import OutboxMessage
from messaging.outbox import Variant, variant
from outreach.fanout import (
    FANOUT_BATCH,
    FANOUT_LANES,
    KIND,
    Batch,
    FanOutSummary,
    dedupe_range,
    enqueue_fan_out,
    fan_out_batch,
    member_language,
    reachable,
    resume,
    run_fan_out,
    stalled_broadcasts,
    target_filter,
)
from outreach.models import Broadcast, BroadcastGroup, BroadcastStatus, BroadcastText
from outreach.texts import broadcast_text
from text.plain import Letters

__all__ = [  # the fan-out's names too: callers drive a broadcast end to end from here
    "FANOUT_BATCH", "FANOUT_LANES", "KIND", "MAX_MESSAGE", "YES_WINDOW", "Batch", "BroadcastError", "Cost",
    "FanOutSummary", "Preview", "PreviewLine", "Price", "Prices", "Scope", "StatusReport", "Target", "Waiting",
    "broadcast_status", "cancel", "clean_message", "confirm", "confirm_waiting", "count_recipients",
    "create_broadcast", "dedupe_range", "draft_by_sms", "enqueue_fan_out", "fan_out_batch", "preview",
    "price_from_config", "prices_from_config", "recipient_languages", "resolve", "resume", "run_fan_out",
    "stalled_broadcasts", "text_variant",
]

MAX_MESSAGE = 1000  # characters a coordinator may write
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
    if target.projects and not target.codes and not target.regions:
        target = Target(everyone=True, projects=target.projects)
    if coordinator is None or coordinator.all_groups:
        return _resolve_unlimited(session, target)
    if target.everyone:
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
        if region not in (coordinator.regions or ()):
            raise BroadcastError("not_your_region", N_("Region {region} is not one of yours."), region=region)
    ids = [_group_in_scope(session, coordinator, code) for code in target.codes]
    return Scope(tuple(dict.fromkeys(ids)), tuple(target.regions), False)


def _resolve_unlimited(session: Session, target: Target) -> Scope:
    """:func:`resolve` for the operator or a coordinator of every group: any group, any region."""
    if target.everyone:
        return Scope((), (), True)
    if not target.codes and not target.regions:
        raise BroadcastError("no_target", N_("Say which groups: a group code, several codes, or ALL."))
    ids = [_group_in_scope(session, None, code) for code in target.codes]
    return Scope(tuple(dict.fromkeys(ids)), tuple(target.regions), False)


def _group_in_scope(session: Session, coordinator: Coordinator | None, code: str) -> int:
    """The id of group ``code``; refused when ``coordinator`` (None: no limit) does not serve it."""
    group = session.scalar(select(Group).where(Group.code == code))
    if group is None:
        raise BroadcastError("unknown_group", N_("There is no group {code}."), code=code)
    if coordinator is not None and session.scalar(select(Group.id).where(Group.id == group.id,
                                                                          _serves(coordinator))) is None:
        raise BroadcastError("not_your_group", N_("Group {code} is not one of yours."), code=code)
    return group.id


def _serves(coordinator: Coordinator) -> ColumnElement[bool]:
    from orgs.places import coordinator_clause

    clause: ColumnElement[bool] = coordinator_clause(coordinator)  # linked, under her places, or in her regions
    return clause


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


def text_variant(lang: str, sender: str, message: str, plain: bool) -> Variant:
    """The announcement as a member in ``lang`` receives it: its body, encoding and segments."""
    return variant(broadcast_text(lang, sender, " ".join(message.split())), Letters.of(plain))


# -- who receives it (the fan-out's definitions: outreach.fanout) -----------------------

def _member_filter(b: Broadcast) -> ColumnElement[bool]:
    """The narrowing by language and role (true when the broadcast has none)."""
    conditions: list[ColumnElement[bool]] = []
    if b.languages:
        conditions.append(member_language().in_(list(b.languages)))
    if b.roles:
        conditions.append(Membership.role.in_(list(b.roles)))
    return and_(*conditions) if conditions else true()


def _holders(b: Broadcast) -> Select[int, int]:
    """(member_id, group_id): each member with an active membership of a target group, once."""
    q = (select(Membership.member_id.label("member_id"), func.min(Membership.group_id).label("group_id"))
         .join(Group, Group.id == Membership.group_id)
         .where(Membership.status == Status.ACTIVE, Group.status == Status.ACTIVE, target_filter(b)))
    if b.languages:
        q = q.join(Member, Member.id == Membership.member_id)
    return q.where(_member_filter(b)).group_by(Membership.member_id)


def _recipients_by_variant(session: Session, b: Broadcast) -> list[tuple[str, bool, str, int]]:
    """(language, plain, group currency, recipients) for every variant the broadcast would send.

    A member of several target groups counts once, under her lowest group id; her letters are
    ``groups.letters``' rule with that group (``b.plain``: plain letters for everyone).
    """
    holders = _holders(b).subquery()
    g = aliased(Group)
    lang = member_language()
    keys: list[Any] = [lang, g.currency]
    if not b.plain:
        keys.append(plain_sql(Member.plain_letters, g.plain_letters))
    rows = session.execute(
        select(func.count(), *keys).select_from(holders)
        .join(Member, Member.id == holders.c.member_id).join(g, g.id == holders.c.group_id)
        .where(reachable()).group_by(*keys)).all()
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
        unit: int | None
        if isinstance(price, Price):
            currency, unit = price.currency, price.per_segment
        else:
            currency, unit = group_currency, price.of(group_currency)
        priced = unit is not None
        text = texts[(lang, is_plain)]
        per_segment = unit or 0
        lines.append(PreviewLine(lang, is_plain, text.encoding, text.segments, n,
                                 n * text.segments * per_segment, currency, priced))
        acc = per_currency.setdefault(currency, [0, 0, 0, 0, 1])
        acc[0] += n
        acc[1] += n * text.segments
        acc[2] += n * text.segments * per_segment
        acc[3] += n * texts[(lang, True)].segments * per_segment
        acc[4] = acc[4] and priced
    costs = tuple(Cost(cur, vals[0], vals[1], vals[2], vals[3], priced=bool(vals[4]))
                  for cur, vals in sorted(per_currency.items()))
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
