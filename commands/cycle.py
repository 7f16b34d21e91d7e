"""The end of the cycle and the group's life by SMS: share-out, social-fund grants, absences, leaving.

- ``SHAREOUT`` (treasurer): a preview (cash box, profit, each member's payout,
  paged in SMS of at most :data:`PAGE_SEGMENTS` segments) and a code; the chair
  is told. ``SHAREOUT <code>`` within 30 minutes carries it out: every member
  gets an SMS with her payout, a new cycle starts.
- ``HOLD`` (chair): stops a share-out waiting for its code.
- ``SOCIALPAY WHO AMOUNT reason`` (treasurer): a grant from the social fund.
- ``ABSENT 4 7`` (treasurer, chair): who did not come; ``CLOSE`` records the rest.
- ``LEAVE WHO`` (treasurer, chair): her savings less what she owes, paid out; her membership ends.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from commands.context import CommandError, Context, Notice, Outcome
from commands.meeting import resolve
from commands.messages import item_problem
from commands.parser import Grammar, Item, Parsed
from commands.registry import COORDINATOR, Command, pgettext, register
from groups.models import Group, Member, Membership, Role, Status
from i18n import N_, Translator, translator
from ledger.cycle import Watchers
from ledger.errors import LedgerError
from ledger.shareout import Payout, ShareOut
from text.gsm7 import shape
from text.plain import plain_letters

TREASURER = frozenset({"treasurer"})
CHAIR = frozenset({"chair"})
OFFICERS = frozenset({"treasurer", "chair"})
PAGE_SEGMENTS = 2  # each SMS of a long answer (the share-out preview) costs at most this many


def _refused(ctx: Context, exc: LedgerError) -> CommandError:
    return CommandError(exc.render(ctx.t, ctx.role_group.currency))


def _officers(ctx: Context, *roles: Role) -> list[Member]:
    """The group's active members holding ``roles``, but not the sender."""
    return list(ctx.session.scalars(select(Member).join(Membership, Membership.member_id == Member.id).where(
        Membership.group_id == ctx.role_group.id, Membership.role.in_(roles), Membership.status == Status.ACTIVE,
        Member.id != ctx.member.id).order_by(Membership.number)))


def _numbers(ctx: Context) -> dict[int, tuple[int, str]]:
    """member id -> (her number in the group, her first name), for every membership, left or not."""
    rows = ctx.session.execute(select(Membership.member_id, Membership.number, Member.name)
                               .join(Member, Member.id == Membership.member_id)
                               .where(Membership.group_id == ctx.role_group.id))
    return {mid: (number, (name.split() or ["?"])[0]) for mid, number, name in rows}


def _fits(text: str, segments: int) -> bool:
    """At most ``segments`` segments, and one once written in plain letters (as every Kassa SMS)."""
    return shape(text).segments <= segments and shape(plain_letters(text)).segments <= 1


def pages(lines: list[str], segments: int = PAGE_SEGMENTS) -> list[str]:
    """``lines`` joined into as few SMS as possible, none over ``segments`` segments."""
    out: list[str] = []
    for line in lines:
        if out and _fits(out[-1] + "\n" + line, segments):
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


# -- share-out -----------------------------------------------------------------------------

def run_shareout(ctx: Context, parsed: Parsed) -> Outcome:
    code = parsed.text.split()[0] if parsed.text.split() else ""
    return _confirm(ctx, code) if code else _start(ctx)


