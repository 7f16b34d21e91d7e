"""Every catalog against its glossary (i18n/glossary/<lang>.toml).

A failure names the language, the msgid, the concept, the word found and the
term expected: fix the translation, or, if the glossary is what is wrong,
the glossary entry (forms lists the stems and inflected forms that count).
"""
from __future__ import annotations

import pytest

from i18n import LANGUAGES
from i18n import terms as glossary
from i18n.terms import Problem, check, check_comments, check_message, concepts, find
from i18n.terms import glossary as entries

TRANSLATED = sorted(set(LANGUAGES) - {"en"})


def _report(problems: list[Problem]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(str(p) for p in problems)


def test_every_language_has_a_glossary():
    assert glossary.languages() == TRANSLATED


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_follows_its_glossary(lang):
    problems = check(lang)
    assert not problems, _report(problems)


def test_concepts_that_collide_carry_translator_comments():
    problems = check_comments()
    assert not problems, _report(problems)


# -- the checker itself: each rule fires on a wrong translation ------------------------------------

def test_a_forbidden_word_is_found():
    problems = check_message("ru", "Social fund: {amount}", ["Соцфонд: {amount}"])
    assert any(p.concept == "social_fund" and p.kind == "other word" and p.found == "соцфонд"
               for p in problems), problems
    text = str(problems[0])
    assert "ru" in text and "Social fund: {amount}" in text and "фонд взаимопомощи" in text


def test_a_missing_term_is_found_and_inflected_forms_count():
    assert any(p.kind == "missing term" and p.concept == "cash_box"
               for p in check_message("sv", "Cash box: {amount}", ["Lådan: {amount}"]))
    assert not check_message("ru", "The social fund holds only {balance}, not {amount}.",
                             ["В фонде взаимопомощи только {balance}, а не {amount}."])


def test_a_word_inside_the_term_is_not_forbidden():
    assert not [p for p in check_message("hi", "Share-out", ["बचत का बँटवारा"]) if p.concept == "share_out"]
    assert [p for p in check_message("hi", "Share-out", ["बँटवारा"]) if p.concept == "share_out"]


def test_a_word_must_start_a_word_to_count():
    assert find("कोषाध्यक्ष", "अध्यक्ष") == []  # the chair is not inside the treasurer
    assert find("Kassan har", "kassan") == [(0, 6)]


def test_register_patterns():
    assert any(p.kind.startswith("pattern") for p in check_message("ru", "x", ["Kassa: Ваш PIN сброшен."]))
    assert not [p for p in check_message("ru", "x", ["Вы можете. Ваш PIN."]) if p.kind.startswith("pattern")]
    assert any(p.kind.startswith("pattern") for p in check_message("sw", "x", ["Mkutano saa {time}."]))


def test_every_concept_has_a_source_and_a_note():
    for name, concept in concepts().items():
        assert concept.note, name
        assert concept.source or name == "register", name
    for lang in TRANSLATED:
        assert set(entries(lang)) <= set(concepts()), lang


@pytest.mark.parametrize("lang", TRANSLATED)
def test_glossary_keywords_are_what_the_command_registry_accepts(lang):
    """Each concept's keywords are exactly the aliases the SMS command registry takes in that language."""
    import commands.builtin  # noqa: F401  (registers the commands)
    import commands.meeting  # noqa: F401
    from commands.parser import match_key
    from commands.registry import REGISTRY, aliases

    for name, concept in concepts().items():
        if not concept.command:
            continue
        entry = entries(lang)[name]
        expected = {match_key(concept.command)} | {match_key(k) for k in entry.keywords or ()}
        got = set(aliases(REGISTRY[concept.command], lang))
        assert got == expected, f"{lang} {concept.command} ({name}): registry takes {sorted(got)}, glossary says {sorted(expected)}"
