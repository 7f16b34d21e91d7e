"""The group's rules as the chair edits them (with her PIN), and the record of every change.

One change at a time (:class:`RuleEdit`), checked, applied and recorded in
:class:`RuleChange` (who, the rule, before and after, when, from when it
counts). Nothing already posted is rewritten: a rule is read when money is
recorded, so a change counts for what comes after it.

When a change counts (``effective``):

- ``saving`` (SHG: the fixed saving per meeting) and the fine types: from the
  next meeting. Refused while today's meeting is open (it has postings and is
  not closed): two members at one meeting must not pay by two rules. After
  ``CLOSE`` (or before the meeting) the next meeting is the first to use it.
- ``share`` (VSLA share value): from the next cycle. docs/domain.md A1: the group
  sets the share price at the start of the cycle and it stays fixed, so the
  open cycle keeps its own (``Cycle.share_value``) and the new value opens the
  next one (the share-out creates it from ``Group.share_value``). Before the
  first cycle has started it counts at once.
- ``interest`` (service charge per month) and ``limit`` (loan limit,
  multiplier of savings): for loans asked for from now on; a loan already
  asked for keeps the charge it was quoted (``Loan.charge_bp``).
- ``loans`` (share-out: loans repaid first or deducted) and ``keep`` (the
  float kept at share-out): at once, but refused while a share-out is
  waiting for its code (the preview the chair was sent must stay true).
- ``pin`` (the PIN before balances) and ``expiry`` (an approved loan not paid
  out lapses after that many meetings): at once.

Fine types: ``Group.fine_types`` maps a code (the word the treasurer types in
``FINE 3 late``) to its amount, or to ``{"amount": ..., "name": ...}`` when
the chair gave it a name in the group's language. Built-in codes (``late``,
``absent``) without a name read in each member's language.

Functions flush, never commit.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from db import Base
from groups.models import Group, GroupKind, Member
from i18n import N_, Translator

if TYPE_CHECKING:
    from services import Services

#: The rule words of ``RULE <word> ...`` (English, as on the card), in menu order.
RULES = ("saving", "share", "interest", "limit", "fine", "pin", "expiry", "loans", "keep")

#: Rule -> its name as members read it.
RULE_LABELS = {
    "saving": N_("Saving per meeting"),
    "share": N_("Share value"),
    # TRANSLATORS: a loan's interest, as the group calls it (per month, in percent).
    "interest": N_("Loan service charge per month"),
    "limit": N_("Loan limit"),
    "fine": N_("Fine types"),
    "pin": N_("PIN before balances"),
    "expiry": N_("Approved loan lapses after"),
    "loans": N_("Loans at the share-out"),
    # TRANSLATORS: at the share-out each member may leave up to this much in the box as her first saving.
    "keep": N_("Kept in the box at the share-out"),
}

#: Built-in fine codes -> their name in each language (a name the chair gives wins).
BUILTIN_FINES = {
    # TRANSLATORS: a fine type: for coming late to the meeting.
    "late": N_("Late"),
    # TRANSLATORS: a fine type: for missing the meeting.
    "absent": N_("Missed meeting"),
}

INTEREST_MAX_BP = 1000  # 10% a month (docs/domain.md A1)
LIMIT_RANGE = (1, 20)
EXPIRY_RANGE = (0, 52)
NAME_MAX = 30
_CODE = re.compile(r"\A[^\W\d_][\w-]{0,15}\Z")


class RuleChange(Base):
    """One rule changed: who, which, before and after (JSON text), when, and from when it counts."""

    __tablename__ = "group_rule_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"), index=True)
    rule: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(40), default="")  # the fine type's code
    before: Mapped[str] = mapped_column(String(200))
    after: Mapped[str] = mapped_column(String(200))
    effective: Mapped[str] = mapped_column(String(16))  # now | next_meeting | next_cycle | new_loans
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    channel: Mapped[str] = mapped_column(String(8), default="sms")  # sms | ussd
    cycle_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RuleError(ValueError):
    """Why an edit is refused: ``code`` picks the sentence, ``params`` fill it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code, self.params = code, params


@dataclass(frozen=True)
class FineType:
    code: str
    amount: int
    name: str = ""  # the chair's name for it, in the group's language ("" = built-in or the code)


