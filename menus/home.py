"""The home menu, by role: what a member, a treasurer and a chair can do."""
from __future__ import annotations

from groups.models import Role
from i18n import N_
from menus.engine import HOME, Ctx, Item, Move, Predicate, Screen


def role_is(*roles: Role) -> Predicate:
    names = {r.value for r in roles}
    return lambda ctx: ctx.role in names


is_chair = role_is(Role.CHAIR)
is_treasurer = role_is(Role.TREASURER)


HOME_ITEMS = (
    Item(N_("Loan requests"), "chair_loans", when=lambda ctx: _may_decide(ctx)),
    Item(N_("Referrals"), "refer_list", when=lambda ctx: _referrals_waiting(ctx)),
    Item(N_("Today's meeting"), "treasurer_today", when=is_treasurer),
    Item(N_("My savings"), "savings"),
    Item(N_("My loan"), "loan"),
    Item(N_("Ask for a loan"), "loan_amount"),
    Item(N_("Next meeting"), "meeting"),
    # TRANSLATORS: her last payments in and out (savings, fines, loan paid out ...); plain words, not bank jargon.
    Item(N_("Money in and out"), "statement"),
    Item(N_("My business"), "prog_checkin", when=lambda ctx: _has_business(ctx)),
    Item(N_("Ask for help"), "help"),
    Item(N_("Settings"), "settings"),
    Item(N_("Reset a member's PIN"), "chair_reset", when=is_chair),
    Item(N_("Group rules"), "rules", when=is_chair),
    Item(N_("Share-out"), "shareout", when=is_treasurer),
    Item(N_("Log a visit"), "visit_group", when=lambda ctx: _field_worker(ctx)),
    Item(N_("Change group"), "pick_group", when=lambda ctx: bool(ctx.state.who and ctx.state.who.groups > 1)),
)

# No title line: on an 80-character screen (any non-GSM letter) every line counts.
SCREENS = [Screen(HOME, items=HOME_ITEMS, back=False,
                  guard=lambda ctx: _coordinator_home(ctx) or _programme_prompt(ctx))]


def _coordinator_home(ctx: Ctx) -> Move | None:
    from menus.coordinator import coordinator_home
    from menus.field import field_home

    return coordinator_home(ctx) or field_home(ctx)


def _referrals_waiting(ctx: Ctx) -> bool:
    from menus.field import chair_has_referrals

    return chair_has_referrals(ctx)


def _field_worker(ctx: Ctx) -> bool:
    from menus.field import is_field_worker

    return is_field_worker(ctx)


def _programme_prompt(ctx: Ctx) -> Move | None:
    from menus.programme import start_prompt

    return start_prompt(ctx)


def _has_business(ctx: Ctx) -> bool:
    from menus.programme import has_business as has

    return has(ctx)


def _may_decide(ctx: Ctx) -> bool:
    from menus.loans import may_decide

    return may_decide(ctx)
