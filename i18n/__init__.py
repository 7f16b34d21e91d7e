"""Translations and locale-aware formatting, with the locale always passed in.

Nothing here sets a process-global locale: callers ask ``translator(lang)``
for a :class:`Translator` and use it for one person's words. Catalogs are the
``.po`` files under ``i18n/locale``; they are compiled in memory on first use,
so a fresh checkout needs no build step and a stale ``.mo`` cannot exist.
"""
from __future__ import annotations

import datetime as dt
import gettext as _gettext
import io
import re
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, get_currency_precision, get_currency_symbol, get_decimal_symbol

from text.gsm7 import is_gsm7

HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"
DOMAIN = "messages"

#: Shipped languages: code -> the language's own name (shown in settings menus).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "az": "Azərbaycanca",
    "ru": "Русский",
    "vi": "Tiếng Việt",
    "sv": "Svenska",
    "sw": "Kiswahili",
    "hi": "हिन्दी",
    "ml": "മലയാളം",
}
DEFAULT_LANGUAGE = "en"

#: How each language writes a day for people who read slowly: the weekday and
#: the month spelled out in full, or the date in digits where that is what
#: people read every day (Vietnam: 06/12). Never an abbreviation ("Dec").
DATE_FORMATS: dict[str, str] = {
    "en": "EEEE d MMMM",
    "az": "d MMMM, EEEE",
    "ru": "d MMMM, EEEE",
    "vi": "EEEE dd/MM",
    "sv": "EEEE d MMMM",
    "sw": "EEEE d MMMM",
    "hi": "EEEE, d MMMM",
    "ml": "d MMMM, EEEE",
}
#: The same in an SMS (a meeting reminder, a meeting moved or cancelled), where
#: every character counts (two segments at most) and the day is at most a few
#: weeks away, so no other day near it has the same name: the weekday and the day of the
#: month ("Sunday 20"), or the date in digits where the weekday's name is long
#: and people write dates that way every day (ru 20.12, sv and sw 20/12).
SMS_DATE_FORMATS: dict[str, str] = {
    "en": "EEEE d",
    "az": "EEEE, d",
    "ru": "dd.MM",
    "vi": "EEEE dd/MM",
    "sv": "d/M",
    "sw": "d/M",
    "hi": "EEEE d",
    "ml": "EEEE d",
}

_CODE_BEFORE = re.compile(r"\b([A-Z]{3})(?=[\d-])")  # "KES1,500" -> "KES 1,500"
_CODE_AFTER = re.compile(r"(\d)([A-Z]{3})\b")
_SPACES = {"\u00a0": " ", "\u202f": " ", "\u2009": " "}


def N_(message: str) -> str:
    """Mark a string for extraction where it is declared (menus, tables); translate later."""
    return message