@dataclass(frozen=True)
class RuleEdit:
    """One change the chair asks for. ``value``: minor units, basis points, a count, a bool or a word."""

    rule: str
    value: Any = None
    fine: str = ""  # the fine type's code (new or existing)
    name: str | None = None  # a fine type's new name (None: keep it)
    remove: bool = False  # remove the fine type


@dataclass(frozen=True)
class Applied:
    change: RuleChange
    before: Any
    after: Any
    effective: str


# -- fine types ------------------------------------------------------------------------------

def fine_types(group: Group) -> dict[str, FineType]:
    """The group's fine types by code, in the order they were added."""
    out: dict[str, FineType] = {}
    for code, raw in (group.fine_types or {}).items():
        if isinstance(raw, dict):
            out[str(code).lower()] = FineType(str(code).lower(), int(raw.get("amount", 0)), str(raw.get("name") or ""))
        else:
            out[str(code).lower()] = FineType(str(code).lower(), int(raw))
    return out


def _key(word: str) -> str:
    from text.plain import match_key

    return match_key(word.strip())


def find_fine(group: Group, word: str | None) -> str | None:
    """The code of the fine type ``word`` names: its code or its name, any case or accents."""
    if not word:
        return None
    from i18n import translator

    key, t = _key(word), translator(group.language)
    for fine in fine_types(group).values():
        if key in (_key(fine.code), _key(fine_name(t, group, fine.code))):
            return fine.code
    return None


def fine_word(group: Group, code: str) -> str:
    """The word a treasurer types for a fine type: its name in the group's language when one word, else its code."""
    from i18n import translator

    name = fine_name(translator(group.language), group, code)
    return name.lower() if len(name.split()) == 1 else code


def fine_name(t: Translator, group: Group | None, code: str | None) -> str:
    """How a member reads a fine type: the chair's name, else the built-in one in her language, else the code."""
    if not code:
        return ""
    fine = fine_types(group).get(code.lower()) if group is not None else None
    if fine is not None and fine.name:
        return fine.name
    if code.lower() in BUILTIN_FINES:
        return t.gettext(BUILTIN_FINES[code.lower()])
    return code


def _stored(fines: dict[str, FineType]) -> dict[str, Any]:
    return {f.code: ({"amount": f.amount, "name": f.name} if f.name else f.amount) for f in fines.values()}


# -- reading an edit -------------------------------------------------------------------------

def _amount(group: Group, word: str, *, zero_ok: bool = False) -> int:
    from ledger.money import AmountError, parse_amount

    try:
        value = parse_amount(word, group.currency)
    except AmountError:
        raise RuleError("bad_amount", token=word[:20]) from None
    if value < 0 or (value == 0 and not zero_ok):
        raise RuleError("bad_amount", token=word[:20])
    return value


def _count(word: str, low: int, high: int) -> int:
    if not word.isdigit() or not low <= int(word) <= high:
        raise RuleError("bad_count", token=word[:20], low=low, high=high)
    return int(word)


def _percent(word: str) -> int:
    try:
        value = Decimal(word.replace(",", ".").rstrip("%"))
    except InvalidOperation:
        raise RuleError("bad_percent", token=word[:20]) from None
    bp = value * 100
    if bp != bp.to_integral_value() or not 0 <= bp <= INTEREST_MAX_BP:
        raise RuleError("bad_percent", token=word[:20])
    return int(bp)


_ON = {"ON", "YES", "1"}
_OFF = {"OFF", "NO", "0"}


def parse_edit(group: Group, words: list[str]) -> RuleEdit:
    """``["saving", "500"]``, ``["fine", "late", "200", "Kuchelewa"]``, ``["fine", "late", "off"]`` ..."""
    if not words:
        raise RuleError("usage")
    rule = words[0].lower()
    args = words[1:]
    if rule not in RULES:
        raise RuleError("unknown_rule", token=words[0][:20])
    if rule == "fine":
        return _parse_fine(group, args)
    if len(args) != 1:
        raise RuleError("one_value", rule=rule)
    word = args[0]
    if rule == "saving":
        if group.kind == GroupKind.VSLA:
            raise RuleError("vsla_saving")
        return RuleEdit(rule, _amount(group, word))
    if rule == "share":
        if group.kind != GroupKind.VSLA:
            raise RuleError("shg_share")
        return RuleEdit(rule, _amount(group, word))
    if rule == "interest":
        return RuleEdit(rule, _percent(word))
    if rule == "limit":
        return RuleEdit(rule, _count(word.lower().rstrip("x"), *LIMIT_RANGE))
    if rule == "expiry":
        return RuleEdit(rule, _count(word, *EXPIRY_RANGE))
    if rule == "pin":
        if word.upper() not in _ON | _OFF:
            raise RuleError("on_off", token=word[:20])
        return RuleEdit(rule, word.upper() in _ON)
    if rule == "loans":
        choice = {"REPAY": "repay_first", "DEDUCT": "deduct"}.get(word.upper())
        if choice is None:
            raise RuleError("repay_deduct", token=word[:20])
        return RuleEdit(rule, choice)
    return RuleEdit(rule, _amount(group, word, zero_ok=True))  # keep


