"""The treasurer's and the chair's commands, posted through the ledger.

Each item of an SMS is posted with the idempotency key
``<provider>:<message id>:<item>``, so even a replayed message could not post
twice (the inbox already refuses the replay). The first refused item stops
the command; the caller rolls the whole SMS back and the reply names the item.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select

import ledger
from commands.context import CommandError, Context, Notice, Outcome
from commands.messages import item_problem
from commands.parser import Grammar, Item, Parsed
from commands.registry import Command, pgettext, register
from groups.models import Group, Member, Membership, Status
from groups.phones import try_normalise
from i18n import N_, Translator, translator

if TYPE_CHECKING:
    from ledger.books import Receipt
    from ledger.errors import LedgerError

TREASURER = frozenset({"treasurer"})
CHAIR = frozenset({"chair"})

#: Receipt.kind -> the member's receipt sentence.
RECEIPT_TEXTS = {
    # TRANSLATORS: an SMS receipt; {group} is the group's name, {ref} a receipt number like R1042.
    "saving": N_("{group}: saving of {amount} received. Your savings: {balance}. Receipt {ref}."),
    # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
    "social": N_("{group}: social fund {amount} received. Paid in all: {balance}. Receipt {ref}."),
    "fine": N_("{group}: fine of {amount} paid. Receipt {ref}."),
    "repayment": N_("{group}: loan repayment {amount} received. Left to repay: {balance}. Receipt {ref}."),
    "disbursement": N_("{group}: your loan of {amount} was paid out. To repay: {balance}. Receipt {ref}."),
    # TRANSLATORS: {original} is the cancelled receipt's number, {ref} the correction's.
    "reversal": N_("{group}: receipt {original} of {amount} was cancelled (correction {ref}). "
                   "Your balance: {balance}."),
}
GENERIC_RECEIPT = N_("{group}: {amount} recorded. Receipt {ref}.")


def resolve(ctx: Context, command: str, item: Item) -> Membership:
    """The member ``item.who`` names in the sender's group: her number there, or her phone."""
    group = ctx.role_group
    query = select(Membership).where(Membership.group_id == group.id, Membership.status == Status.ACTIVE)
    if len(item.who) <= 4 and not item.who.startswith("+"):
        membership = ctx.session.scalar(query.where(Membership.number == int(item.who)))
    else:
        phone = try_normalise(item.who, group.country)
        membership = ctx.session.scalar(query.join(Member).where(Member.phone == phone)) if phone else None
    if membership is None:
        raise CommandError(item_problem(ctx.t, command, item.index, item.text,
                                        ctx.t.gettext("no member {who} in your group", who=item.who)))
    return membership


def receipt_text(t: Translator, group: Group, receipt: Receipt) -> str:
    """The receipt SMS for ``receipt`` in the member's language (VSLA savings: shares and their value)."""
    if receipt.kind == "saving" and receipt.shares:
        value = receipt.amount // receipt.shares
        # TRANSLATORS: a VSLA receipt: shares bought at this meeting and all her shares, with their value.
        return t.gettext("{group}: shares bought: {shares} ({amount}). All your shares: {total} ({balance}). "
                         "Receipt {ref}.", group=group.name, shares=receipt.shares,
                         amount=t.money(receipt.amount, group.currency), total=receipt.balance // value,
                         balance=t.money(receipt.balance, group.currency), ref=receipt.ref)
    if receipt.kind == "fine" and getattr(receipt, "memo", None):
        from groups.rules import fine_name

        # TRANSLATORS: an SMS receipt for a fine of a type the group set ({name}: "Late", or the chair's word).
        return t.gettext("{group}: fine ({name}) of {amount} paid. Receipt {ref}.", group=group.name,
                         name=fine_name(t, group, receipt.memo), amount=t.money(abs(receipt.amount), group.currency),
                         ref=receipt.ref)
    msgid = RECEIPT_TEXTS.get(receipt.kind, GENERIC_RECEIPT)
    return t.gettext(msgid, group=group.name, amount=t.money(abs(receipt.amount), group.currency),
                     balance=t.money(receipt.balance, group.currency), ref=receipt.ref,
                     original=receipt.reverses or "")


def _ledger_problem(ctx: Context, command: str, item: Item, exc: LedgerError) -> CommandError:
    return CommandError(item_problem(ctx.t, command, item.index, item.text,
                                     exc.render(ctx.t, ctx.role_group.currency).rstrip(".।")))


