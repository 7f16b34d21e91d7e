"""The treasurer's view of today's meeting: who has paid, the totals, the cash box."""
from __future__ import annotations

import ledger
from i18n import N_
from menus.engine import Ctx, End, Move, Say, Screen
from menus.home import is_treasurer


def _treasurer_only(ctx: Ctx) -> Move | None:
    return None if is_treasurer(ctx) else End(Say(N_("Only the treasurer can do this.")))


def _today(ctx: Ctx) -> list[str]:
    t = ctx.t
    sheet = ledger.meeting_sheet(ctx.db, ctx.group, ledger.group_today(ctx.group))
    paid = len(sheet.rows) - len(sheet.missing)
    lines = [t.gettext("Meeting: {date}", date=t.date(sheet.on)),
             t.gettext("Paid: {paid} of {count}", paid=t.number(paid), count=t.number(len(sheet.rows)))]
    if sheet.closed:
        lines.append(t.gettext("The meeting is closed."))
    lines += [t.gettext("Saved: {amount}", amount=ctx.money(sheet.total("saved"))),
              # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
              t.gettext("Social fund: {amount}", amount=ctx.money(sheet.total("social"))),
              t.gettext("Repaid: {amount}", amount=ctx.money(sheet.total("repaid"))),
              t.gettext("Fines: {amount}", amount=ctx.money(sheet.total("fines"))),
              # TRANSLATORS: the group's locked cash box; not Kassa (the product's name): see the glossary.
              t.gettext("Cash box: {amount}", amount=ctx.money(sheet.cash_box))]
    waiting = ledger.approved_loans(ctx.db, ctx.group)
    if waiting:
        numbers = {row.member_id: row for row in sheet.rows}
        # TRANSLATORS: a heading, followed by approved loans the treasurer pays out (DISBURSE L17).
        lines.append(t.gettext("To pay out:"))
        lines += [f"{loan.ref} {numbers[loan.member_id].name if loan.member_id in numbers else '?'} "
                  f"{ctx.money(loan.principal)}" for loan in waiting]
    if sheet.missing:
        lines.append(t.gettext("Not yet:"))
        lines += [f"{row.name} ({row.number})" for row in sheet.missing]
    return lines


SCREENS = [Screen("treasurer_today", guard=_treasurer_only, body=_today)]
