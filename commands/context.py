"""Who sent an SMS, in which role and group, and what running a command produces."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Config
from groups.models import Coordinator, Group, Member, Membership, Status
from i18n import Translator, translator
from orgs.models import FieldWorker


@dataclass
class Sender:
    """The person behind a phone number: a member (of one or more groups) and/or a coordinator."""

    phone: str
    member: Member | None
    memberships: list[Membership]
    coordinator: Coordinator | None
    field_worker: FieldWorker | None = None  # a mobiliser, trainer ... (``field.workers``)

    @property
    def registered(self) -> bool:
        return bool(self.memberships) or self.coordinator is not None or self.field_worker is not None

    @property
    def language(self) -> str:
        if self.member is not None:
            return self.member.language
        if self.coordinator is not None:
            return self.coordinator.language
        return self.field_worker.language if self.field_worker is not None else "en"

    def languages(self) -> list[str]:
        """Her own language first, then her groups' (keyword aliases from each)."""
        return [self.language] + [m.group.language for m in self.memberships]


def identify(session: Session, phone: str) -> Sender:
    """Find the member and/or coordinator with this phone; only active memberships of active groups."""
    member = session.scalar(select(Member).where(Member.phone == phone))
    memberships: list[Membership] = []
    if member is not None and member.status == Status.ACTIVE:
        memberships = list(session.scalars(
            select(Membership).join(Group)
            .where(Membership.member_id == member.id, Membership.status == Status.ACTIVE,
                   Group.status == Status.ACTIVE)
            .order_by(Membership.id)))
    coordinator = session.scalar(select(Coordinator).where(Coordinator.phone == phone))
    field_worker = session.scalar(select(FieldWorker).where(FieldWorker.phone == phone,
                                                            FieldWorker.active.is_(True)))
    return Sender(phone, member, memberships, coordinator, field_worker)


@dataclass
class Notice:
    """An SMS to another member that an accepted command causes (a receipt), already in her words."""

    member: Member
    group: Group
    text: str
    kind: str = "receipt"


@dataclass
class Outcome:
    """What the sender is told, and who else gets a message."""

    reply: str
    notices: list[Notice] = field(default_factory=list)
    more: list[str] = field(default_factory=list)  # further SMS to the sender (a long answer, paged)
    refused: bool = False  # a refusal that keeps what it wrote (a wrong PIN counts toward the lock)


class CommandError(Exception):
    """The command is refused; ``text`` (in the sender's language) says why. Nothing is kept."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class Context:
    """Everything a command's ``run`` needs: one transaction, one sender, one role."""

    session: Session
    config: Config
    sender: Sender
    membership: Membership | None  # the membership whose role allowed the command
    key: str  # idempotency base: the provider and its message id
    now: dt.datetime

    @property
    def group(self) -> Group | None:
        return self.membership.group if self.membership is not None else None

    @property
    def role_group(self) -> Group:
        """The group of a command that a member's role allowed (every group command has one)."""
        if self.membership is None:
            raise RuntimeError("a group command run without the membership that allowed it")
        return self.membership.group

    @property
    def actor(self) -> Member | None:
        return self.sender.member

    @property
    def member(self) -> Member:
        """The sender as a member (every command a member's role allowed has one)."""
        if self.sender.member is None:
            raise RuntimeError("a member's command run for a sender who is no member")
        return self.sender.member

    @property
    def t(self) -> Translator:
        return translator(self.sender.language)

    def money(self, minor: int) -> str:
        assert self.group is not None
        return self.t.money(minor, self.group.currency)

    def today(self) -> dt.date:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(self.group.timezone) if self.group is not None else dt.UTC
        return self.now.astimezone(tz).date()
