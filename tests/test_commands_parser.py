"""The SMS command parser: property tests (Hypothesis) and tables in English and Azerbaijani."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import commands  # noqa: F401  (registers the built-in commands)
from commands.parser import Grammar, ParseError, parse, split_keyword
from commands.registry import REGISTRY, aliases, keyword_table

PROPERTY = settings(max_examples=150, deadline=None)

TABLE = keyword_table(["en", "az"])
ITEM_COMMANDS = sorted(k for k, c in REGISTRY.items() if c.grammar == Grammar.ITEMS)


def major(minor: int, grouped: bool) -> str:
    """``minor`` KES cents as a person writes them: 1500, 1,500, 1500.50."""
    whole, cents = divmod(minor, 100)
    text = f"{whole:,}" if grouped else str(whole)
    return text + (f".{cents:02d}" if cents else "")


def spell(word: str, style: int) -> str:
    return [word.upper(), word.lower(), word.capitalize()][style]


items_strategy = st.lists(
    st.tuples(st.integers(1, 60), st.integers(1, 10**9), st.booleans(),
              st.sampled_from([" ", "  ", ":", "=", " = "])),
    min_size=1, max_size=25)


@PROPERTY
@given(command=st.sampled_from(ITEM_COMMANDS), language=st.sampled_from(["en", "az"]),
       style=st.integers(0, 2), items=items_strategy,
       between=st.sampled_from([" ", ", ", " , ", "; ", "\n", "   "]))
def test_any_well_formed_items_message_reads_back(
        command: str, language: str, style: int, items: list[tuple[int, int, bool, str]],
        between: str) -> None:
    keyword = aliases(REGISTRY[command], language)[-1]  # the language's own word when it has one
    text = spell(keyword, style) + " " + between.join(
        f"{who}{sep}{major(amount, grouped)}" for who, amount, grouped, sep in items)
    parsed = parse(text, TABLE, "KES")
    assert parsed.command == command
    assert [(i.who, i.amount) for i in parsed.items] == [(str(who), amount) for who, amount, _, _ in items]
    assert [i.index for i in parsed.items] == list(range(1, len(items) + 1))


@PROPERTY
@given(st.text(max_size=200))
def test_any_text_is_read_or_refused_with_a_reason(text: str) -> None:
    try:
        parsed = parse(text, TABLE, "KES")
    except ParseError as exc:
        assert exc.code in {"empty", "unknown_command", "missing_items", "missing_amount", "bad_amount",
                            "bad_who", "missing_ref", "missing_word"}
    else:
        assert parsed.command in REGISTRY
        assert all(i.amount is None or i.amount > 0 for i in parsed.items)


@PROPERTY
@given(items=items_strategy, bad=st.integers(0, 24), junk=st.sampled_from(["abc", "5x", "-3", "0", "1.234"]))
def test_one_bad_amount_is_named_by_its_position(
        items: list[tuple[int, int, bool, str]], bad: int, junk: str) -> None:
    bad = bad % len(items)
    parts = [f"{who} {major(amount, False)}" for who, amount, _, _ in items]
    parts[bad] = f"{items[bad][0]} {junk}"
    with pytest.raises(ParseError) as err:
        parse("SAVE " + " ".join(parts), TABLE, "KES")
    assert err.value.code == "bad_amount" and err.value.item is not None and err.value.item.index == bad + 1


# Every command, in English and in Azerbaijani (catalog aliases; accents optional).
CASES = [
    ("SAVE 3 500 4 1,500", "SAVE", [("3", 50000), ("4", 150000)], {}),
    ("yığım 3 500, 4 1500.50", "SAVE", [("3", 50000), ("4", 150050)], {}),
    ("YIGIM 3 500", "SAVE", [("3", 50000)], {}),
    ("qənaət +994501110003 5", "SAVE", [("+994501110003", 500)], {}),
    ("social 3 100", "SOCIAL", [("3", 10000)], {}),
    ("YARDIM 3 100; 4 100", "SOCIAL", [("3", 10000), ("4", 10000)], {}),
    ("FINE 3 50 late", "FINE", [("3", 5000)], {"text": "late"}),
    ("cərimə 3 gecikmə", "FINE", [("3", None)], {"text": "gecikmə"}),
    ("REPAY 3 1,000", "REPAY", [("3", 100000)], {}),
    ("qaytar 3 1000", "REPAY", [("3", 100000)], {}),
    ("ödə 3 200", "REPAY", [("3", 20000)], {}),
    ("DISBURSE L17", "DISBURSE", [], {"ref": "L17"}),
    ("ver l17", "DISBURSE", [], {"ref": "L17"}),
    ("UNDO R1042 wrong member", "UNDO", [], {"ref": "R1042", "text": "wrong member"}),
    ("ləğv r1042", "UNDO", [], {"ref": "R1042"}),
    ("CLOSE", "CLOSE", [], {}),
    ("bağla", "CLOSE", [], {}),
    ("APPROVE L17", "APPROVE", [], {"ref": "L17"}),
    ("təsdiq L17", "APPROVE", [], {"ref": "L17"}),
    ("DECLINE L17 not for business", "DECLINE", [], {"ref": "L17", "text": "not for business"}),
    ("rədd L17 biznes üçün deyil", "DECLINE", [], {"ref": "L17", "text": "biznes üçün deyil"}),
    ("BAL", "BAL", [], {}),
    ("qalıq", "BAL", [], {}),
    ("Balans", "BAL", [], {}),
    ("help", "HELP", [], {}),
    ("KÖMƏK", "HELP", [], {}),
    ("LANG az", "LANG", [], {"word": "az"}),
    ("dil en", "LANG", [], {"word": "en"}),
    ("STOP", "STOP", [], {}),
    ("dayan", "STOP", [], {}),
    ("START", "START", [], {}),
    ("başla", "START", [], {}),
    ("SHAREOUT", "SHAREOUT", [], {}),
    ("bölgü 4821", "SHAREOUT", [], {"text": "4821"}),
    ("HOLD", "HOLD", [], {}),
    ("saxla", "HOLD", [], {}),
    ("SOCIALPAY 3 20 funeral", "SOCIALPAY", [("3", 2000)], {"text": "funeral"}),
    ("yardımödə 3 20 dəfn", "SOCIALPAY", [("3", 2000)], {"text": "dəfn"}),
    ("ABSENT 4 7", "ABSENT", [], {"text": "4 7"}),
    ("qayıb 4, 7", "ABSENT", [], {"text": "4, 7"}),
    ("LEAVE 4", "LEAVE", [], {"text": "4"}),
    ("çıxış 4", "LEAVE", [], {"text": "4"}),
    ("MOVE 2026-12-08 14:00", "MOVE", [], {"word": "2026-12-08", "text": "14:00"}),
    ("köçür 8.12", "MOVE", [], {"word": "8.12"}),
    ("CANCEL", "CANCEL", [], {}),
    ("iptal 2026-12-08", "CANCEL", [], {"text": "2026-12-08"}),
    ("ROLE 4 treasurer", "ROLE", [], {"text": "4 treasurer"}),
    ("vəzifə 4 chair", "ROLE", [], {"text": "4 chair"}),
    ("ATT S12 3 4 7", "ATT", [], {"word": "S12", "text": "3 4 7"}),
    ("iştirak S12 +994501110001", "ATT", [], {"word": "S12", "text": "+994501110001"}),
    ("YES", "YES", [], {}),
    ("hə", "YES", [], {}),
    ("Bəli", "YES", [], {}),
    ("VISIT KAS1 met the chair", "VISIT", [], {"word": "KAS1", "text": "met the chair"}),
    ("ziyarət KAS1 dəftərlər qaydasındadır", "VISIT", [], {"word": "KAS1", "text": "dəftərlər qaydasındadır"}),
    ("APPROVE F12", "APPROVE", [], {"ref": "F12"}),
    ("RULE SAVING 600 4071", "RULE", [], {"text": "SAVING 600 4071"}),
    ("qayda fine late 200 4071", "RULE", [], {"text": "fine late 200 4071"}),
]


@pytest.mark.parametrize("text, command, items, fields", CASES)
def test_every_command_in_english_and_azerbaijani(
        text: str, command: str, items: list[tuple[str, int]], fields: dict[str, str]) -> None:
    parsed = parse(text, TABLE, "AZN")
    assert parsed.command == command
    assert [(i.who, i.amount) for i in parsed.items] == items
    for name, value in fields.items():
        assert getattr(parsed, name) == value


def test_every_registered_command_has_a_case_in_both_languages() -> None:
    covered = {command for _, command, _, _ in CASES}
    assert covered >= set(REGISTRY) - {"BC"}
    for command in REGISTRY.values():
        assert len(aliases(command, "az")) > 1, f"{command.keyword} has no Azerbaijani alias"


@pytest.mark.parametrize("text, code, index", [
    ("SAVE", "missing_items", None),
    ("SAVE 3", "missing_amount", 1),
    ("SAVE 3 500 4", "missing_amount", 2),
    ("SAVE 3 500 x 500", "bad_who", 2),
    ("SAVE 3 500 4 5.555", "bad_amount", 2),
    ("SAVE 3 0", "bad_amount", 1),
    ("UNDO", "missing_ref", None),
    ("UNDO please", "missing_ref", None),
    ("LANG", "missing_word", None),
    ("PAY 3 500", "unknown_command", None),
    ("   ", "empty", None),
])
def test_malformed_messages_say_what_is_wrong(text: str, code: str, index: int | None) -> None:
    with pytest.raises(ParseError) as err:
        parse(text, TABLE, "KES")
    assert err.value.code == code
    assert (err.value.item.index if err.value.item else None) == index


@pytest.mark.parametrize("text,english", [
    ("जमा 3 500", "SAVE"),  # a vowel sign (ा) is part of the word
    ("सहायता", "HELP"),
    ("बचत 3 500", "SAVE"),
    ("BACHAT 3 500", "SAVE"),
])
def test_hindi_keywords_with_vowel_signs_are_whole_words(text: str, english: str) -> None:
    entry, typed, _rest = split_keyword(text, keyword_table(["hi"]))
    assert entry.command == english and typed == text.split(" ")[0]
