"""Commands for everyone registered: BAL, HELP, LANG, STOP, START."""
from __future__ import annotations

from typing import TYPE_CHECKING

import ledger
from commands.context import CommandError, Context, Outcome
from commands.handle import authorise
from commands.parser import Grammar, Parsed
from commands.registry import ANYONE, REGISTRY, Command, pgettext, register
from db import on_commit
from i18n import LANGUAGES, N_, translator
from text.gsm7 import shape
from text.plain import PLAIN_READABLE, match_key, plain_letters

if TYPE_CHECKING:
    from services import Services

EVERYONE = frozenset({ANYONE})


#: Each command as printed on the treasurers' card: typed exactly so, in any language.
CARD_EXAMPLES = {"SAVE": "SAVE 3 500 4 500", "SOCIAL": "SOCIAL 3 50", "FINE": "FINE 3 20 late",
                 "REPAY": "REPAY 3 250", "DISBURSE": "DISBURSE L17", "UNDO": "UNDO R1042",
                 "APPROVE": "APPROVE L17", "DECLINE": "DECLINE L17", "LANG": "LANG az",
                 "BC": "BC CODE text", "MOVE": "MOVE 2026-12-08 14:00", "CANCEL": "CANCEL",
                 "SOCIALPAY": "SOCIALPAY 3 20 funeral", "ABSENT": "ABSENT 4 7", "LEAVE": "LEAVE 4",
                 "VISIT": "VISIT KAS1 note", "RULE": "RULE"}


def run_help(ctx: Context, parsed: Parsed) -> Outcome:
    """The commands this sender may use, in her language: one per line with what it does
    when that fits in two SMS segments, else the compact card (examples only), so that
    HELP never costs more than two segments, in any language."""
    allowed = [cmd for cmd in REGISTRY.values() if authorise(ctx.sender, cmd.on_card()).allowed]
    lines = list(dict.fromkeys(ctx.t.gettext(cmd.usage) for cmd in allowed))
    full = "\n".join(["Kassa:"] + lines)
    if shape(full).segments <= 2 and shape(plain_letters(full)).segments <= 1:
        return Outcome(full)
    examples = "; ".join(dict.fromkeys(_example(ctx, cmd.keyword) for cmd in allowed))
    # TRANSLATORS: {examples} lists SMS commands as typed, e.g. "SAVE 3 500 4 500; BAL; STOP".
    card = ctx.t.gettext("Kassa commands, for example: {examples}", examples=examples)
    if shape(card).segments <= 2 and shape(plain_letters(card)).segments <= 1:
        return Outcome(card)
    if ctx.t.lang in PLAIN_READABLE:  # her words in plain letters (Vietnamese without marks), 1 segment an SMS
        pages = _one_segment_pages(plain_letters(card).split("; "))
        if len(pages) <= 2:
            return Outcome(pages[0], more=pages[1:])
    # Her words, the keywords alone (a non-Latin script costs 70 letters a segment, not 160).
    keywords = ctx.t.gettext("Kassa commands, for example: {examples}",
                             examples=", ".join(dict.fromkeys(cmd.keyword for cmd in allowed)))
    plain_ok = ctx.t.lang not in PLAIN_READABLE or shape(plain_letters(keywords)).segments <= 1
    if shape(keywords).segments <= 2 and plain_ok:
        return Outcome(keywords)
    if ctx.t.lang not in PLAIN_READABLE:  # her words first, the keywords that do not fit in a second SMS
        pages = _one_segment_pages(keywords.split(", "), sep=", ", segments=2)
        if len(pages) <= 2:
            return Outcome(pages[0], more=pages[1:])
    # All GSM-7: one segment each, where her letters would take three; a long card is two SMS.
    examples_list = list(dict.fromkeys(_example(ctx, cmd.keyword) for cmd in allowed))
    pages = _one_segment_pages(["Kassa: " + examples_list[0], *examples_list[1:]])
    return Outcome(pages[0], more=pages[1:])


def _example(ctx: Context, keyword: str) -> str:
    """The card's example for ``keyword``; FINE names the group's first fine type as the treasurer types it."""
    if keyword == "FINE" and ctx.group is not None:
        from groups.rules import fine_types, fine_word

        first = next(iter(fine_types(ctx.group).values()), None)
        if first is not None:
            return f"FINE 3 {fine_word(ctx.group, first.code)}"
    return CARD_EXAMPLES.get(keyword, keyword)


