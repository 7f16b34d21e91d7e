"""A sample of everything Kassa says, in every language, for translators to review.

``render(langs)`` returns plain text: per language, the date, time and money
formats; every kind of SMS as the code composes it (meeting reminders for a
self-help group and a VSLA, loan notices, an announcement); the USSD home menu
of a member, a treasurer and a chair as one screen; then every catalog entry
filled with long names, a long group name and large amounts. Each text is
measured: SMS encoding and segments, and whether it fits one USSD screen, so a
translator sees at once where a translation is too long. ``flask i18n sample``
writes it to a file.
"""
from __future__ import annotations

import datetime as dt
import re

from babel.messages.catalog import Message

from i18n import LANGUAGES, LOCALE_DIR, Translator, translator
from i18n.terms import KEYWORD_CONTEXT, read_catalog

#: Per language: a long name, a long group name, a meeting place, a currency.
PEOPLE: dict[str, tuple[str, str, str, str]] = {
    "en": ("Faith Njeri Wambui Kamau", "Upendo Women Savings Group Kondele Ward", "Kondele church hall", "KES"),
    "az": ("Gülbəniz Qənbərova Məmmədqızı", "Özünə Dəstək Qrupu Bərdə İcma Resurs Mərkəzi", "İcma resurs mərkəzi",
           "AZN"),
    "ru": ("Александра Константиновна Воскресенская", "Группа взаимопомощи «Рассвет» села Верхние Лужки",
           "Дом культуры", "RUB"),
    "vi": ("Nguyễn Thị Thanh Hương Giang", "Nhóm tiết kiệm và vốn vay thôn Bản Phố xã Tân Lập",
           "Nhà văn hóa thôn Bản Phố", "VND"),
    "sv": ("Anna-Karin Johansson Lindqvist", "Självhjälpsgruppen Framtiden i Övre Norrland", "Bygdegården",
           "SEK"),
    "sw": ("Mwanaisha Abdallah Mwakalinga", "Kikundi cha Akiba na Mikopo Upendo Kijiji cha Mwembeni",
           "Ofisi ya kijiji", "TZS"),
    "hi": ("राजकुमारी देवी विश्वकर्मा", "माँ दुर्गा स्वयं सहायता समूह ग्राम पंचायत रामपुर", "आँगनवाड़ी केंद्र", "INR"),
    "ml": ("ശ്രീലക്ഷ്മി രാധാകൃഷ്ണൻ നായർ", "ശ്രീ ഭദ്ര സ്വയം സഹായ സംഘം പുത്തൻകുരിശ്", "പഞ്ചായത്ത് ഹാൾ", "INR"),
}
DAY = dt.date(2026, 12, 20)
TIME = dt.time(8, 0)
_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
_MONEY = {"amount", "balance", "total", "cost", "cash", "outstanding", "limit", "expected", "share_value",
          "value", "savings", "each", "kept", "paid_in", "paid_out", "profit", "social"}


def _big(currency: str) -> int:
    """A large amount in minor units: 12,345,678 VND; 123,456.50 where there are cents."""
    from ledger.money import minor_digits

    return 12_345_678 if minor_digits(currency) == 0 else 12_345_650


