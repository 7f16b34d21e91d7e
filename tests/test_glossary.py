"""Every catalog against its glossary (i18n/glossary/<lang>.toml).

A failure names the language, the msgid, the concept, the word found and the
term expected: fix the translation, or, if the glossary is what is wrong,
the glossary entry (forms lists the stems and inflected forms that count).
"""
from __future__ import annotations

import pytest

from i18n import LANGUAGES
from i18n import terms as glossary
from i18n.terms import (
    Problem,
    check,
    check_comments,
    check_dates,
    check_message,
    concepts,
    date_outside_labels,
    find,
)
from i18n.terms import glossary as entries

TRANSLATED = sorted(set(LANGUAGES) - {"en"})


def _report(problems: list[Problem]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(str(p) for p in problems)


def test_every_language_has_a_glossary() -> None:
    assert glossary.languages() == TRANSLATED


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_follows_its_glossary(lang: str) -> None:
    problems = check(lang)
    assert not problems, _report(problems)


def test_concepts_that_collide_carry_translator_comments() -> None:
    problems = check_comments()
    assert not problems, _report(problems)


# -- the checker itself: each rule fires on a wrong translation ------------------------------------

def test_a_forbidden_word_is_found() -> None:
    problems = check_message("ru", "Social fund: {amount}", ["Соцфонд: {amount}"])
    assert any(p.concept == "social_fund" and p.kind == "other word" and p.found == "соцфонд"
               for p in problems), problems
    text = str(problems[0])
    assert "ru" in text and "Social fund: {amount}" in text and "фонд взаимопомощи" in text


def test_a_missing_term_is_found_and_inflected_forms_count() -> None:
    assert any(p.kind == "missing term" and p.concept == "cash_box"
               for p in check_message("sv", "Cash box: {amount}", ["Lådan: {amount}"]))
    assert not check_message("ru", "The social fund holds only {balance}, not {amount}.",
                             ["В фонде взаимопомощи только {balance}, а не {amount}."])


def test_a_word_inside_the_term_is_not_forbidden() -> None:
    assert not [p for p in check_message("hi", "Share-out", ["बचत का बँटवारा"]) if p.concept == "share_out"]
    assert [p for p in check_message("hi", "Share-out", ["बँटवारा"]) if p.concept == "share_out"]


def test_a_word_must_start_a_word_to_count() -> None:
    assert find("कोषाध्यक्ष", "अध्यक्ष") == []  # the chair is not inside the treasurer
    assert find("Kassan har", "kassan") == [(0, 6)]


def test_register_patterns() -> None:
    assert any(p.kind.startswith("pattern") for p in check_message("ru", "x", ["Kassa: Ваш PIN сброшен."]))
    assert not [p for p in check_message("ru", "x", ["Вы можете. Ваш PIN."]) if p.kind.startswith("pattern")]
    assert any(p.kind.startswith("pattern") for p in check_message("sw", "x", ["Mkutano saa {time}."]))


def test_every_concept_has_a_source_and_a_note() -> None:
    for name, concept in concepts().items():
        assert concept.note, name
        assert concept.source or name == "register", name
    for lang in TRANSLATED:
        assert set(entries(lang)) <= set(concepts()), lang


@pytest.mark.parametrize("lang", TRANSLATED)
def test_glossary_keywords_are_what_the_command_registry_accepts(lang: str) -> None:
    """Each concept's keywords are exactly the aliases the SMS command registry takes in that language."""
    import commands.builtin  # noqa: F401  (registers the commands)
    import commands.meeting  # noqa: F401
    from commands.registry import REGISTRY, aliases
    from text.plain import match_key

    for name, concept in concepts().items():
        if not concept.command:
            continue
        entry = entries(lang)[name]
        expected = {match_key(concept.command)} | {match_key(k) for k in entry.keywords or ()}
        got = set(aliases(REGISTRY[concept.command], lang))
        assert got == expected, f"{lang} {concept.command} ({name}): registry takes {sorted(got)}, glossary says {sorted(expected)}"


# -- dates only after a label (never a whole date inside a sentence) -------------------------------

def test_no_source_string_puts_a_date_inside_a_sentence() -> None:
    problems = check_dates()
    assert not problems, _report(problems)


#: Source strings Kassa had before the rule, each with the date placeholder that breaks its sentence.
BROKEN = [
    ("{group}: the meeting of {day} is cancelled. Next meeting: {next} at {time}.", "{day}"),
    ("MOVE: the meeting of {old} is moved to {day} at {time}. Every member gets an SMS.", "{old}"),
    ("{command}: there is no meeting on {date}.", "{date}"),
    ("Meeting of {date} closed, {came} of {count} came.", "{date}"),
    ("Cycle {n}: open since {date}", "{date}"),
    ("Figures as of {date}, updated as the treasurers' postings arrive.", "{date}"),
    ("First instalment: {amount}, {date}", "{date}"),  # after a value, not after the label
    ("{date} closed.", "{date}"),  # a date starting a sentence is inside it too
    ("Paid. Due on {due_on}.", "{due_on}"),
    ("Next meeting: {next}. Moved to {day}.", "{day}"),  # the label of an earlier sentence does not count
]


@pytest.mark.parametrize("msgid, placeholder", BROKEN)
def test_a_date_inside_a_sentence_is_found(msgid: str, placeholder: str) -> None:
    hits = date_outside_labels(msgid)
    assert hits and any(h.endswith(placeholder) for h in hits), hits


@pytest.mark.parametrize("msgid", [
    "{group}: meeting cancelled. Date: {day}. Next meeting: {next}, {time}.",
    "MOVE: meeting moved. Old date: {old}. New date: {day}, {time}. Every member gets an SMS.",
    "Meeting: {date}, {time}, {place}.",
    "Due date: {date}",
    "Cycle {n}: closed. Share-out date: {date}",
    "Line one\nDate: {date}",
    "{weekday} at {time}, every week",  # a weekday is one word, not a whole date
    "{command}: a meeting can move at most {days} days from its usual day.",  # a count of days
])
def test_a_date_after_a_label_passes(msgid: str) -> None:
    assert date_outside_labels(msgid) == []


def test_check_dates_reads_every_msgid_of_a_template_plurals_too() -> None:
    from babel.messages.catalog import Catalog

    template = Catalog()
    template.add("Next meeting: {date}")
    template.add("Meeting of {date} closed.")
    template.add(("{n} meeting on {date}", "{n} meetings from: {date}"))
    problems = check_dates(template)
    assert [(p.msgid, p.found) for p in problems] == [("Meeting of {date} closed.", "Meeting of {date}"),
                                                      ("{n} meeting on {date}", "{n} meeting on {date}")]
    assert "Date: {date}" in str(problems[0])
