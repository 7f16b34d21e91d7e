"""The SMS command grammar, as pure functions (no database, no Flask).

``KEYWORD ARGUMENTS``: the keyword is matched case-insensitively and without
accents (``yığım`` = ``YIGIM``) against a table of keywords and aliases. What
follows is read by the command's :class:`Grammar`:

- ``ITEMS``: ``WHO AMOUNT [WHO AMOUNT ...]``; ``ITEMS_REASON`` may end with
  free words (a fine's reason) and lets an amount be left out before them;
- ``REF`` / ``REF_REASON``: a loan or receipt reference (``L17``, ``R1042``);
- ``WORD`` (``LANG az``), ``WORD_TEXT`` (``BC GROUP message``), ``NONE``.

Forgiving: extra spaces, commas, ``;`` ``:`` ``=`` between items, and thousands
separators in amounts (a comma followed by exactly three digits, as in
``1,500``; a space inside an amount cannot be told from the next item and is
not accepted). Amounts become integer minor units of the group's currency.
"""
from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from ledger.money import AmountError, parse_amount
from text.plain import match_key


class Grammar(enum.Enum):
    NONE = "none"
    ITEMS = "items"
    ITEMS_REASON = "items_reason"
    REF = "ref"
    REF_REASON = "ref_reason"
    WORD = "word"
    WORD_TEXT = "word_text"


@dataclass(frozen=True)
class Keyword:
    command: str  # canonical keyword, e.g. "SAVE"
    grammar: Grammar


@dataclass(frozen=True)
class Item:
    index: int  # 1-based position in the SMS
    who: str  # a member's number in her group ("3") or a phone as typed
    amount: int | None  # minor units; None when left out (a fine by its type)
    text: str  # the item as typed, to name it in a reply


@dataclass(frozen=True)
class Parsed:
    command: str
    keyword: str  # as typed
    items: tuple[Item, ...] = ()
    ref: str | None = None
    word: str | None = None
    text: str = ""  # a reason or a message


@dataclass
class ParseError(Exception):
    """Why the SMS cannot be read. ``code`` picks the sentence; the rest fills it."""

    code: str  # empty, unknown_command, missing_items, missing_amount, bad_amount, bad_who, missing_ref, missing_word
    command: str = ""
    keyword: str = ""
    item: Item | None = None
    token: str = ""
    reason: str = ""  # AmountError.reason for bad_amount
    extra: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.command} {self.token}".strip()


_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SEPARATORS = re.compile(r"[,;:=]")
_WHO = re.compile(r"\A#?(\+?\d{1,15})\Z")
_REF = re.compile(r"\A#?([A-Za-z]{0,3}-?\d{1,12})\Z")
_HAS_DIGIT = re.compile(r"\d")


def _leading_word(text: str) -> tuple[str, str] | None:
    """(the first word, the rest): a letter, then letters, combining marks and joiners.

    Devanagari and Malayalam vowel signs (ा, ി) are marks, not letters, and
    Malayalam writes some words with a zero-width joiner: ``जमा`` is one word.
    """
    s = text.lstrip()
    end = 0
    while end < len(s) and (s[end].isalpha() or (
            end and (unicodedata.category(s[end])[0] == "M" or unicodedata.category(s[end]) == "Cf"))):
        end += 1
    return (s[:end], s[end:]) if end else None


def split_keyword(text: str, table: Mapping[str, Keyword]) -> tuple[Keyword, str, str]:
    """(the command's keyword entry, the keyword as typed, the rest of the text)."""
    split = _leading_word(unicodedata.normalize("NFC", text or ""))
    if split is None:
        word = (text or "").strip().split(" ")[0][:20]
        raise ParseError("empty" if not word else "unknown_command", token=word)
    typed, rest = split
    entry = table.get(match_key(typed))
    if entry is None:
        raise ParseError("unknown_command", token=typed[:20])
    return entry, typed, rest