def _parse_fine(group: Group, args: list[str]) -> RuleEdit:
    """``CODE AMOUNT [NAME ...]`` adds or changes; ``CODE OFF`` removes; ``CODE NAME ...`` renames."""
    if not args:
        raise RuleError("fine_usage")
    word, rest = args[0], args[1:]
    code = find_fine(group, word)
    if code is None:
        if not _CODE.match(word):
            raise RuleError("fine_usage")
        code = word.lower()
    if len(rest) == 1 and rest[0].upper() == "OFF":
        return RuleEdit("fine", fine=code, remove=True)
    if not rest:
        raise RuleError("fine_usage")
    if any(c.isdigit() for c in rest[0]):
        amount = _amount(group, rest[0])
        name = " ".join(rest[1:]) or None
    else:
        if code not in fine_types(group):
            raise RuleError("fine_usage")
        amount, name = fine_types(group)[code].amount, " ".join(rest)
    if name is not None and len(name) > NAME_MAX:
        raise RuleError("name_long", most=NAME_MAX)
    return RuleEdit("fine", amount, fine=code, name=name)


# -- current values ----------------------------------------------------------------------------

def current(group: Group, rule: str, fine: str = "") -> Any:
    """The rule's value now (for ``fine``: its :class:`FineType` or None)."""
    if rule == "fine":
        return fine_types(group).get(fine)
    return {"saving": group.saving_amount, "share": group.share_value, "interest": group.service_charge_bp,
            "limit": group.loan_limit_multiplier, "pin": bool(group.pin_for_balance),
            "expiry": group.loan_expiry_meetings, "loans": group.shareout_loans, "keep": group.shareout_keep}[rule]


def show(t: Translator, group: Group, rule: str, value: Any) -> str:
    """A rule's value as a member reads it."""
    if rule in ("saving", "share", "keep"):
        return t.money(int(value), group.currency)
    if rule == "interest":
        return f"{t.number(int(value) // 100)}%" if int(value) % 100 == 0 else f"{int(value) / 100:g}%"
    if rule == "limit":
        # TRANSLATORS: the loan limit: a member may borrow up to {n} times her savings.
        return t.gettext("{n} x savings", n=value)
    if rule == "pin":
        return t.gettext("on") if value else t.gettext("off")
    if rule == "expiry":
        return t.ngettext("{n} meeting", "{n} meetings", int(value)) if value else t.gettext("never")
    if rule == "loans":
        # TRANSLATORS: the share-out rule for loans still being repaid.
        return t.gettext("repaid first") if value == "repay_first" else t.gettext("taken off the payout")
    if rule == "fine":
        if value is None:
            # TRANSLATORS: a fine type the chair removed.
            return t.gettext("removed")
        return t.money(value.amount, group.currency)
    return str(value)


def label(t: Translator, group: Group, rule: str, fine: str = "", name: str = "") -> str:
    """The rule's name; a fine type reads ``Fine: <its name>``."""
    if rule == "fine":
        return t.gettext("Fine: {name}", name=name or fine_name(t, group, fine))
    key = "fine" if rule == "fines" else rule
    return t.gettext(RULE_LABELS[key])


def listing(t: Translator, group: Group) -> list[str]:
    """Every rule of the group with its value, one a line (the SMS ``RULE`` and the chair's menu)."""
    lines = []
    for rule in RULES:
        if (rule == "saving" and group.kind == GroupKind.VSLA) or (rule == "share" and group.kind != GroupKind.VSLA):
            continue
        if rule == "fine":
            for fine in fine_types(group).values():
                lines.append(f"{label(t, group, 'fine', fine.code)} ({fine.code}): "
                             f"{t.money(fine.amount, group.currency)}")
            continue
        lines.append(f"{label(t, group, rule)}: {show(t, group, rule, current(group, rule))}")
    return lines


