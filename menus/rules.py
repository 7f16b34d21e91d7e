"""The chair's "Group rules" menu: every rule with its value; she picks one, types the new value,
and confirms with her PIN (the same change as ``RULE ... PIN`` by SMS, ``groups.rules``).

Fine types: each with its amount and name, and "New fine type": a fine's amount, its name (in
the group's language) or removing it. The session keeps the change asked for (plain values);
the PIN is checked on the last screen and never kept. Every member gets an SMS.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from commands.rules import change_text
from groups.letters import letters_for
from groups.models import GroupKind, Member, Membership, Status
from groups.rules import (
    NAME_MAX,
    RULES,
    RuleEdit,
    RuleError,
    apply,
    current,
    fine_name,
    fine_types,
    label,
    parse_edit,
    show,
)
from i18n import N_, translator
from menus.engine import Choice, Ctx, End, Go, Invalid, Move, Say, Screen
from menus.leaders import chair_only
from messaging.models import Priority
from messaging.outbox import queue_sms

#: Rule -> the question asking its new value (rules with a choice of two have none).
ASK = {
    "saving": N_("New saving per meeting (amount):"),
    "share": N_("New share value (amount):"),
    "interest": N_("New service charge, percent a month (e.g. 5):"),
    "limit": N_("New loan limit: how many times her savings (1-20)?"),
    "expiry": N_("An approved loan not paid out lapses after how many meetings (0: never)?"),
    "keep": N_("Amount each member keeps in the box at the share-out (0: none):"),
}

#: RuleError.code -> what the menu says (short: one screen).
REFUSALS = {
    "bad_amount": N_("That is not an amount. Type it again."),
    "bad_count": N_("Type a whole number from {low} to {high}."),
    "bad_percent": N_("Type a percent from 0 to 10, e.g. 5 or 2.5."),
    "name_long": N_("A fine's name has at most {most} letters."),
    "unchanged": N_("That is already the rule. Nothing changed."),
    "meeting_open": N_("Today's meeting is open. Change this rule after it closes."),
    "shareout_waiting": N_("A share-out is waiting for its code. Change this rule after it."),
}
OTHER_REFUSAL = N_("That cannot be changed now. Nothing changed.")

#: Applied.effective -> the chair's last screen (the confirmation screen showed before and after).
SAVED = {
    "now": N_("Changed. Every member gets an SMS."),
    "next_meeting": N_("Changed: from the next meeting. Every member gets an SMS."),
    "next_cycle": N_("Changed: from the next cycle. Every member gets an SMS."),
    "new_loans": N_("Changed: for new loans. Every member gets an SMS."),
}


def _say(exc: RuleError) -> Say:
    return Say(REFUSALS.get(exc.code, OTHER_REFUSAL), {k: str(v) for k, v in exc.params.items()})


def _rules(ctx: Ctx) -> list[Choice]:
    t, group = ctx.t, ctx.group
    out = []
    for rule in RULES:
        if (rule == "saving" and group.kind == GroupKind.VSLA) or (rule == "share" and group.kind != GroupKind.VSLA):
            continue
        if rule == "fine":
            out.append(Choice(label(t, group, "fines"), rule))
        else:
            out.append(Choice(f"{label(t, group, rule)}: {show(t, group, rule, current(group, rule))}", rule))
    return out


def _rule_chosen(ctx: Ctx, rule: Any) -> Move:
    ctx.data["rule"] = str(rule)
    if rule == "fine":
        return Go("rule_fines")
    if rule in ("pin", "loans"):
        return Go("rule_pick")
    return Go("rule_value")


def _value_body(ctx: Ctx) -> list[str]:
    rule = ctx.data.get("rule", "saving")
    now = show(ctx.t, ctx.group, rule, current(ctx.group, rule))
    return [ctx.t.gettext("Now: {value}", value=now), ctx.t.gettext(ASK.get(rule, ASK["saving"]))]


def _edit(ctx: Ctx, words: list[str]) -> dict[str, Any]:
    try:
        edit = parse_edit(ctx.group, words)
    except RuleError as exc:
        say = _say(exc)
        raise Invalid(say.msgid, **say.params) from None
    return _dump(edit)


def _dump(edit: RuleEdit) -> dict[str, Any]:
    return {"rule": edit.rule, "value": edit.value, "fine": edit.fine, "name": edit.name, "remove": edit.remove}


def _value(ctx: Ctx, raw: str) -> dict[str, Any]:
    return _edit(ctx, [ctx.data.get("rule", ""), raw.strip()])


def _pick_choices(ctx: Ctx) -> list[Choice]:
    t, rule = ctx.t, ctx.data.get("rule", "pin")
    if rule == "pin":
        return [Choice(show(t, ctx.group, "pin", True), "ON"), Choice(show(t, ctx.group, "pin", False), "OFF")]
    return [Choice(show(t, ctx.group, "loans", "repay_first"), "REPAY"),
            Choice(show(t, ctx.group, "loans", "deduct"), "DEDUCT")]


def _picked(ctx: Ctx, word: Any) -> Move:
    try:
        ctx.data["edit"] = _edit(ctx, [ctx.data.get("rule", ""), str(word)])
    except Invalid as refused:
        return End(refused.say)
    return Go("rule_confirm")


def _fines(ctx: Ctx) -> list[Choice]:
    t, group = ctx.t, ctx.group
    out = [Choice(f"{fine_name(t, group, f.code)}: {t.money(f.amount, group.currency)}", f.code)
           for f in fine_types(group).values()]
    return out + [Choice(t.gettext("New fine type"), "")]


def _fine_chosen(ctx: Ctx, code: Any) -> Move:
    ctx.data["fine"] = str(code)
    return Go("rule_fine_edit" if code else "rule_fine_new")


def _fine_actions(ctx: Ctx) -> list[Choice]:
    t = ctx.t
    return [Choice(t.gettext("Change the amount"), "amount"), Choice(t.gettext("Change the name"), "name"),
            Choice(t.gettext("Remove this fine"), "remove")]


def _fine_action(ctx: Ctx, action: Any) -> Move:
    if action == "remove":
        ctx.data["edit"] = _dump(RuleEdit("fine", fine=ctx.data.get("fine", ""), remove=True))
        return Go("rule_confirm")
    return Go("rule_fine_amount" if action == "amount" else "rule_fine_name")


def _fine_amount(ctx: Ctx, raw: str) -> dict[str, Any]:
    return _edit(ctx, ["fine", ctx.data.get("fine", ""), raw.strip()])


def _fine_rename(ctx: Ctx, raw: str) -> dict[str, Any]:
    name = " ".join(raw.split())
    if not name or name.isdigit():
        raise Invalid(N_("Type the fine's name, e.g. Late."))
    if len(name) > NAME_MAX:
        raise Invalid(REFUSALS["name_long"], most=str(NAME_MAX))
    fine = fine_types(ctx.group).get(ctx.data.get("fine", ""))
    return _dump(RuleEdit("fine", fine.amount if fine else 0, fine=ctx.data.get("fine", ""), name=name))


def _fine_new_name(ctx: Ctx, raw: str) -> str:
    name = " ".join(raw.split())
    code = (name.split() or [""])[0].lower()
    if not name or not code.isalpha():
        raise Invalid(N_("Type the fine's name, e.g. Late."))
    if len(name) > NAME_MAX:
        raise Invalid(REFUSALS["name_long"], most=str(NAME_MAX))
    if code in fine_types(ctx.group):
        raise Invalid(N_("The group already has that fine. Choose it to change it."))
    ctx.data["fine"] = code[:16]
    return name


def _fine_new_amount(ctx: Ctx, raw: str) -> dict[str, Any]:
    edit = _edit(ctx, ["fine", ctx.data.get("fine", ""), raw.strip()])
    edit["name"] = ctx.data.get("fine_name") or None
    return edit


def _confirm_body(ctx: Ctx) -> list[str]:
    t, group, edit = ctx.t, ctx.group, ctx.data.get("edit") or {}
    rule = edit.get("rule", "saving")
    if rule == "fine":
        code = edit.get("fine", "")
        before = fine_types(group).get(code)
        what = label(t, group, "fine", code, edit.get("name") or "")
        after = t.gettext("removed") if edit.get("remove") else t.money(int(edit.get("value") or 0), group.currency)
        now = t.money(before.amount, group.currency) if before else "-"
    else:
        what, value = label(t, group, rule), edit.get("value")
        now = show(t, group, rule, current(group, rule))
        after = show(t, group, rule, current(group, rule) if value is None else value)
    return [f"{what}: {now} -> {after}", t.gettext("Enter your PIN to confirm.")]


def _apply(ctx: Ctx) -> Move:
    raw = ctx.data.get("edit") or {}
    edit = RuleEdit(raw.get("rule", ""), raw.get("value"), raw.get("fine", ""), raw.get("name"),
                    bool(raw.get("remove")))
    group = ctx.group
    try:
        applied = apply(ctx.db, group, edit, actor=ctx.member, now=ctx.deps.now, channel="ussd")
    except RuleError as exc:
        return End(_say(exc))
    members = ctx.db.scalars(select(Member).join(Membership, Membership.member_id == Member.id).where(
        Membership.group_id == group.id, Membership.status == Status.ACTIVE, Member.status == Status.ACTIVE,
        Member.id != ctx.member.id).order_by(Membership.number))
    for member in members:
        queue_sms(ctx.db, to=member.phone, text=change_text(translator(member.language), group, applied),
                  language=member.language, kind="rule_change", priority=Priority.NOTICE, member_id=member.id,
                  group_id=group.id, letters=letters_for(member, group))
    if edit.rule == "pin" and ctx.state.who is not None:
        ctx.state.who.pin_for_balance = bool(edit.value)
        ctx.state.who_changed = True
    return End(Say(SAVED[applied.effective]))


def _with_pin(ctx: Ctx, raw: str) -> Move:
    from menus.pin import with_pin

    return with_pin(_apply)(ctx, raw)


def _fine_name_saved(ctx: Ctx) -> Move:
    ctx.data["fine_name"] = ctx.data.pop("fine_new", "")
    return Go("rule_fine_new_amount")


SCREENS = [
    Screen("rules", choices=_rules, chosen=_rule_chosen, guard=chair_only),
    Screen("rule_value", body=_value_body, validate=_value, save_as="edit", then="rule_confirm"),
    Screen("rule_pick", body=lambda ctx: [label(ctx.t, ctx.group, ctx.data.get("rule", "pin"))],
           choices=_pick_choices, chosen=_picked),
    Screen("rule_fines", choices=_fines, chosen=_fine_chosen),
    Screen("rule_fine_edit", body=lambda ctx: [label(ctx.t, ctx.group, "fine", ctx.data.get("fine", ""))],
           choices=_fine_actions, chosen=_fine_action),
    Screen("rule_fine_amount", body=lambda ctx: [ctx.t.gettext("New amount:")], validate=_fine_amount,
           save_as="edit", then="rule_confirm"),
    Screen("rule_fine_name", body=lambda ctx: [ctx.t.gettext("New name, in the group's language:")],
           validate=_fine_rename, save_as="edit", then="rule_confirm"),
    Screen("rule_fine_new", body=lambda ctx: [ctx.t.gettext("Name of the new fine, in the group's language:")],
           validate=_fine_new_name, save_as="fine_new", then=_fine_name_saved),
    Screen("rule_fine_new_amount", body=lambda ctx: [ctx.t.gettext("New amount:")], validate=_fine_new_amount,
           save_as="edit", then="rule_confirm"),
    Screen("rule_confirm", body=_confirm_body, pin=_with_pin, resumable=False),
]