def parse(text: str, table: Mapping[str, Keyword], currency: str | None = None) -> Parsed:
    """Read a whole SMS. ``currency`` turns amounts into minor units (needed for items)."""
    entry, typed, rest = split_keyword(text, table)
    return parse_arguments(entry, typed, rest, currency)


def parse_arguments(entry: Keyword, typed: str, rest: str, currency: str | None) -> Parsed:
    """Read what follows the keyword by the command's grammar."""
    reader = _READERS[entry.grammar]
    return reader(entry.command, typed, rest.strip(), currency)


def _none(command: str, typed: str, rest: str, currency: str | None) -> Parsed:
    return Parsed(command, typed, text=rest)


def _tokens(rest: str) -> list[str]:
    rest = _THOUSANDS_COMMA.sub("", rest)
    return _SEPARATORS.sub(" ", rest).split()


def _items(command: str, typed: str, rest: str, currency: str | None, reason_ok: bool = False) -> Parsed:
    tokens = _tokens(rest)
    items: list[Item] = []
    i = 0
    while i < len(tokens):
        if reason_ok and items and not _WHO.match(tokens[i]):
            break  # the rest is the reason
        who, amount_text = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else None
        item_text = who if amount_text is None else f"{who} {amount_text}"
        who_match = _WHO.match(who)
        if who_match is None:
            raise ParseError("bad_who", command, typed, Item(len(items) + 1, who, None, who), who)
        if reason_ok and (amount_text is None or not _HAS_DIGIT.search(amount_text)):
            items.append(Item(len(items) + 1, who_match.group(1), None, who))
            i += 1
            break  # "FINE 3 late": no amount, the reason names the fine
        if amount_text is None:
            raise ParseError("missing_amount", command, typed, Item(len(items) + 1, who, None, who), who)
        items.append(_item(command, typed, len(items) + 1, who, amount_text, item_text, currency))
        i += 2
    if not items:
        raise ParseError("missing_items", command, typed)
    return Parsed(command, typed, tuple(items), text=" ".join(tokens[i:]))


def _item(command: str, typed: str, index: int, who: str, amount_text: str, item_text: str,
          currency: str | None) -> Item:
    who_digits = _WHO.match(who).group(1)  # type: ignore[union-attr]
    if currency is None:
        return Item(index, who_digits, None, item_text)
    try:
        amount = parse_amount(amount_text, currency)
    except AmountError as exc:
        raise ParseError("bad_amount", command, typed, Item(index, who_digits, None, item_text),
                         amount_text, exc.reason) from None
    return Item(index, who_digits, amount, item_text)


def _items_reason(command: str, typed: str, rest: str, currency: str | None) -> Parsed:
    return _items(command, typed, rest, currency, reason_ok=True)


def _first_word(rest: str) -> tuple[str, str]:
    parts = rest.split(None, 1)
    first = parts[0].strip(".,;:") if parts else ""
    return first, parts[1].strip() if len(parts) > 1 else ""


def _ref(command: str, typed: str, rest: str, currency: str | None) -> Parsed:
    first, tail = _first_word(rest)
    m = _REF.match(first)
    if m is None:
        raise ParseError("missing_ref", command, typed, token=first[:20])
    return Parsed(command, typed, ref=m.group(1).replace("-", "").upper(), text=tail)


def _word(command: str, typed: str, rest: str, currency: str | None) -> Parsed:
    first, tail = _first_word(rest)
    if not first:
        raise ParseError("missing_word", command, typed)
    return Parsed(command, typed, word=first, text=tail)


_READERS = {
    Grammar.NONE: _none,
    Grammar.ITEMS: _items,
    Grammar.ITEMS_REASON: _items_reason,
    Grammar.REF: _ref,
    Grammar.REF_REASON: _ref,
    Grammar.WORD: _word,
    Grammar.WORD_TEXT: _word,
}