def values(t: Translator) -> dict[str, object]:
    """A realistic, long value for every placeholder name the catalogs use."""
    from ledger.money import amount_example

    name, group, place, currency = PEOPLE.get(t.lang, PEOPLE["en"])
    money = t.money(_big(currency), currency)
    v: dict[str, object] = {k: money for k in _MONEY}
    v.update(
        name=name, chair=name, group=group, place=place, date=t.date(DAY), day=t.date(DAY), time=t.time(TIME),
        ref="R1042", original="R1042", new="R1043", loan="L17", n=5, count=25, paid=18, low=1, high=5, shares=7,
        tries=2, number=12, who=12, index=3, first=1, segments=2,
        term=t.ngettext("{n} month", "{n} months", 12), service=t.gettext("Legal aid"),
        status=t.gettext("approved, not yet paid out"), purpose=t.gettext("Shop or trading"),
        command="SAVE", word="BLAH", token="12,5", text="12,5", start="SAVE 3 1,250,000 4…",
        role=t.gettext("the treasurer"), problem=t.gettext("the amount is missing"), known="late, absent",
        fine_type="sick", item="3 1,250,000", examples="SAVE 3 500 4 500; BAL; STOP", language=LANGUAGES[t.lang],
        codes=" ".join(LANGUAGES), phone="+84912300001", region="Lào Cai", reason="Not enough savings yet.",
        sender="Hội Liên hiệp Phụ nữ", announcement="Training on Friday at 10.", code="*384*12#",
        example=amount_example(currency), items=t.gettext("savings {amount}", amount=money),
        # the console, the dashboard and the group cycle (share-out, MOVE/CANCEL, attendance):
        added=23, bad=2, good=21, skipped=1, came=18, line=7, page=2, pages=4, days=14, percent=2, currency=currency,
        columns="phone, name, number, role", file="members.xlsx", numbers="3 7 12", typed="4821",
        old=t.date(DAY), next=t.date(DAY + dt.timedelta(days=7)), weekday=t.date(DAY, "EEEE"),
        timezone="Asia/Ho_Chi_Minh",
        # the broadcast composer's text preview:
        encoding="UCS2", saved=2, saving=money,
        # places, organisations and projects:
        country="XV", found="country, province", groups=12, members=240, metric="people_trained", rows=1480,
        # field staff, visit plans and referrals (field/):
        lender="Vietnam Bank for Social Policies", branch="Văn Chấn, 12 Nguyễn Thái Học", team="Legal aid",
        condition=t.gettext("No condition"),
        # the chair's rules (RULE, Group rules):
        most=30, rules="SAVING, SHARE, INTEREST, LIMIT, FINE, PIN, EXPIRY, LOANS, KEEP",
        rule=t.gettext("Loan service charge per month"), before=money, after=money,
        add="RULE FINE late 200 4071", named="RULE FINE late 200 Kuchelewa 4071", off="RULE FINE late OFF 4071",
        # programmes (trainings, grants, businesses):
        session=1042, course="SIYB: Start Your Business", already=2, completed=3, names="Faith Njeri, Esther Mutua",
        programme="Hand in Hand Kisumu", trade="Tailoring and sewing", category="displaced",
    )
    return v


#: Where the code fills a placeholder differently from everywhere else (the coordinator's
#: support SMS names the group by its short code, as the CLI and BC do).
OVERRIDES: dict[str, dict[str, object]] = {
    "Kassa support {ref}: {service} for {name} ({phone}), group {group}.": {"group": "TANLAP"},
}
#: Where the code writes a date shorter than on screens: as in an SMS ("sms": Translator.sms_date)
#: or in another format (the meeting's summary: "20 December").
DATES: dict[str, str] = {
    "{group}: meeting moved. Old date: {old}. New date: {day}, {time}.": "sms",
    "MOVE: meeting moved. Old date: {old}. New date: {day}, {time}. Every member gets an SMS.": "sms",
    "{group}: meeting cancelled. Date: {day}. Next meeting: {next}, {time}.": "sms",
    "CANCEL: meeting cancelled. Date: {day}. Next meeting: {next}, {time}. Every member gets an SMS.": "sms",
    "Meeting closed. Date: {date}. {came} of {count} came. In {paid_in}, out {paid_out}. Cash box {cash}.": "d MMMM",
}


def overrides(t: Translator, msgid: str) -> dict[str, object]:
    """The values the code really fills ``msgid`` with, where they differ from :func:`values`."""
    fmt = DATES.get(msgid)
    if fmt is None:
        return OVERRIDES.get(msgid, {})
    write = t.sms_date if fmt == "sms" else (lambda day: t.date(day, fmt))
    return {"date": write(DAY), "day": write(DAY), "old": write(DAY), "next": write(DAY + dt.timedelta(days=7))}


def measure(text: str, sms: bool = True, screen: bool = True) -> str:
    """``[SMS ucs2 2 seg 128u | screen 70/80]``: as an SMS (budget 2 segments) and on a USSD screen.

    A screen holds 160 GSM-7 characters or 80 others; a longer one is split
    into pages ("more"), which is allowed but slower for her to read.
    """
    from text.gsm7 import shape, units
    from text.screen import budget_for

    parts = []
    if sms:
        s = shape(text)
        parts.append(f"SMS {s.encoding} {s.segments} seg {s.units}u" + (" OVER 2 SEGMENTS" if s.segments > 2 else ""))
    if screen:
        parts.append(f"screen {units(text)}/{budget_for(text)}" + (" (pages)" if units(text) > budget_for(text) else ""))
    return "[" + " | ".join(parts) + "]"


