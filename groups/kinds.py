"""The kinds of group and the size each is meant to have (``groups.models.GROUP_SIZES``)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groups.models import GROUP_SIZES, Group, Member, Membership, Status
from i18n import N_, Translator

KIND_LABELS = {
    "shg": N_("Self-help group: a fixed saving at each meeting"),
    "vsla": N_("VSLA: shares bought at meetings"),
    "flexible": N_("Flexible: any amount, on any day"),
}


@dataclass(frozen=True)
class SizeWarning:
    members: int
    low: int
    high: int

    def render(self, t: Translator) -> str:
        return t.ngettext("This group has {n} member; groups of its kind have {low} to {high}.",
                          "This group has {n} members; groups of its kind have {low} to {high}.",
                          self.members, low=self.low, high=self.high)


def active_members(session: Session, group: Group) -> int:
    return int(session.scalar(select(func.count()).select_from(Membership).join(Member).where(
        Membership.group_id == group.id, Membership.status == Status.ACTIVE, Member.status == Status.ACTIVE)) or 0)


def size_warning(session: Session, group: Group) -> SizeWarning | None:
    """A warning when the group's active members are outside its kind's size, else None."""
    return size_warning_of(group, active_members(session, group))


def size_warning_of(group: Group, n: int) -> SizeWarning | None:
    """:func:`size_warning` for ``n`` active members already counted."""
    low, high = GROUP_SIZES.get(group.kind.value, (1, 10_000))
    return SizeWarning(n, low, high) if n < low or n > high else None
