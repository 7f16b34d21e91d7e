"""A member of two or more groups chooses the group on her first screen."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from groups.models import Group, Member, Membership, Status
from menus.engine import HOME, Choice, Ctx, Go, Move, Screen


def _groups(ctx: Ctx) -> list[Choice]:
    who = ctx.state.who
    assert who is not None
    rows = ctx.db.execute(select(Membership.id, Group.name).join(Group, Group.id == Membership.group_id).where(
        Membership.member_id == who.member_id, Membership.status == Status.ACTIVE,
        Group.status == Status.ACTIVE).order_by(Membership.id)).all()
    return [Choice(name, membership_id) for membership_id, name in rows]


def _chosen(ctx: Ctx, membership_id: Any) -> Move:
    from menus.driver import who_for

    who = ctx.state.who
    assert who is not None
    membership = ctx.db.get(Membership, int(membership_id))
    assert membership is not None and membership.member_id == who.member_id
    member, group = ctx.db.get(Member, membership.member_id), ctx.db.get(Group, membership.group_id)
    assert member is not None and group is not None
    ctx.state.who = who_for(member, membership, group, groups=who.groups)
    ctx.state.who.field_worker_id = who.field_worker_id
    ctx.__dict__.pop("_people", None)  # the cached member and group were the other group's
    ctx.__dict__.pop("membership", None)
    return Go(HOME, push=False)


SCREENS = [Screen("pick_group", body=lambda ctx: [ctx.t.gettext("Which group?")], choices=_groups,
                  chosen=_chosen, back=False)]