def _composed(t: Translator) -> list[tuple[str, str]]:
    from outreach.texts import MeetingFacts, broadcast_text, loan_due_notice, meeting_reminder, overdue_notice

    name, group, place, currency = PEOPLE.get(t.lang, PEOPLE["en"])
    big = _big(currency)
    # a large weekly saving (2,469,135 VND: about what the biggest groups save), a larger instalment
    shg = MeetingFacts(group, DAY, TIME, place, currency, saving=big // 5, social=big // 250)
    vsla = MeetingFacts(group, DAY, dt.time(19, 45), "", currency, share_value=big // 10, shares_min=1, shares_max=5,
                        social=big // 50)
    lang = t.lang
    return [
        ("meeting reminder (self-help group, with a loan instalment)", meeting_reminder(lang, shg, loan=big // 4)),
        ("meeting reminder (VSLA, no place, 19:45)", meeting_reminder(lang, vsla)),
        ("loan instalment due tomorrow", loan_due_notice(lang, amount=big // 4, currency=currency, due_on=DAY)),
        ("loan instalment overdue", overdue_notice(lang, amount=big // 4, currency=currency, due_on=DAY)),
        ("announcement", broadcast_text(lang, "Hội Liên hiệp Phụ nữ", "Training on Friday at 10.")),
    ]


def _home_menus(t: Translator) -> list[tuple[str, str]]:
    from menus.home import HOME_ITEMS

    screens = []
    for role, extra in (("member", ()), ("treasurer", ("treasurer_today",)),
                        ("chair", ("chair_loans", "chair_reset"))):
        shown = [i for i in HOME_ITEMS if i.when is None or i.target in extra]
        screens.append((f"home menu, {role}",
                        "\n".join(f"{k}. {t.gettext(i.label)}" for k, i in enumerate(shown, 1))))
    return screens


def _entry(t: Translator, m: Message, params: dict[str, object]) -> list[str]:
    ids = tuple(m.id) if not isinstance(m.id, str) else (m.id,)
    lines = [f"msgid: {ids[0]}"]
    if m.context == KEYWORD_CONTEXT:
        return lines + [f"  keywords: {t.pgettext(KEYWORD_CONTEXT, ids[0])}"]
    if len(ids) > 1:
        for n in (1, 5):
            text = t.ngettext(ids[0], ids[1], n, **{k: v for k, v in params.items() if k != "n"})
            lines.append(f"  n={n}: {text}  {measure(text)}")
        return lines
    text = t.gettext(ids[0], **(params | overrides(t, ids[0])))
    return lines + [f"  {text}  {measure(text)}"]


def render(langs: list[str] | None = None) -> str:
    """The whole sample as text (every language unless ``langs`` is given)."""
    out: list[str] = []
    for lang in langs or list(LANGUAGES):
        t = translator(lang)
        params = values(t)
        name, group, place, currency = PEOPLE.get(lang, PEOPLE["en"])
        out += [f"===== {lang} {LANGUAGES[lang]} =====", "",
                "-- formats",
                f"  date on screens: {t.date(DAY)}; in an SMS: {t.sms_date(DAY)}",
                f"  time: {t.time(TIME)}, {t.time(dt.time(14, 30))}, {t.time(dt.time(19, 45))}",
                f"  money: {t.money(_big(currency), currency)} ({currency}); {t.money(_big('VND'), 'VND')} (VND)",
                "", "-- every kind of SMS, as composed"]
        for title, text in _composed(t):
            out += [f"{title}:", f"  {text}  {measure(text, screen=False)}"]
        out += ["", "-- USSD home menu (one screen each)"]
        for title, text in _home_menus(t):
            out += [f"{title}:  {measure(text, sms=False)}"] + [f"  {line}" for line in text.splitlines()]
        out += ["", "-- every catalog entry, with long names and large amounts"]
        catalog = read_catalog(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", lang)
        for m in catalog:
            if m.id:
                out += _entry(t, m, params)
        out.append("")
    return "\n".join(out)