def _start(ctx: Context) -> Outcome:
    try:
        preview = ledger.start_share_out(ctx.session, ctx.role_group, actor=ctx.member, now=ctx.now)
    except LedgerError as exc:
        raise _refused(ctx, exc) from None
    t, names = ctx.t, _numbers(ctx)
    # TRANSLATORS: the group's locked cash box, not Kassa (the product's name); the group's mutual-help fund, not the state social fund: see the glossary.
    lines = [t.gettext("SHAREOUT preview: cash box {cash}, profit {profit}, social fund kept {social}.",
                       cash=ctx.money(preview.cash_box), profit=ctx.money(preview.profit),
                       social=ctx.money(preview.social_fund))]
    for p in preview.payouts:
        number, name = names.get(p.member_id, (0, "?"))
        line = f"#{number} {name}: {ctx.money(p.total)}"
        if p.deducted:
            # TRANSLATORS: after a member's payout: what she still owed on loans, taken from it.
            line += " " + t.gettext("(loan {amount} taken off)", amount=ctx.money(p.deducted))
        lines.append(line)
    # TRANSLATORS: {code} is a 4-digit code; SHAREOUT is the SMS keyword, keep it.
    lines.append(t.gettext("To pay out {total}, send SHAREOUT {code} within 30 minutes.",
                           total=ctx.money(preview.total), code=preview.code))
    texts = pages(lines)
    watchers = ledger.share_out_watchers(ctx.session, ctx.role_group, treasurer_id=ctx.member.id)
    notices = [Notice(m, ctx.role_group, started_notice(translator(m.language), ctx.role_group, preview), kind="notice")
               for m in watchers.members]
    tell_coordinators(ctx.session, ctx.role_group, watchers, lambda t: coordinator_started(t, ctx.role_group, preview))
    return Outcome(texts[0], notices, texts[1:])


def tell_coordinators(session: Session, group: Group, watchers: Watchers,
                      render: Callable[[Translator], str]) -> None:
    """The share-out's notices to the coordinators standing in for a group without a chair."""
    from messaging.models import Priority
    from messaging.outbox import queue_sms
    from text.plain import Letters

    for coordinator in watchers.coordinators:
        t = translator(coordinator.language)
        queue_sms(session, to=coordinator.phone, text=render(t), language=t.lang, kind="notice",
                  letters=Letters.FULL, priority=Priority.NOTICE, group_id=group.id)


def coordinator_started(t: Translator, group: Group, preview: ledger.Preview) -> str:
    """The coordinator's SMS when the treasurer of a group without a chair starts a share-out."""
    # TRANSLATORS: to the coordinator; HOLD is the SMS keyword and {code} the group's code: keep both.
    return t.gettext("Kassa: {group} has no chair. Its treasurer started the share-out, {total} to {n} members. "
                     "Send HOLD {code} to stop it.", group=group.name, total=t.money(preview.total, group.currency),
                     n=len(preview.payouts), code=group.code)


def coordinator_done(t: Translator, group: Group, done: ShareOut) -> str:
    """The coordinator's SMS when that share-out is carried out."""
    return t.gettext("Kassa: {group} share-out done, {total} paid to {n} members. A new cycle begins.",
                     group=group.name, total=t.money(done.total, group.currency), n=len(done.payouts))


def started_notice(t: Translator, group: Group, preview: ledger.Preview) -> str:
    """The chair's SMS when the treasurer starts a share-out."""
    return t.gettext("Kassa: the treasurer started the share-out, {total} to {n} members. Send HOLD to stop it.",
                     total=t.money(preview.total, group.currency), n=len(preview.payouts))


def done_notice(t: Translator, group: Group, done: ShareOut) -> str:
    """The chair's SMS when the share-out is carried out."""
    return t.gettext("Kassa: share-out done, {total} paid to {n} members. A new cycle begins.",
                     total=t.money(done.total, group.currency), n=len(done.payouts))


def payout_text(t: Translator, group: Group, payout: Payout, ref: str) -> str:
    """Her share-out SMS: what she gets, of which savings and profit (and a loan taken off)."""
    def money(minor: int) -> str:
        return t.money(minor, group.currency)

    text = _payout_sentence(t, group, payout, ref, money)
    if payout.kept:
        # TRANSLATORS: the group keeps a float: part of her share-out stays in the cash box as her saving.
        text += " " + t.gettext("{kept} stays in the box as your first saving.", kept=money(payout.kept))
    return text