# -- applying ------------------------------------------------------------------------------------

def _meeting_open(session: Session, group: Group) -> bool:
    from ledger.books import group_today
    from ledger.models import Meeting, Txn

    today = group_today(group)
    meeting = session.scalar(select(Meeting).where(Meeting.group_id == group.id, Meeting.on == today))
    if meeting is None or meeting.closed:
        return False
    return session.scalar(select(Txn.id).where(Txn.meeting_id == meeting.id).limit(1)) is not None


def _cycle_started(session: Session, group: Group) -> int:
    """The open cycle's number, 0 before the first posting."""
    from ledger.books import open_cycle

    cycle = open_cycle(session, group)
    return cycle.number if cycle is not None else 0


def _dump(value: Any) -> str:
    if isinstance(value, FineType):
        value = {"amount": value.amount, "name": value.name}
    return json.dumps(value, ensure_ascii=False)[:200]


def apply(session: Session, group: Group, edit: RuleEdit, *, actor: Member | None, now: dt.datetime,
          channel: str = "sms") -> Applied:
    """Check and make the change; record it. Raises :class:`RuleError` with nothing changed."""
    before = current(group, edit.rule, edit.fine)
    cycle = _cycle_started(session, group)
    effective = "now"
    if edit.rule in ("saving", "fine"):
        if _meeting_open(session, group):
            raise RuleError("meeting_open")
        effective = "next_meeting"
    elif edit.rule == "share":
        effective = "next_cycle" if cycle else "now"
    elif edit.rule in ("interest", "limit"):
        effective = "new_loans"
    elif edit.rule in ("loans", "keep"):
        from ledger.cycle import waiting_share_out

        if waiting_share_out(session, group, now) is not None:
            raise RuleError("shareout_waiting")
    if edit.rule == "fine":
        fines = dict(fine_types(group))
        if edit.remove:
            if edit.fine not in fines:
                raise RuleError("no_fine", token=edit.fine)
            del fines[edit.fine]
            after: Any = None
        else:
            old = fines.get(edit.fine)
            name = edit.name if edit.name is not None else (old.name if old else "")
            after = FineType(edit.fine, int(edit.value), name)
            if after == old:
                raise RuleError("unchanged")
            fines[edit.fine] = after
        group.fine_types = _stored(fines)  # a new dict: the JSON column sees the change
    else:
        if edit.value == before:
            raise RuleError("unchanged")
        after = edit.value
        column = {"saving": "saving_amount", "share": "share_value", "interest": "service_charge_bp",
                  "limit": "loan_limit_multiplier", "pin": "pin_for_balance", "expiry": "loan_expiry_meetings",
                  "loans": "shareout_loans", "keep": "shareout_keep"}[edit.rule]
        setattr(group, column, after)
    change = RuleChange(group_id=group.id, rule=edit.rule, subject=edit.fine, before=_dump(before),
                        after=_dump(after), effective=effective, actor_id=actor.id if actor else None,
                        channel=channel, cycle_number=cycle, created_at=now)
    session.add(change)
    session.flush()
    if edit.rule == "pin":
        _forget_callers(session, group)
    return Applied(change, before, after, effective)


def _forget_callers(session: Session, group: Group) -> None:
    """Each member's USSD menu keeps her group's PIN rule for a minute: drop that copy after the commit."""
    from db import on_commit
    from groups.models import Membership, Status

    phones = session.scalars(select(Member.phone).join(Membership, Membership.member_id == Member.id).where(
        Membership.group_id == group.id, Membership.status == Status.ACTIVE))
    for phone in phones:
        on_commit(session, _forget, phone)


def _forget(services: Services, phone: str) -> None:
    from groups.callers import forget_caller

    forget_caller(services.redis, phone)


def history(session: Session, group: Group, limit: int = 20) -> list[RuleChange]:
    """The group's latest rule changes, newest first."""
    return list(session.scalars(select(RuleChange).where(RuleChange.group_id == group.id)
                                .order_by(RuleChange.id.desc()).limit(limit)))
