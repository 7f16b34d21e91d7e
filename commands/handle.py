"""Running one inbound SMS: who sent it, what it asks, may she, do it, answer.

``handle`` runs inside the caller's transaction (it flushes, never commits).
One SMS is all-or-nothing: the command runs in a savepoint, and any refusal
rolls back everything it did before the reply is written. Receipts and the
reply are outbox rows in the same transaction as the postings they report.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commands import messages
from commands.context import CommandError, Context, Outcome, Sender, identify
from commands.parser import Keyword, ParseError, parse_arguments, split_keyword
from commands.registry import ANYONE, COORDINATOR, FIELD, REGISTRY, Command, keyword_table
from config import Config
from groups.letters import letters_for
from groups.models import Group, Membership
from i18n import translator
from messaging.models import OutboxMessage, Priority
from messaging.outbox import queue_sms
from text.plain import Letters

log = logging.getLogger("kassa.commands")


@dataclass(frozen=True)
class Incoming:
    phone: str  # E.164
    text: str
    key: str  # unique per inbound message: "<provider>:<message id>"
    now: dt.datetime


@dataclass(frozen=True)
class Handled:
    command: str | None  # the command it was, when it got that far
    result: str  # accepted | refused | unregistered | ignored


def handle(session: Session, config: Config, sms: Incoming) -> Handled:
    """Run ``sms`` as a command and queue every SMS it causes (flushes; the caller commits)."""
    sender = identify(session, sms.phone)
    if not sender.registered:
        return _unregistered(session, config, sms)
    t = translator(sender.language)
    sms = _group_code_first(sender, sms)
    try:
        entry, typed, rest = split_keyword(sms.text, keyword_table(sender.languages()))
    except ParseError as exc:
        _reply(session, sender, None, messages.parse_error(t, exc))
        return Handled(None, "refused")
    command = REGISTRY[entry.command]
    authority = authorise(sender, command)
    if not authority.allowed:
        _reply(session, sender, None, messages.not_allowed(t, command.on_card()))
        return Handled(command.keyword, "refused")
    return _run(session, config, sms, sender, command, authority.membership, typed, rest)


def _group_code_first(sender: Sender, sms: Incoming) -> Incoming:
    """``UPENDO SAVE 3 200``: a member of several groups names the group first. The SMS then
    acts in that group only (the sender's other memberships are set aside for it)."""
    if len(sender.memberships) < 2:
        return sms
    first, _, rest = (sms.text or "").strip().partition(" ")
    chosen = [m for m in sender.memberships if m.group.code == first.upper()]
    if not chosen or not rest.strip():
        return sms
    sender.memberships = chosen
    return Incoming(sms.phone, rest.strip(), sms.key, sms.now)


@dataclass(frozen=True)
class Authority:
    """Whether the sender may run a command, and in which membership (None: no group needed)."""

    allowed: bool
    membership: Membership | None = None


REFUSED = Authority(False)


def authorise(sender: Sender, command: Command) -> Authority:
    """Allowed when one of her memberships has a role the command names (its group is the one
    the command acts on), or she is a coordinator and the command is for coordinators."""
    if ANYONE in command.roles:
        return Authority(True, sender.memberships[0] if sender.memberships else None)
    for membership in sender.memberships:
        if membership.role.value in command.roles:
            return Authority(True, membership)
    if COORDINATOR in command.roles and sender.coordinator is not None:
        return Authority(True)
    if FIELD in command.roles and sender.field_worker is not None:
        return Authority(True)
    if sender.field_worker is not None and sender.field_worker.role.value in command.roles:
        return Authority(True)  # a field worker's command (ATT: a trainer) checks the rest itself
    return REFUSED


def _run(session: Session, config: Config, sms: Incoming, sender: Sender, command: Command,
         membership: Membership | None, typed: str, rest: str) -> Handled:
    ctx = Context(session, config, sender, membership, sms.key, sms.now)
    currency = ctx.group.currency if ctx.group is not None else None
    try:
        with session.begin_nested():
            parsed = parse_arguments(_entry(command), typed, rest, currency)
            outcome = command.run(ctx, parsed)
    except ParseError as exc:
        _reply(session, sender, ctx.group, messages.parse_error(ctx.t, exc))
        return Handled(command.keyword, "refused")
    except CommandError as exc:
        _reply(session, sender, ctx.group, exc.text)
        return Handled(command.keyword, "refused")
    _deliver(session, sender, ctx.group, outcome)
    return Handled(command.keyword, "refused" if outcome.refused else "accepted")


def _entry(command: Command) -> Keyword:
    return Keyword(command.keyword, command.grammar)


def _deliver(session: Session, sender: Sender, group: Group | None, outcome: Outcome) -> None:
    for notice in outcome.notices:
        if sender.member is not None and notice.member.id == sender.member.id:
            continue  # the sender's own receipt is in her reply
        queue_sms(session, to=notice.member.phone, text=notice.text, language=notice.member.language,
                  kind=notice.kind, priority=Priority.REPLY, member_id=notice.member.id,
                  group_id=notice.group.id, letters=letters_for(notice.member, notice.group))
    own = [n.text for n in outcome.notices if sender.member is not None and n.member.id == sender.member.id]
    _reply(session, sender, group, "\n".join([outcome.reply, *own]))
    for text in outcome.more:
        _reply(session, sender, group, text)


def _reply(session: Session, sender: Sender, group: Group | None, text: str) -> OutboxMessage:
    group = group or (sender.memberships[0].group if sender.memberships else None)
    return queue_sms(session, to=sender.phone, text=text, language=sender.language, kind="reply",
                     priority=Priority.REPLY, member_id=sender.member.id if sender.member else None,
                     group_id=group.id if group is not None else None, letters=letters_for(sender.member, group))


def _unregistered(session: Session, config: Config, sms: Incoming) -> Handled:
    """At most one reply a day to a number Kassa does not know (each SMS costs money)."""
    key = f"unregistered:{sms.phone}:{sms.now.date().isoformat()}"
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return Handled(None, "ignored")
    t = translator(guess_language(session, sms.phone, config.DEFAULT_LANGUAGE))
    try:
        with session.begin_nested():
            queue_sms(session, to=sms.phone, text=messages.unregistered(t), language=t.lang,
                      kind="reply", priority=Priority.REPLY, dedupe_key=key, letters=Letters.FULL)
    except IntegrityError:  # a concurrent message from the same number won the race
        return Handled(None, "ignored")
    return Handled(None, "unregistered")


def guess_language(session: Session, phone: str, default: str) -> str:
    """For a stranger: the language of the groups in her number's country, else ``default``."""
    import phonenumbers

    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return default
    language = session.scalar(select(Group.language).where(Group.country == region)
                              .group_by(Group.language).order_by(func.count().desc()).limit(1))
    return language or default
