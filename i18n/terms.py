"""The glossary: one term per concept and language, and the check of a catalog against it.

The data lives in ``i18n/glossary/<lang>.toml`` (``en.toml`` lists the
concepts and how the English source names them; see its header for the
fields). :func:`check` reads a language's catalog and returns every place
where a translation strays from its glossary, each :class:`Problem` naming
the msgid, the language, the concept, the word found and the expected term,
so that a translator can fix the entry (or the glossary) directly.

Matching is deliberately simple and data-driven: a form matches where it
starts a word (the character before it is not a letter, mark or digit),
case-insensitively; inflection is handled by listing stems or inflected
forms in the glossary, never by code for one language.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

HERE = Path(__file__).resolve().parent
GLOSSARY_DIR = HERE / "glossary"
LOCALE_DIR = HERE / "locale"
POT = HERE / "messages.pot"
KEYWORD_CONTEXT = "sms keyword"
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class Concept:
    name: str
    source: tuple[re.Pattern[str], ...]
    command: str | None
    collides: str | None
    comment_says: str
    note: str


@dataclass(frozen=True)
class Entry:
    """One concept in one language."""

    term: str
    forms: tuple[str, ...]
    avoid: tuple[str, ...]
    avoid_anywhere: tuple[str, ...]
    avoid_patterns: tuple[re.Pattern[str], ...]
    keywords: tuple[str, ...] | None
    note: str


@dataclass(frozen=True)
class Problem:
    lang: str
    msgid: str
    concept: str
    kind: str  # "other word", "missing term", "keywords", "pattern", "no comment", "glossary"
    found: str
    expected: str
    text: str = ""

    def __str__(self) -> str:
        where = f"{self.lang}: msgid {self.msgid!r}" if self.msgid else f"{self.lang}: glossary"
        text = f"\n    translation: {self.text!r}" if self.text else ""
        return (f"{where}\n    concept {self.concept}: {self.kind}: found {self.found!r}, "
                f"expected {self.expected}{text}")


@cache
def concepts() -> dict[str, Concept]:
    data = tomllib.loads((GLOSSARY_DIR / "en.toml").read_text("utf-8"))
    return {name: Concept(name, tuple(re.compile(p, re.IGNORECASE) for p in c.get("source", [])),
                          c.get("command"), c.get("collides"), c.get("comment_says", ""), c.get("note", ""))
            for name, c in data.items()}


@cache
def glossary(lang: str) -> dict[str, Entry]:
    data = tomllib.loads((GLOSSARY_DIR / f"{lang}.toml").read_text("utf-8"))
    return {name: Entry(e.get("term", ""), tuple(e.get("forms", [e.get("term", "")] if e.get("term") else [])),
                        tuple(e.get("avoid", [])), tuple(e.get("avoid_anywhere", [])),
                        tuple(re.compile(p) for p in e.get("avoid_patterns", [])),
                        tuple(e["keywords"]) if "keywords" in e else None, e.get("note", ""))
            for name, e in data.items()}


def languages() -> list[str]:
    return sorted(p.stem for p in GLOSSARY_DIR.glob("*.toml") if p.stem != "en")


def _word_start(text: str, i: int) -> bool:
    return i == 0 or unicodedata.category(text[i - 1])[0] not in "LMN"


def fold(text: str) -> str:
    """``text`` for case-insensitive matching: "İclas" (Azerbaijani, Turkish) folds to "iclas"."""
    return text.casefold().replace("i\u0307", "i")


def find(text: str, word: str) -> list[tuple[int, int]]:
    """Spans in ``fold(text)`` where ``word`` starts a word (case-insensitive)."""
    hay, needle = fold(text), fold(word)
    spans, i = [], hay.find(needle)
    while i >= 0:
        if _word_start(hay, i):
            spans.append((i, i + len(needle)))
        i = hay.find(needle, i + 1)
    return spans


def _stray(text: str, words: Iterable[str], allowed: list[tuple[int, int]]) -> Iterator[str]:
    """Each of ``words`` found in ``text`` outside the ``allowed`` spans (the term itself)."""
    for word in words:
        for a, b in find(text, word):
            if not any(s <= a and b <= e for s, e in allowed):
                yield fold(text)[a:b]
                break


def mentions(concept: Concept, msgid: str) -> bool:
    bare = _PLACEHOLDER.sub(" ", msgid)
    return any(p.search(bare) for p in concept.source)


def _ids(m: Message) -> tuple[str, ...]:
    return tuple(m.id) if not isinstance(m.id, str) else (m.id,)


def _strings(m: Message) -> tuple[str, ...]:
    return tuple(s for s in (m.string if not isinstance(m.string, str) else (m.string,)) or () if s)


def read_catalog(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def _expected(entry: Entry) -> str:
    forms = [f for f in entry.forms if f != entry.term]
    return repr(entry.term) + (f" (or a form starting {', '.join(map(repr, forms))})" if forms else "")


def check_message(lang: str, msgid: str, translations: Iterable[str]) -> list[Problem]:
    """Everything wrong with one entry's translations in ``lang`` (not keyword entries)."""
    problems: list[Problem] = []
    terms = glossary(lang)
    for text in translations:
        bare = _PLACEHOLDER.sub(" ", text)
        for name, concept in concepts().items():
            entry = terms.get(name)
            if entry is None:
                continue
            allowed = [span for form in entry.forms for span in find(bare, form)]
            for word in _stray(bare, entry.avoid_anywhere, allowed):
                problems.append(Problem(lang, msgid, name, "other word", word, _expected(entry), text))
            for pattern in entry.avoid_patterns:
                if (hit := pattern.search(text)) is not None:
                    problems.append(Problem(lang, msgid, name, "pattern " + pattern.pattern, hit.group(0),
                                            entry.note or "see the glossary", text))
            if not mentions(concept, msgid):
                continue
            for word in _stray(bare, entry.avoid, allowed):
                problems.append(Problem(lang, msgid, name, "other word", word, _expected(entry), text))
            if entry.forms and not allowed:
                problems.append(Problem(lang, msgid, name, "missing term", "", _expected(entry), text))
    return problems


