"""Helpers shared by the reminder and broadcast tests: groups and members made quickly."""
from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select

from groups.models import Group, Member
from groups.service import add_member, create_group

UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


_phones = itertools.count(1)


def make_group(session, code: str, *, n: int = 3, **rules) -> Group:
    """A group with ``n`` members (Kenyan phones, so any timezone may be tested)."""
    rules.setdefault("kind", "shg")
    rules.setdefault("currency", "KES")
    rules.setdefault("name", f"Group {code}")
    group = create_group(session, code=code, country="KE", **rules)
    for i in range(n):
        add_member(session, group, phone=f"+25471{next(_phones):07d}", name=f"Member {i}")
    return group


def members_of(session, group: Group) -> list[Member]:
    return [m.member for m in group.memberships]


def phones(session) -> list[str]:
    return list(session.scalars(select(Member.phone)))