def post_items(ctx: Context, parsed: Parsed, post: Callable[[Member, Item, str], Receipt]) -> Outcome:
    """Post every item or none; a receipt to each member and one summary to the sender."""
    members = [resolve(ctx, parsed.command, item) for item in parsed.items]
    _refuse_repeats(ctx, parsed, members)
    from ledger.errors import LedgerError
    notices: list[Notice] = []
    parts: list[str] = []
    total = 0
    for item, membership in zip(parsed.items, members, strict=True):
        try:
            receipt = post(membership.member, item, f"{ctx.key}:{item.index}")
        except LedgerError as exc:
            raise _ledger_problem(ctx, parsed.command, item, exc) from None
        total += receipt.amount
        parts.append(f"#{membership.number} {receipt.ref}")
        t = translator(membership.member.language)
        notices.append(Notice(membership.member, ctx.role_group, receipt_text(t, ctx.role_group, receipt)))
    reply = ctx.t.ngettext("{command}: {n} member, total {total}.", "{command}: {n} members, total {total}.",
                           len(parts), command=parsed.command, total=ctx.money(total))
    return Outcome(reply + " " + ", ".join(parts), notices)


def _refuse_repeats(ctx: Context, parsed: Parsed, members: list[Membership]) -> None:
    seen: dict[int, Item] = {}
    for item, membership in zip(parsed.items, members, strict=True):
        if membership.id in seen:
            raise CommandError(item_problem(ctx.t, parsed.command, item.index, item.text, ctx.t.gettext(
                "member {number} is already in item {first}", number=membership.number,
                first=seen[membership.id].index)))
        seen[membership.id] = item


def shares_typed(group: Group, item: Item, share_value: int | None = None) -> int | None:
    """In a share-based (VSLA) group a small whole number is shares, not money: ``SAVE 3 2`` buys
    2 shares. Small means less than one share's value in the currency's major units; a larger
    amount (``SAVE 3 100000``) is money and must be whole shares."""
    from ledger.money import minor_digits

    typed = item.text.split()[-1].replace(",", "")
    value = group.share_value if share_value is None else share_value  # the open cycle's, when it has one
    if group.kind.value != "vsla" or not typed.isdigit() or value <= 0:
        return None
    shares = int(typed)
    return shares if 0 < shares * 10 ** minor_digits(group.currency) < value else None


def run_save(ctx: Context, parsed: Parsed) -> Outcome:

    from ledger.books import open_cycle

    cycle = open_cycle(ctx.session, ctx.role_group)
    value = cycle.share_value if cycle is not None and cycle.share_value else None

    def post(member: Member, item: Item, key: str) -> Receipt:
        shares = shares_typed(ctx.role_group, item, value)
        return ledger.record_saving(ctx.session, ctx.role_group, member, amount=None if shares else item.amount,
                                    shares=shares, key=key, actor=ctx.member, on=ctx.today())

    return post_items(ctx, parsed, post)


def run_social(ctx: Context, parsed: Parsed) -> Outcome:

    return post_items(ctx, parsed, lambda member, item, key: ledger.record_social(
        ctx.session, ctx.role_group, member, item.amount, key=key, actor=ctx.member, on=ctx.today()))


def run_repay(ctx: Context, parsed: Parsed) -> Outcome:

    return post_items(ctx, parsed, lambda member, item, key: ledger.record_repayment(
        ctx.session, ctx.role_group, member, _amount(item), key=key, actor=ctx.member, on=ctx.today()))


def _amount(item: Item) -> int:
    """The amount of an item whose grammar requires one (the parser refuses an item without)."""
    if item.amount is None:
        raise RuntimeError(f"item {item.index} reached its command without an amount")
    return item.amount


def _ref(parsed: Parsed) -> str:
    """The receipt or loan number of a REF command (the parser refuses one without)."""
    if parsed.ref is None:
        raise RuntimeError(f"{parsed.command} reached its command without a number")
    return parsed.ref


def run_fine(ctx: Context, parsed: Parsed) -> Outcome:
    """FINE WHO AMOUNT [REASON]: a reason naming one of the group's fine types records that type;
    any other reason is free words. With no amount, the reason must be a fine type (its amount)."""
    from groups.rules import find_fine

    reason = parsed.text.strip().lower() or None
    named = find_fine(ctx.role_group, reason)  # a fine type's code or the chair's name for it

    def post(member: Member, item: Item, key: str) -> Receipt:
        fine_type = reason if item.amount is None or named else None
        return ledger.record_fine(ctx.session, ctx.role_group, member, item.amount, fine_type=fine_type, key=key,
                                  actor=ctx.member, on=ctx.today())

    return post_items(ctx, parsed, post)


def _ref_item(parsed: Parsed) -> Item:
    return Item(1, parsed.ref or "", None, parsed.ref or "")


def _member(ctx: Context, member_id: int | None) -> Member | None:
    return ctx.session.get(Member, member_id) if member_id is not None else None


