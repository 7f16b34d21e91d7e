"""Coordinators dial the short code too: their groups at a glance, open help requests,
loans waiting for them (they answer those by SMS: APPROVE L17 / DECLINE L17)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

import ledger
from field.models import Referral
from groups.models import Coordinator, Group, Member, Status
from i18n import N_
from ledger.models import Loan, LoanStatus
from menus.engine import Choice, Ctx, End, Go, Item, Move, Say, Screen
from outreach.loan_news import who_decides
from support.models import RequestStatus, SupportRequest
from support.service import CATEGORY_LABELS

COORDINATOR = "coordinator"
MAX_LINES = 30  # a list longer than this is for the CLI (flask support list)


def is_coordinator(ctx: Ctx) -> bool:
    return ctx.role == COORDINATOR


def coordinator_home(ctx: Ctx) -> Move | None:
    """Guard of the home screen: a coordinator has her own."""
    return Go("coord_home", push=False) if is_coordinator(ctx) else None


def _coordinator(ctx: Ctx) -> Coordinator | None:
    who = ctx.state.who
    return ctx.db.get(Coordinator, who.coordinator_id) if who is not None and who.coordinator_id else None


def groups_of(ctx: Ctx) -> list[Group]:
    """Her groups: linked to her, in her places or regions, or every group for a national coordinator."""
    coordinator = _coordinator(ctx)
    if coordinator is None:
        return []
    query = select(Group).where(Group.status == Status.ACTIVE).order_by(Group.code)
    if not coordinator.all_groups:
        from orgs.places import coordinator_clause

        query = query.where(coordinator_clause(coordinator))  # her groups, places (subtrees) and regions
    return list(ctx.db.scalars(query.limit(200)))


def _only_coordinators(ctx: Ctx) -> Move | None:
    return None if is_coordinator(ctx) else End(Say(N_("Only a coordinator can do this.")))


def _groups(ctx: Ctx) -> list[Choice]:
    return [Choice(f"{g.code} {g.name}", g.id) for g in groups_of(ctx)]


def _pick(ctx: Ctx, group_id: Any) -> Move:
    ctx.data["coord_group"] = int(group_id)
    return Go("coord_group")


def _summary(ctx: Ctx) -> list[str]:
    t = ctx.t
    group = ctx.db.get(Group, ctx.data.get("coord_group", 0))
    if group is None or group.id not in {g.id for g in groups_of(ctx)}:
        return [t.gettext("Only a coordinator can do this.")]
    s = ledger.group_summary(ctx.db, group)
    cur = group.currency
    return [f"{group.code} {group.name}",
            t.gettext("Members: {n}", n=t.number(s.members)),
            t.gettext("Cash box: {amount}", amount=t.money(s.cash_box, cur)),
            t.gettext("Saved: {amount}", amount=t.money(s.savings, cur)),
            t.gettext("Loans out: {amount} ({n} late)", amount=t.money(s.loans_outstanding, cur),
                      n=t.number(s.overdue_loans))]


def _help_requests(ctx: Ctx) -> list[str]:
    t = ctx.t
    ids = [g.id for g in groups_of(ctx)]
    rows = ctx.db.execute(select(SupportRequest, Member.name, Member.phone, Group.code)
                          .join(Member, Member.id == SupportRequest.member_id)
                          .join(Group, Group.id == SupportRequest.group_id)
                          .where(SupportRequest.group_id.in_(ids), SupportRequest.status != RequestStatus.CLOSED)
                          .order_by(SupportRequest.id).limit(MAX_LINES)).all()
    if not rows:
        return [t.gettext("No help requests are open.")]
    return [f"{r.ref} {name} {phone} {code}: {t.gettext(CATEGORY_LABELS[r.category])}"
            for r, name, phone, code in rows]


def _loans_waiting(ctx: Ctx) -> list[str]:
    t = ctx.t
    lines = []
    for group in groups_of(ctx):
        for loan, name in ctx.db.execute(select(Loan, Member.name).join(Member, Member.id == Loan.member_id).where(
                Loan.group_id == group.id, Loan.status == LoanStatus.REQUESTED).order_by(Loan.id)).all():
            if who_decides(ctx.db, group, loan.member_id).tier == COORDINATOR:
                lines.append(f"{loan.ref} {name} {t.money(loan.principal, group.currency)} {group.code}")
    if not lines:
        return [t.gettext("No loans are waiting for you.")]
    # TRANSLATORS: USSD; APPROVE and DECLINE are SMS keywords, keep them.
    return lines[:MAX_LINES] + [t.gettext("Answer by SMS: APPROVE L17 or DECLINE L17.")]


SCREENS = [
    Screen("coord_home", guard=_only_coordinators, back=False, items=(
        Item(N_("My groups"), "coord_groups"),
        Item(N_("Help requests"), "coord_help"),
        Item(N_("Loans waiting for me"), "coord_loans"),
        Item(N_("Referrals waiting for me"), "coord_referrals", when=lambda ctx: bool(_referrals_for(ctx))),
    )),
    Screen("coord_groups", guard=_only_coordinators, choices=_groups, chosen=_pick,
           body=lambda ctx: [ctx.t.gettext("My groups:")]),
    Screen("coord_group", guard=_only_coordinators, body=_summary),
    Screen("coord_help", guard=_only_coordinators, body=_help_requests),
    Screen("coord_loans", guard=_only_coordinators, body=_loans_waiting),
    Screen("coord_referrals", guard=_only_coordinators, body=lambda ctx: _referrals_waiting(ctx)),
]


def _referrals_for(ctx: Ctx) -> list[Referral]:
    """Referrals to outside lenders she may confirm (``field.referrals``): her menu shows the item then."""
    from field.referrals import waiting_for

    coordinator = _coordinator(ctx)
    return waiting_for(ctx.db, coordinator=coordinator) if coordinator is not None else []


def _referrals_waiting(ctx: Ctx) -> list[str]:
    """Referrals she may confirm; answered by SMS."""
    from orgs.models import Organisation

    t, rows = ctx.t, _referrals_for(ctx)
    if not rows:
        return [t.gettext("No referrals are waiting.")]
    lines = []
    for r in rows[:MAX_LINES]:
        who, group, org = ctx.db.get(Member, r.member_id), ctx.db.get(Group, r.group_id), \
            ctx.db.get(Organisation, r.organisation_id)
        lines.append(f"{r.ref} {who.name if who else '?'} {t.money(r.amount, group.currency) if group else ''} "
                     f"{group.code if group else ''} {org.name if org else ''}")
    # TRANSLATORS: USSD; APPROVE and DECLINE are SMS keywords, keep them; F12 is a referral's number.
    return lines + [t.gettext("Answer by SMS: APPROVE F12 or DECLINE F12.")]