def _keywords_listed(catalog: Catalog, command: str) -> list[str]:
    m = catalog.get(command, context=KEYWORD_CONTEXT)
    return m.string.replace(",", " ").split() if m is not None and isinstance(m.string, str) and m.string else []


def check(lang: str, catalog: Catalog | None = None) -> list[Problem]:
    """Every place where ``lang``'s catalog strays from its glossary."""
    catalog = catalog or read_catalog(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", lang)
    terms = glossary(lang)
    problems: list[Problem] = []
    for name, concept in concepts().items():
        entry = terms.get(name)
        if name != "register" and (entry is None or not entry.term):
            problems.append(Problem(lang, "", name, "glossary", "nothing", f"a [{name}] table with a term"))
        if entry is not None and concept.command:
            listed = _keywords_listed(catalog, concept.command)
            if entry.keywords is None or {k.upper() for k in listed} != {k.upper() for k in entry.keywords}:
                problems.append(Problem(lang, concept.command, name, "keywords", " ".join(listed),
                                        f"the glossary's keywords {' '.join(entry.keywords or [])!r}"))
    for m in catalog:
        if not m.id or m.context == KEYWORD_CONTEXT:
            continue
        problems += check_message(lang, _ids(m)[0], _strings(m))
    return problems


def check_comments(template: Catalog | None = None) -> list[Problem]:
    """Every msgid using a concept that collides with something must carry a translator comment."""
    template = template or read_catalog(POT)
    problems = []
    for m in template:
        if not m.id or m.context == KEYWORD_CONTEXT:
            continue
        for name, concept in concepts().items():
            if concept.collides and any(mentions(concept, i) for i in _ids(m)) \
                    and concept.comment_says.casefold() not in " ".join(m.auto_comments).casefold():
                problems.append(Problem("en", _ids(m)[0], name, "no comment", " ".join(m.auto_comments),
                                        f"a '# TRANSLATORS:' comment saying {concept.comment_says!r} "
                                        f"(it collides with {concept.collides})"))
    return problems


# -- dates only after a label ----------------------------------------------------------------------

#: Placeholder names that stand for a whole date ("Tuesday 8 December"): ``{date}``, ``{day}``,
#: ``{old}``, ``{next}``, ``{when}``, ``{due}`` ... and any ``{…_on}`` / ``{…_date}``. Not ``{days}``
#: (a count) nor ``{weekday}`` (one word).
DATE_PLACEHOLDER = re.compile(r"^(date|day|old|next|when|due|since|until|on)$|_(on|date|day)$")
_FIELD = re.compile(r"\{(\w*)[^{}]*\}")
#: Where a sentence (or a line of a screen) ends: the text before a date is looked for after it.
_SENTENCE_END = re.compile(r"[.!?।…](?=\s|$)|\n")


def date_outside_labels(text: str) -> list[str]:
    """Each date placeholder in ``text`` that is not written right after a label ending in ':'.

    "Next meeting: {date}" and "Date: {day}. Next meeting: {next}, {time}." pass; "the meeting of
    {day} is cancelled", "{date} closed", "{amount}, {date}" do not: a whole date inside a sentence
    breaks it in most languages (case endings glued to the date, word order around it). Returns
    the offending placeholders with what comes before them in their sentence.
    """
    found = []
    for m in _FIELD.finditer(text):
        if not DATE_PLACEHOLDER.search(m.group(1)):
            continue
        ends = [e.end() for e in _SENTENCE_END.finditer(text, 0, m.start())]
        before = text[ends[-1] if ends else 0:m.start()].strip()
        if not before.endswith(":"):
            found.append(f"{before} {m.group(0)}".strip())
    return found


def check_dates(template: Catalog | None = None) -> list[Problem]:
    """Every msgid that puts a whole date inside a sentence instead of after a label."""
    template = template or read_catalog(POT)
    return [Problem("en", _ids(m)[0], "date", "date inside a sentence", hit, "a label before it: 'Date: {date}'")
            for m in template if m.id for i in _ids(m) for hit in date_outside_labels(i)]