def run_undo(ctx: Context, parsed: Parsed) -> Outcome:
    """Reverse a receipt (never delete it); the member is told her corrected balance."""
    from ledger.errors import LedgerError

    try:
        receipt = ledger.reverse(ctx.session, ctx.role_group, _ref(parsed), reason=parsed.text or "UNDO by SMS",
                          key=ctx.key, actor=ctx.member)
    except LedgerError as exc:
        raise _ledger_problem(ctx, parsed.command, _ref_item(parsed), exc) from None
    reply = ctx.t.gettext("UNDO: receipt {ref} cancelled, correction {new}.", ref=parsed.ref, new=receipt.ref)
    return Outcome(reply, _notices(ctx, receipt))


def _notices(ctx: Context, receipt: Receipt) -> list[Notice]:
    member = _member(ctx, receipt.member_id)
    if member is None:
        return []
    return [Notice(member, ctx.role_group, receipt_text(translator(member.language), ctx.role_group, receipt))]


def run_disburse(ctx: Context, parsed: Parsed) -> Outcome:
    from ledger.errors import LedgerError

    try:
        receipt = ledger.disburse_loan(ctx.session, ctx.role_group, _ref(parsed), actor=ctx.member, key=ctx.key)
    except LedgerError as exc:
        raise _ledger_problem(ctx, parsed.command, _ref_item(parsed), exc) from None
    if receipt.member_id is not None:  # a loan paid out finances her in her programmes
        from programmes.service import loan_paid_out

        loan_paid_out(ctx.session, receipt.member_id, ctx.today())
    reply = ctx.t.gettext("DISBURSE: loan {loan} paid out, {amount}. Receipt {ref}.", loan=parsed.ref,
                          amount=ctx.money(abs(receipt.amount)), ref=receipt.ref)
    return Outcome(reply, _notices(ctx, receipt))


def _decide(ctx: Context, parsed: Parsed, approve: bool) -> Outcome:
    from ledger.errors import LedgerError

    try:
        loan = ledger.decide_loan(ctx.session, ctx.role_group, _ref(parsed), approve=approve, actor=ctx.actor,
                           reason=parsed.text or None, key=ctx.key)
    except LedgerError as exc:
        raise _ledger_problem(ctx, parsed.command, _ref_item(parsed), exc) from None
    borrower = _member(ctx, loan.member_id)
    t = translator(borrower.language) if borrower is not None else ctx.t
    amount = t.money(loan.principal, ctx.role_group.currency)
    if approve:
        text = t.gettext("{group}: your loan request {loan} for {amount} is approved. The treasurer will "
                         "pay it out.", group=ctx.role_group.name, loan=loan.ref, amount=amount)
        reply = ctx.t.gettext("APPROVE: loan {loan} approved.", loan=loan.ref)
    else:
        text = t.gettext("{group}: your loan request {loan} for {amount} is not approved. {reason}",
                         group=ctx.role_group.name, loan=loan.ref, amount=amount, reason=parsed.text).strip()
        reply = ctx.t.gettext("DECLINE: loan {loan} declined.", loan=loan.ref)
    notices = [Notice(borrower, ctx.role_group, text, kind="notice")] if borrower is not None else []
    return Outcome(reply, notices)


def run_approve(ctx: Context, parsed: Parsed) -> Outcome:
    return _decide(ctx, parsed, approve=True)


def run_decline(ctx: Context, parsed: Parsed) -> Outcome:
    return _decide(ctx, parsed, approve=False)


register(Command(pgettext("sms keyword", "SAVE"), Grammar.ITEMS, TREASURER, run_save,
                 N_("SAVE number amount ... - savings")))
register(Command(pgettext("sms keyword", "SOCIAL"), Grammar.ITEMS, TREASURER, run_social,
                 # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
                 N_("SOCIAL number amount ... - social fund")))
register(Command(pgettext("sms keyword", "FINE"), Grammar.ITEMS_REASON, TREASURER, run_fine,
                 N_("FINE number amount [reason] - fine")))
register(Command(pgettext("sms keyword", "REPAY"), Grammar.ITEMS, TREASURER, run_repay,
                 N_("REPAY number amount ... - loan repayment")))
register(Command(pgettext("sms keyword", "DISBURSE"), Grammar.REF, TREASURER, run_disburse,
                 N_("DISBURSE L17 - pay out an approved loan")))
register(Command(pgettext("sms keyword", "UNDO"), Grammar.REF_REASON, TREASURER, run_undo,
                 N_("UNDO R1042 - cancel a receipt")))
register(Command(pgettext("sms keyword", "APPROVE"), Grammar.REF, CHAIR, run_approve,
                 N_("APPROVE L17 - approve a loan")))
register(Command(pgettext("sms keyword", "DECLINE"), Grammar.REF_REASON, CHAIR, run_decline,
                 N_("DECLINE L17 [reason] - decline a loan")))
