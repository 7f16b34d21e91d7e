"""Programme questions over USSD: "Did you receive ...?" for a grant, and the monthly business check-in.

Both are asked at the start of a session (the home screen's guard, when she
has just dialled): a grant she has not answered for first, every time until
she answers; then, once a month, how her business is doing. She can also
answer the check-in from the home menu ("My business").
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from i18n import N_
from menus.engine import HOME, Choice, Ctx, End, Go, Move, Say, Screen
from programmes.models import Business, Grant, Programme, Trend
from programmes.service import answer_grant, checkin_due, pending_grant, prompt_once, record_checkin

TRENDS = [
    (Trend.BETTER, N_("Better")),
    (Trend.SAME, N_("The same")),
    (Trend.WORSE, N_("Worse")),
    (Trend.CLOSED, N_("It has closed")),
]


def _today(ctx: Ctx) -> dt.date:
    who = ctx.state.who
    return ctx.deps.now.astimezone(ZoneInfo(who.timezone if who and who.timezone else "UTC")).date()


def start_prompt(ctx: Ctx) -> Move | None:
    """Guard of home, on a session's first hop only: a pending grant, then a due check-in."""
    who = ctx.state.who
    if who is None or not who.member_id or not who.enrolled or ctx.hop.text != "" or ctx.state.seen != 0:
        return None
    return _next_question(ctx, prompt=True)


def _next_question(ctx: Ctx, prompt: bool) -> Move | None:
    who = ctx.state.who
    assert who is not None
    grant = pending_grant(ctx.db, who.member_id)
    if grant is not None:
        ctx.data["grant"] = grant.id
        return Go("prog_grant", push=False)
    business = checkin_due(ctx.db, who.member_id, _today(ctx))
    if business is not None and (not prompt or prompt_once(ctx.db, business, _today(ctx))):
        ctx.data["business"] = business.id
        return Go("prog_checkin", push=False)
    return None


def _grant_body(ctx: Ctx) -> list[str]:
    grant = ctx.db.get(Grant, ctx.data["grant"])
    assert grant is not None
    return [ctx.t.gettext("Did you receive {items} ({value})?", items=grant.items,
                          value=ctx.t.money(grant.value, grant.currency))]


def _yes_no(ctx: Ctx) -> list[Choice]:
    return [Choice(ctx.t.gettext("Yes"), True), Choice(ctx.t.gettext("No"), False)]


def _answered(ctx: Ctx, received: Any) -> Move:
    grant = ctx.db.get(Grant, ctx.data["grant"])
    assert grant is not None
    answer_grant(ctx.db, grant, bool(received), ctx.deps.now)
    thanks = Say(N_("Thank you: we have noted that you received it.")) if received else \
        Say(N_("Thank you. The programme will look into it."))
    return _then(ctx, thanks)


def _then(ctx: Ctx, thanks: Say) -> Move:
    """After an answer: the next question if there is one, else home with the thanks on top."""
    ctx.data.pop("grant", None)
    following = _next_question(ctx, prompt=True)
    if following is not None:
        return Go(following.screen, thanks, push=False) if isinstance(following, Go) else following
    return Go(HOME, thanks)


def has_business(ctx: Ctx) -> bool:
    who = ctx.state.who
    if who is None or not who.member_id or not who.enrolled:
        return False
    return checkin_due(ctx.db, who.member_id, _today(ctx)) is not None


def _checkin_guard(ctx: Ctx) -> Move | None:
    """From the home menu: her business due a check-in this month, else say there is none."""
    if "business" in ctx.data:
        return None
    who = ctx.state.who
    business = checkin_due(ctx.db, who.member_id, _today(ctx)) if who is not None else None
    if business is None:
        return End(Say(N_("Thank you: nothing to answer this month.")))
    ctx.data["business"] = business.id
    return None


def _trends(ctx: Ctx) -> list[Choice]:
    return [Choice(ctx.t.gettext(label), trend.value) for trend, label in TRENDS]


def _trend(ctx: Ctx, value: Any) -> Move:
    ctx.data["trend"] = value
    if value == Trend.CLOSED.value:
        return _record(ctx, None)
    return Go("prog_income")


def _bands(ctx: Ctx) -> list[Choice]:
    business = ctx.db.get(Business, ctx.data["business"])
    assert business is not None
    programme = ctx.db.get(Programme, business.programme_id)
    assert programme is not None
    t, bands, cur = ctx.t, list(programme.income_bands or []), programme.currency
    out = []
    for i, high in enumerate(bands):
        if i == 0:
            out.append(Choice(t.gettext("Up to {amount}", amount=t.money(high, cur)), i))
        else:
            out.append(Choice(t.gettext("{low} to {high}", low=t.money(bands[i - 1], cur), high=t.money(high, cur)), i))
    if bands:
        out.append(Choice(t.gettext("Over {amount}", amount=t.money(bands[-1], cur)), len(bands)))
    return out


def _record(ctx: Ctx, band: Any) -> Move:
    business = ctx.db.get(Business, ctx.data["business"])
    assert business is not None
    record_checkin(ctx.db, business, Trend(ctx.data["trend"]), band, ctx.deps.now)
    return End(Say(N_("Thank you. Your answer helps the programme support your business.")))


HOME_ITEM_LABEL = N_("My business")

SCREENS = [
    Screen("prog_grant", body=_grant_body, choices=_yes_no, chosen=_answered, resumable=False),
    Screen("prog_checkin", guard=_checkin_guard,
           body=lambda ctx: [ctx.t.gettext("How is your business doing this month?")],
           choices=_trends, chosen=_trend),
    Screen("prog_income", body=lambda ctx: [ctx.t.gettext("About how much does it earn in a month?")],
           choices=_bands, chosen=_record),
]
