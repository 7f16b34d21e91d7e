"""Dates and times as each language reads them: Swahili time, no abbreviated months."""
from __future__ import annotations

import datetime as dt

import pytest

from i18n import DATE_FORMATS, LANGUAGES, SMS_DATE_FORMATS, swahili_time, translator


@pytest.mark.parametrize(("clock", "swahili"), [
    ((7, 0), "saa 1 asubuhi"),
    ((8, 0), "saa 2 asubuhi"),
    ((12, 0), "saa 6 mchana"),
    ((14, 30), "saa 8 na nusu mchana"),
    ((16, 15), "saa 10 na robo jioni"),
    ((18, 0), "saa 12 jioni"),
    ((19, 0), "saa 1 usiku"),
    ((6, 45), "saa 1 kasoro robo asubuhi"),
    ((0, 0), "saa 6 usiku"),
    ((5, 10), "saa 11 na dakika 10 alfajiri"),
])
def test_swahili_time_counts_from_sunrise(clock: tuple[int, int], swahili: str) -> None:
    assert swahili_time(dt.time(*clock)) == swahili


def test_swahili_time_has_the_clock_beside_it_and_other_languages_the_clock() -> None:
    assert translator("sw").time(dt.time(8, 0)) == "saa 2 asubuhi (08:00)"  # never "saa 08:00" (2 pm)
    for lang in set(LANGUAGES) - {"sw"}:
        assert translator(lang).time(dt.time(8, 0)) == "08:00", lang


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_dates_spell_the_month_in_full_or_write_it_in_digits(lang: str) -> None:
    t = translator(lang)
    day = dt.date(2026, 12, 20)
    wide = t.locale.months["format"]["wide"][12]
    short = t.locale.months["format"]["abbreviated"][12]
    for fmt, text in ((DATE_FORMATS[lang], t.date(day)), (SMS_DATE_FORMATS[lang], t.sms_date(day))):
        assert "MMM" not in fmt.replace("MMMM", ""), (lang, fmt)  # never an abbreviated month
        assert wide in text or "12" in text or "MMMM" not in fmt and "MM" not in fmt, (lang, text)
        assert short == wide or short not in text.replace(wide, ""), (lang, text)
        assert "20" in text, (lang, text)
    assert t.weekday(6) in t.date(day), lang  # screens name the weekday


def test_amount_example_per_currency_is_digits_only() -> None:
    from ledger.money import amount_example, parse_amount

    assert amount_example("VND") == "50000" and amount_example("KES") == "500"
    for currency in ("VND", "KES", "AZN", "RUB", "SEK", "TZS", "INR", "XYZ"):
        example = amount_example(currency)
        assert example.isdigit(), currency  # no "." or "," to read differently per locale
        parse_amount(example, currency if currency != "XYZ" else "KES")  # what we show is what we accept
