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

from messaging.encoding import is_gsm7

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

    def date(self, day: dt.date, fmt: str = "EEEE d MMM") -> str:
        return _date(self, day, fmt)

    def time(self, t: dt.time) -> str:
        return _plain_spaces(format_time(t, "HH:mm", locale=self.locale))

    def weekday(self, weekday: int) -> str:
        """Name of ``weekday`` (Monday = 0) in this language."""
        return self.locale.days["format"]["wide"][weekday]


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