def normalise_language(code: str | None) -> str:
    """A shipped language code for ``code`` (``az_AZ`` -> ``az``), else the default."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


@cache
def _catalog(lang: str) -> _gettext.NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return _gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


class Translator:
    """One language's words and formats. Cheap to get; cached per language."""

    def __init__(self, lang: str) -> None:
        self.lang = normalise_language(lang)
        self.locale = Locale.parse(self.lang)
        self._t = _catalog(self.lang)

    # -- words -------------------------------------------------------------
    def gettext(self, message: str, **params: object) -> str:
        text = self._t.gettext(message)
        return text.format(**params) if params else text

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text.format(n=n, **params)

    def pgettext(self, context: str, message: str, **params: object) -> str:
        text = self._t.pgettext(context, message)
        return text.format(**params) if params else text

    # -- formats -----------------------------------------------------------
    def money(self, minor: int, currency: str, plain: bool = False) -> str:
        """``minor`` units of ``currency`` as this language writes money; whole amounts drop ``.00``.

        ``plain`` writes the ISO code instead of a symbol GSM-7 lacks (``₼``, ``₫``).
        Remembered per language: a group's amounts repeat on every screen.
        """
        return _money(self, minor, currency, plain)

    def _format_money(self, minor: int, currency: str, plain: bool) -> str:
        digits = get_currency_precision(currency)
        value = Decimal(minor).scaleb(-digits)
        text = format_currency(value, currency, locale=self.locale,
                               format_type="standard")
        symbol = get_currency_symbol(currency, locale=self.locale)
        if plain and symbol != currency and not is_gsm7(symbol):
            text = text.replace(symbol, currency)
        text = _CODE_BEFORE.sub(r"\1 ", _CODE_AFTER.sub(r"\1 \2", text))
        if digits and minor % 10**digits == 0:
            sep = get_decimal_symbol(self.locale)
            text = text.replace(sep + "0" * digits, "")
        return _plain_spaces(text)

    def number(self, n: int) -> str:
        from babel.numbers import format_decimal

        return _plain_spaces(format_decimal(n, locale=self.locale))

    def date(self, day: dt.date, fmt: str | None = None) -> str:
        """``day`` as this language writes it for everyone (see :data:`DATE_FORMATS`)."""
        return _date(self, day, fmt or DATE_FORMATS.get(self.lang, "EEEE d MMMM"))

    def sms_date(self, day: dt.date) -> str:
        """``day`` in an SMS about a meeting (see :data:`SMS_DATE_FORMATS`)."""
        return _date(self, day, SMS_DATE_FORMATS.get(self.lang, "d MMMM"))

    def time(self, t: dt.time) -> str:
        """A clock time as people here count the hours.

        Swahili counts from sunrise (08:00 is "saa 2 asubuhi"), so the Swahili
        hour comes first and the clock time beside it: "saa 2 asubuhi (08:00)".
        """
        clock = _plain_spaces(format_time(t, "HH:mm", locale=self.locale))
        if self.lang == "sw":
            return f"{swahili_time(t)} ({clock})"
        return clock

    def weekday(self, weekday: int) -> str:
        """Name of ``weekday`` (Monday = 0) in this language."""
        return str(self.locale.days["format"]["wide"][weekday])


#: Swahili parts of the day by the 24-hour clock hour, as people say them with the hour.
_SW_PERIODS = (("usiku", range(0, 4)), ("alfajiri", range(4, 6)), ("asubuhi", range(6, 12)),
               ("mchana", range(12, 16)), ("jioni", range(16, 19)), ("usiku", range(19, 24)))


def swahili_time(t: dt.time) -> str:
    """``t`` in Swahili time: hours counted from 06:00 and 18:00 ("saa 1" is 07:00 and 19:00).

    Quarter and half hours are said as such ("na robo", "na nusu", "kasoro
    robo" = a quarter to the next hour); other minutes as "na dakika N".
    """
    hour, minute = t.hour, t.minute
    extra = ""
    if minute == 15:
        extra = " na robo"
    elif minute == 30:
        extra = " na nusu"
    elif minute == 45:
        hour, extra = (hour + 1) % 24, " kasoro robo"
    elif minute:
        extra = f" na dakika {minute}"
    number = (hour - 6) % 12 or 12
    period = next(name for name, hours in _SW_PERIODS if hour in hours)
    return f"saa {number}{extra} {period}"


@lru_cache(maxsize=16384)
def _money(t: Translator, minor: int, currency: str, plain: bool) -> str:
    return t._format_money(minor, currency, plain)


@lru_cache(maxsize=4096)
def _date(t: Translator, day: dt.date, fmt: str) -> str:
    return _plain_spaces(format_date(day, fmt, locale=t.locale))


def _plain_spaces(text: str) -> str:
    for k, v in _SPACES.items():
        text = text.replace(k, v)
    return text


@cache
def translator(lang: str | None) -> Translator:
    """The :class:`Translator` for ``lang`` (falls back to English)."""
    return Translator(normalise_language(lang))
