"""Small groups for ledger tests: an SHG (KES, fixed weekly saving) and a VSLA (shares).

Test modules declare their fixtures with :func:`make_books`.
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from groups.models import Group, Member
from groups.service import add_member, create_group

MONDAY = dt.date(2026, 11, 23)
_keys = itertools.count(1)


def key(prefix: str = "k") -> str:
    """A fresh idempotency key."""
    return f"{prefix}-{next(_keys)}"


@dataclass
class Books:
    """A group and its people: ``treasurer``, ``chair`` and ``members`` (plain members)."""

    group: Group
    treasurer: Member
    chair: Member
    members: list[Member] = field(default_factory=list)

    @property
    def everyone(self) -> list[Member]:
        return [self.treasurer, self.chair, *self.members]


def make_books(session: Session, code: str, kind: str, n_members: int = 3, **rules: Any) -> Books:
    """Create a group with a treasurer, a chair and ``n_members`` members; flushed, not committed."""
    base = 254700000000 + 1000 * (sum(map(ord, code)) % 900)
    if kind == "vsla":
        defaults: dict[str, Any] = dict(share_value=5000, social_fund_amount=1000,
                                           fine_types={"late": 500, "absent": 1000})
    else:
        defaults = dict(saving_amount=20000, social_fund_amount=5000, fine_types={"late": 2000, "absent": 5000})
    defaults.update(rules)
    group = create_group(session, code=code, name=f"Group {code}", kind=kind, currency="KES", country="KE",
                         timezone="Africa/Nairobi", meeting_weekday=0, **defaults)
    people = [add_member(session, group, phone=f"+{base + i}", name=f"Member {i}",
                         role=role).member
              for i, role in enumerate(["treasurer", "chair"] + ["member"] * n_members, start=1)]
    return Books(group, people[0], people[1], people[2:])