def _payout_sentence(t: Translator, group: Group, payout: Payout, ref: str, money: Callable[[int], str]) -> str:
    if payout.deducted:
        return t.gettext("{group} share-out: you get {amount} (savings {savings} + profit {profit} - loan "
                         "{loan}). Receipt {ref}.", group=group.name, amount=money(payout.total),
                         savings=money(payout.savings), profit=money(payout.profit), loan=money(payout.deducted),
                         ref=ref)
    return t.gettext("{group} share-out: you get {amount} (savings {savings} + profit {profit}). Receipt {ref}.",
                     group=group.name, amount=money(payout.total), savings=money(payout.savings),
                     profit=money(payout.profit), ref=ref)


def _confirm(ctx: Context, code: str) -> Outcome:
    try:
        done = ledger.confirm_share_out(ctx.session, ctx.role_group, code, actor=ctx.member, now=ctx.now)
    except LedgerError as exc:
        raise _refused(ctx, exc) from None
    # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
    reply = ctx.t.gettext("SHAREOUT done: {total} paid to {n} members, profit {profit}. Social fund kept: "
                          "{social}. Receipt {ref}.", total=ctx.money(done.total), n=len(done.payouts),
                          profit=ctx.money(done.profit), social=ctx.money(done.social_fund_carried), ref=done.ref)
    if done.kept:
        reply += " " + ctx.t.gettext("Kept in the box for the new cycle: {amount}.", amount=ctx.money(done.kept))
    if done.replayed:
        return Outcome(reply)
    notices, more = [], []
    for p in done.payouts:
        member = ctx.session.get(Member, p.member_id)
        if member is None or p.total <= 0:
            continue
        text = payout_text(translator(member.language), ctx.role_group, p, done.ref)
        if member.id == ctx.member.id:
            more.append(text)  # her own payout as its own SMS, not appended to a long reply
        else:
            notices.append(Notice(member, ctx.role_group, text))
    watchers = ledger.share_out_watchers(ctx.session, ctx.role_group, treasurer_id=ctx.member.id)
    for m in watchers.members:
        notices.append(Notice(m, ctx.role_group, done_notice(translator(m.language), ctx.role_group, done), kind="notice"))
    tell_coordinators(ctx.session, ctx.role_group, watchers, lambda t: coordinator_done(t, ctx.role_group, done))
    return Outcome(reply, notices, more)


def _hold_group(ctx: Context, parsed: Parsed) -> tuple[Group, int | None]:
    """The sender's own group; a coordinator names the group by its code (HOLD UPENDO)."""
    if ctx.group is not None:
        return ctx.group, None
    from groups.service import coordinators_of

    coordinator, words = ctx.sender.coordinator, parsed.text.split()
    group = ctx.session.scalar(select(Group).where(Group.code == words[0].upper())) if words else None
    if coordinator is None or group is None or not (
            coordinator.all_groups or any(c.id == coordinator.id for c in coordinators_of(ctx.session, group))):
        raise CommandError(ctx.t.gettext("HOLD: write the group's code, e.g. HOLD UPENDO."))
    return group, coordinator.id


def run_hold(ctx: Context, parsed: Parsed) -> Outcome:
    """The chair holds the share-out; in a group without a chair, its coordinator (or a secretary)."""
    group, coordinator_id = _hold_group(ctx, parsed)
    try:
        ledger.hold_share_out(ctx.session, group, actor=ctx.actor if coordinator_id is None else None,
                              now=ctx.now, coordinator_id=coordinator_id)
    except LedgerError as exc:
        raise CommandError(exc.render(ctx.t, group.currency)) from None
    chair = ctx.membership is not None and ctx.membership.role == Role.CHAIR
    coordinator = ctx.sender.coordinator
    who = coordinator.name if coordinator is not None and coordinator_id is not None else (
        ctx.actor.name if ctx.actor else "?")
    notices = []
    treasurers = ctx.session.scalars(select(Member).join(Membership, Membership.member_id == Member.id).where(
        Membership.group_id == group.id, Membership.role == Role.TREASURER, Membership.status == Status.ACTIVE))
    for treasurer in treasurers:
        if ctx.actor is not None and treasurer.id == ctx.actor.id:
            continue
        tt = translator(treasurer.language)
        text = tt.gettext("Kassa: the chair put the share-out on hold. Nothing was paid out.") if chair else \
            tt.gettext("Kassa: {name} put the share-out on hold. Nothing was paid out.", name=who)
        notices.append(Notice(treasurer, group, text, kind="notice"))
    return Outcome(ctx.t.gettext("HOLD: the share-out is on hold. Nothing was paid out."), notices)


