"""The one rule for letter style: the member's own choice, else her group's.

``Member.plain_letters`` is ``None`` when she follows her group; a group's
``plain_letters`` is always set. With neither (a coordinator, an unknown
number) a text goes in full letters. Every SMS and every USSD screen takes
its style from here, so a member reads the same letters everywhere:
:func:`letters_for` for one member, :func:`member_letters` when no group is in
hand (her first group, as the SMS commands and the USSD menus choose it), and
:func:`plain_sql`, the same rule in SQL, for bulk sends (broadcasts, reminders,
loan notices).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import Session

from groups.models import Group, Member, Membership, Status
from text.plain import Letters


def letters_of(member_choice: bool | None, group_choice: bool | None) -> Letters:
    """The style from the two settings: hers when she made one, else the group's."""
    return Letters.of(member_choice if member_choice is not None else group_choice)


def letters_for(member: Member | None, group: Group | None) -> Letters:
    """The member's letter style, else her group's; full letters when neither says."""
    return letters_of(member.plain_letters if member is not None else None,
                      group.plain_letters if group is not None else None)


def member_letters(session: Session, member: Member) -> Letters:
    """:func:`letters_for` with her first active group (by membership, as USSD and SMS pick it)."""
    if member.plain_letters is not None:
        return Letters.of(member.plain_letters)
    group_choice = session.scalar(
        select(Group.plain_letters).join(Membership, Membership.group_id == Group.id)
        .where(Membership.member_id == member.id, Membership.status == Status.ACTIVE,
               Group.status == Status.ACTIVE)
        .order_by(Membership.id).limit(1))
    return letters_of(None, group_choice)


def plain_sql(member_choice: Any = Member.plain_letters, group_choice: Any = Group.plain_letters
              ) -> ColumnElement[bool]:
    """:func:`letters_for` in SQL: true where the member gets plain letters.

    The arguments are the two settings as SQL expressions (an aliased group's
    column, or a condition standing for it); a missing row (an outer join) is
    full letters, as ``None`` is in Python.
    """
    result: ColumnElement[bool] = func.coalesce(member_choice, group_choice, false())
    return result
