"""Helpers shared by the reminder and broadcast tests: groups and members made quickly."""
from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from groups.models import Group, Member
from groups.service import add_member, create_group

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

UTC = dt.UTC


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


_phones = itertools.count(1)


def make_group(session: Session, code: str, *, n: int = 3, **rules: Any) -> Group:
    """A group with ``n`` members (Kenyan phones, so any timezone may be tested)."""
    rules.setdefault("kind", "shg")
    rules.setdefault("currency", "KES")
    rules.setdefault("name", f"Group {code}")
    group = create_group(session, code=code, country="KE", **rules)
    for i in range(n):
        add_member(session, group, phone=f"+25471{next(_phones):07d}", name=f"Member {i}")
    return group


def members_of(session: Session, group: Group) -> list[Member]:
    return [m.member for m in group.memberships]


def phones(session: Session) -> list[str]:
    return list(session.scalars(select(Member.phone)))