# -- social fund grant ------------------------------------------------------------------------

def run_socialpay(ctx: Context, parsed: Parsed) -> Outcome:
    item = parsed.items[0]
    if len(parsed.items) > 1 or item.amount is None:
        raise CommandError(ctx.t.gettext("SOCIALPAY: write one member, the amount and the reason, "
                                         "e.g. SOCIALPAY 3 2000 funeral."))
    membership = resolve(ctx, parsed.command, item)
    who = membership.member
    reason = parsed.text.strip()
    try:
        receipt = ledger.pay_social_fund(ctx.session, ctx.role_group, who, item.amount, reason=reason or "-",
                                         key=f"{ctx.key}:1", actor=ctx.member)
    except LedgerError as exc:
        raise CommandError(item_problem(ctx.t, parsed.command, 1, item.text,
                                        exc.render(ctx.t, ctx.role_group.currency).rstrip(".।"))) from None
    wt = translator(who.language)
    # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
    notices = [Notice(who, ctx.role_group, wt.gettext(
        "{group}: you received {amount} from the social fund. Receipt {ref}.", group=ctx.role_group.name,
        amount=wt.money(receipt.amount, ctx.role_group.currency), ref=receipt.ref))]
    for chair in _officers(ctx, Role.CHAIR):
        if chair.id == who.id:
            continue
        ct = translator(chair.language)
        # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
        notices.append(Notice(chair, ctx.role_group, ct.gettext(
            "Kassa: {amount} paid from the social fund to {name} ({reason}). Left in the fund: {balance}.",
            amount=ct.money(receipt.amount, ctx.role_group.currency), name=who.name,
            reason=reason or "-", balance=ct.money(receipt.balance, ctx.role_group.currency)), kind="notice"))
    # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
    reply = ctx.t.gettext("SOCIALPAY: {amount} to #{number}. Left in the social fund: {balance}. Receipt {ref}.",
                          amount=ctx.money(receipt.amount), number=membership.number,
                          balance=ctx.money(receipt.balance), ref=receipt.ref)
    return Outcome(reply, notices)


# -- attendance and leaving ---------------------------------------------------------------------

def _people(ctx: Context, parsed: Parsed) -> list[Membership]:
    """The members named after the keyword (numbers or phones), each once."""
    words = parsed.text.replace(",", " ").split()
    if not words:
        raise CommandError(ctx.t.gettext("{command}: write the members' numbers, e.g. {command} 4 7.",
                                         command=parsed.command))
    found: dict[int, Membership] = {}
    for index, word in enumerate(words, start=1):
        who = word.lstrip("#")
        if not who.lstrip("+").isdigit():
            raise CommandError(item_problem(ctx.t, parsed.command, index, word, ctx.t.gettext(
                "\"{token}\" is not a member number or phone", token=word)))
        membership = resolve(ctx, parsed.command, Item(index, who, None, word))
        found[membership.id] = membership
    return list(found.values())


def run_absent(ctx: Context, parsed: Parsed) -> Outcome:
    people = _people(ctx, parsed)
    try:
        ledger.mark_absent(ctx.session, ctx.role_group, [m.member for m in people], actor=ctx.member, on=ctx.today())
    except LedgerError as exc:
        raise _refused(ctx, exc) from None
    numbers = ", ".join(f"#{m.number}" for m in people)
    return Outcome(ctx.t.gettext("ABSENT: {numbers} marked absent today.", numbers=numbers))


