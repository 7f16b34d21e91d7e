"""The words of reminders and broadcasts, in each member's language.

Everything a member reads goes through ``i18n.translator(lang)``. Pieces that
repeat across thousands of groups (money, dates, weekday names) are cached,
because the planner renders one text per group, language and letter style.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from i18n import N_, translator


@dataclass(frozen=True)
class MeetingFacts:
    """What a meeting reminder says; amounts in minor units of ``currency``."""

    group_name: str
    meeting_on: dt.date
    at: dt.time
    place: str
    currency: str
    saving: int = 0  # SHG: the fixed saving per meeting
    share_value: int = 0  # VSLA: the value of one share
    shares_min: int = 1
    shares_max: int = 1
    social: int = 0


@lru_cache(maxsize=65536)
def _money(lang: str, minor: int, currency: str) -> str:
    return translator(lang).money(minor, currency)


@lru_cache(maxsize=4096)
def _when(lang: str, day: dt.date, at: dt.time) -> tuple[str, str]:
    """The day (as the language writes it in an SMS) and the time, as people count it."""
    t = translator(lang)
    return t.sms_date(day), t.time(at)


def _items(lang: str, facts: MeetingFacts, loan: int | None) -> list[str]:
    t = translator(lang)
    items = []
    if facts.saving:
        items.append(t.gettext("savings {amount}", amount=_money(lang, facts.saving, facts.currency)))
    if facts.share_value:
        value = _money(lang, facts.share_value, facts.currency)
        if facts.shares_max > facts.shares_min:
            # TRANSLATORS: a VSLA member buys between {low} and {high} shares at each meeting.
            items.append(t.gettext("{low} to {high} shares of {value}", low=facts.shares_min,
                                   high=facts.shares_max, value=value))
        else:
            items.append(t.ngettext("{n} share of {value}", "{n} shares of {value}",
                                    facts.shares_min, value=value))
    if facts.social:
        # TRANSLATORS: the group's own mutual-help fund, not the state social fund: see the glossary.
        items.append(t.gettext("social fund {amount}", amount=_money(lang, facts.social, facts.currency)))
    if loan:
        # TRANSLATORS: what she repays on her loan at this meeting (not a new loan).
        items.append(t.gettext("loan instalment {amount}", amount=_money(lang, loan, facts.currency)))
    return items


def meeting_reminder(lang: str, facts: MeetingFacts, loan: int | None = None) -> str:
    """The reminder for one meeting: day, time, place and what to bring.

    It leaves out the group's name (she knows her group; the place says which
    meeting) so that, with long Vietnamese place names and VND amounts, it
    stays within two UCS-2 segments, and one in plain letters.
    """
    t = translator(lang)
    date, time = _when(lang, facts.meeting_on, facts.at)
    params = dict(date=date, time=time, place=facts.place)
    if facts.place:
        # TRANSLATORS: SMS sent before each meeting; keep it short. A list of labels, not a
        # sentence: {date} is e.g. "Sunday 6" or "06.12", {time} "08:00" (in Swahili
        # "saa 2 asubuhi (08:00)"), {place} where the group meets.
        text = t.gettext("Meeting: {date}, {time}, {place}.", **params)
    else:
        text = t.gettext("Meeting: {date}, {time}.", **params)
    items = _items(lang, facts, loan)
    if items:
        # TRANSLATORS: followed by a list such as "savings 200 KES, social fund 50 KES".
        text += " " + t.gettext("Bring: {items}.", items=", ".join(items))
    return text


def loan_due_notice(lang: str, *, amount: int, currency: str, due_on: dt.date) -> str:
    """The day-before notice of a loan instalment."""
    t = translator(lang)
    date, _ = _when(lang, due_on, dt.time(0, 0))
    # TRANSLATORS: SMS the day before a loan instalment is due; {date} is the due day,
    # e.g. "Sunday 6" or "06.12", written as a label after "Date:".
    return t.gettext("Your loan instalment of {amount} is due tomorrow. Date: {date}.",
                     amount=_money(lang, amount, currency), date=date)


def overdue_notice(lang: str, *, amount: int, currency: str, due_on: dt.date) -> str:
    """The notice after an instalment's due date passed unpaid."""
    t = translator(lang)
    date, _ = _when(lang, due_on, dt.time(0, 0))
    # TRANSLATORS: SMS the day after an unpaid loan instalment; {amount} is what is still owed,
    # {date} the day it was due (a label after "Due date:").
    return t.gettext("Your loan instalment of {amount} is not paid yet. Due date: {date}. "
                     "Please see your treasurer.",
                     amount=_money(lang, amount, currency), date=date)


# TRANSLATORS: an announcement from an NGO coordinator; {sender} is the organisation or name.
BROADCAST_FORMAT = N_("{sender}: {announcement}")


def broadcast_text(lang: str, sender: str, message: str) -> str:
    """A coordinator's announcement as a member reads it: who sends it, then the message."""
    return translator(lang).gettext(BROADCAST_FORMAT, sender=sender, announcement=message.strip())