def _one_segment_pages(parts: list[str], sep: str = "; ", segments: int = 1) -> list[str]:
    """``parts`` joined with ``sep`` into SMS of at most ``segments`` segments each."""
    pages: list[str] = []
    for part in parts:
        if pages and shape(pages[-1] + sep + part).segments <= segments:
            pages[-1] += sep + part
        else:
            pages.append(part)
    return pages


def find_language(word: str) -> str | None:
    """A shipped language code from its code (``az``) or its own name (``Azərbaycanca``)."""
    key = match_key(word)
    for code, name in LANGUAGES.items():
        if key == code.upper() or key == match_key(name) or (len(key) >= 3 and match_key(name).startswith(key)):
            return code
    return None


def run_lang(ctx: Context, parsed: Parsed) -> Outcome:
    """Set the sender's language (member and coordinator alike); answer in the new one."""
    code = find_language(parsed.word or "")
    if code is None:
        raise CommandError(ctx.t.gettext("LANG: write one of {codes}.", codes=", ".join(LANGUAGES)))
    for person in (ctx.sender.member, ctx.sender.coordinator, ctx.sender.field_worker):
        if person is not None:
            person.language = code
    ctx.session.flush()
    if ctx.sender.member is not None or ctx.sender.field_worker is not None:  # her next USSD screen too
        on_commit(ctx.session, _forget_caller, ctx.sender.phone)
    # TRANSLATORS: {language} is the language's own name, e.g. Azərbaycanca.
    return Outcome(translator(code).gettext("Kassa will write to you in {language}.", language=LANGUAGES[code]))


def _forget_caller(services: Services, phone: str) -> None:
    from groups.callers import forget_caller

    forget_caller(services.redis, phone)


def run_stop(ctx: Context, parsed: Parsed) -> Outcome:
    """Opt out of reminders and broadcasts (receipts for her own money still come)."""
    _set_opted_out(ctx, True)
    return Outcome(ctx.t.gettext("You will get no more reminders or announcements. Receipts for your money "
                                 "still come. Send START to get them again."))


def run_start(ctx: Context, parsed: Parsed) -> Outcome:
    _set_opted_out(ctx, False)
    return Outcome(ctx.t.gettext("Welcome back: you will get reminders and announcements again."))


def _set_opted_out(ctx: Context, value: bool) -> None:
    if ctx.sender.member is not None:
        ctx.sender.member.opted_out = value
        ctx.session.flush()


def run_balance(ctx: Context, parsed: Parsed) -> Outcome:
    """Her savings, and her loan when she has one, from the ledger."""
    if ctx.group is None or ctx.sender.member is None:
        raise CommandError(ctx.t.gettext("BAL is for group members."))
    if ctx.group.pin_for_balance:  # a shared phone: balances only after the PIN, on USSD
        from menus.privacy import PIN_FIRST

        raise CommandError(ctx.t.gettext(PIN_FIRST, code=getattr(ctx.config, "USSD_SERVICE_CODE", "")))
    pos = ledger.member_position(ctx.session, ctx.group, ctx.sender.member, ctx.today())
    lines = [ctx.t.gettext("{group}: your savings {savings}.", group=ctx.group.name,
                           savings=ctx.money(pos.savings))]
    if pos.loan_outstanding:
        lines.append(ctx.t.gettext("Loan to repay: {amount}.", amount=ctx.money(pos.loan_outstanding)))
    if pos.next_instalment is not None:
        lines.append(ctx.t.gettext("Next instalment: {amount}. Due date: {date}.", amount=ctx.money(pos.next_instalment.amount),
                                   date=ctx.t.date(pos.next_instalment.on)))
    return Outcome(" ".join(lines))


# TRANSLATORS: the "sms keyword" entries list the words people may type instead of the English
# keyword, separated by spaces (one word each, no spaces inside). The English keyword always works.
register(Command(pgettext("sms keyword", "BAL"), Grammar.NONE, EVERYONE, run_balance,
                 N_("BAL - your savings and loan")))
register(Command(pgettext("sms keyword", "HELP"), Grammar.NONE, EVERYONE, run_help,
                 N_("HELP - this list")))
register(Command(pgettext("sms keyword", "LANG"), Grammar.WORD, EVERYONE, run_lang,
                 N_("LANG az - choose your language")))
register(Command(pgettext("sms keyword", "STOP"), Grammar.NONE, EVERYONE, run_stop,
                 N_("STOP / START - reminders off / on")))
register(Command(pgettext("sms keyword", "START"), Grammar.NONE, EVERYONE, run_start,
                 N_("STOP / START - reminders off / on")))