def summary_text(t: Translator, currency: str, summary: ledger.MeetingSummary) -> str:
    """The meeting at its close, for the chair and the treasurer."""
    # TRANSLATORS: {date} is the meeting's date (a label, e.g. "20 December"). The cash box is the group's
    # locked cash box; not Kassa (the product's name): see the glossary.
    text = t.gettext("Meeting closed. Date: {date}. {came} of {count} came. In {paid_in}, out {paid_out}. "
                     "Cash box {cash}.", date=t.date(summary.on, "d MMMM"), came=summary.came,
                     count=summary.members, paid_in=t.money(summary.paid_in, currency),
                     paid_out=t.money(summary.paid_out, currency), cash=t.money(summary.cash_box, currency))
    if summary.absent:
        text += " " + t.gettext("Absent: {numbers}.", numbers=", ".join(f"#{n}" for n in summary.absent))
    return text


def run_close(ctx: Context, parsed: Parsed) -> Outcome:
    """Close today's meeting: its postings become final, attendance is recorded, officers get the summary."""
    try:
        summary = ledger.close_with_attendance(ctx.session, ctx.role_group, actor=ctx.member, on=ctx.today())
    except LedgerError as exc:
        raise _refused(ctx, exc) from None
    notices = [Notice(officer, ctx.role_group, summary_text(translator(officer.language), ctx.role_group.currency, summary),
                      kind="notice") for officer in _officers(ctx, Role.CHAIR, Role.TREASURER)]
    return Outcome(f"{parsed.command}: " + summary_text(ctx.t, ctx.role_group.currency, summary), notices)


def run_leave(ctx: Context, parsed: Parsed) -> Outcome:
    people = _people(ctx, parsed)
    if len(people) != 1:
        raise CommandError(ctx.t.gettext("LEAVE: one member at a time, e.g. LEAVE 4."))
    membership = people[0]
    who = membership.member
    try:
        left = ledger.leave_group(ctx.session, ctx.role_group, who, key=ctx.key, actor=ctx.member)
    except LedgerError as exc:
        raise _refused(ctx, exc) from None
    wt, currency = translator(who.language), ctx.role_group.currency
    if left.deducted:
        text = wt.gettext("{group}: you have left the group. You receive {amount} (savings {savings} - loan "
                          "{loan}).", group=ctx.role_group.name, amount=wt.money(left.paid, currency),
                          savings=wt.money(left.savings, currency), loan=wt.money(left.deducted, currency))
    else:
        text = wt.gettext("{group}: you have left the group. You receive your savings, {amount}.",
                          group=ctx.role_group.name, amount=wt.money(left.paid, currency))
    notices = [Notice(who, ctx.role_group, text + (f" {left.ref}" if left.ref else ""), kind="notice")]
    reply = ctx.t.gettext("LEAVE: #{number} {name} has left. Pay her {amount}.", number=membership.number,
                          name=who.name, amount=ctx.money(left.paid))
    return Outcome(reply + (f" {left.ref}" if left.ref else ""), notices)


register(Command(pgettext("sms keyword", "SHAREOUT"), Grammar.NONE, TREASURER, run_shareout,
                 N_("SHAREOUT [code] - share-out: preview, then carry out")))
register(Command(pgettext("sms keyword", "HOLD"), Grammar.NONE, frozenset({"chair", "secretary", COORDINATOR}),
                 run_hold, N_("HOLD - stop the share-out"), card=CHAIR))
register(Command(pgettext("sms keyword", "SOCIALPAY"), Grammar.ITEMS_REASON, TREASURER, run_socialpay,
                 # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
                 N_("SOCIALPAY number amount reason - social fund grant")))
register(Command(pgettext("sms keyword", "ABSENT"), Grammar.NONE, OFFICERS, run_absent,
                 N_("ABSENT number ... - who did not come")))
register(Command(pgettext("sms keyword", "LEAVE"), Grammar.NONE, OFFICERS, run_leave,
                 N_("LEAVE number - a member leaves, savings paid out")))
register(Command(pgettext("sms keyword", "CLOSE"), Grammar.NONE, OFFICERS, run_close,
                 N_("CLOSE - close today's meeting")))
