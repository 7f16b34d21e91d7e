"""The catalogs: current against the code, complete, and faithful to their sources."""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from i18n import LANGUAGES, LOCALE_DIR, translator

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog, Message

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"N_": None, "_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
METHODS = [("tests/**", "ignore"), ("bench/**", "ignore"), (".venv/**", "ignore"), ("node_modules/**", "ignore"),
           ("**.py", "python"), ("console/templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def _ids_in_code() -> set[tuple[str, str | None]]:
    found: set[tuple[str, str | None]] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), METHODS, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)):
        msgid = message[0] if isinstance(message, tuple) else message
        found.add((msgid, context))
    return found


def _catalog(lang: str) -> Catalog:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def _entries(lang: str) -> list[Message]:
    return [m for m in _catalog(lang) if m.id]


CODE_IDS: set[tuple[str, str | None]] | None = None


def code_ids() -> set[tuple[str, str | None]]:
    global CODE_IDS
    if CODE_IDS is None:
        CODE_IDS = _ids_in_code()
    return CODE_IDS


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_catalog_is_current_with_the_code(lang: str) -> None:
    ids = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in _entries(lang)}
    missing = code_ids() - ids
    stale = ids - code_ids()
    assert not missing, f"{lang}: strings in the code but not in the catalog (run make i18n-update): {sorted(missing)[:5]}"
    assert not stale, f"{lang}: strings in the catalog no longer in the code: {sorted(stale)[:5]}"


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_no_empty_or_fuzzy_entries(lang: str) -> None:
    bad = [m.id for m in _entries(lang) if "fuzzy" in m.flags
           or not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert not bad, f"{lang}: empty or fuzzy: {bad[:5]}"


def _names(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_placeholders_match_the_source(lang: str) -> None:
    wrong = []
    for m in _entries(lang):
        ids = m.id if isinstance(m.id, (tuple, list)) else (m.id,)
        strings = m.string if isinstance(m.string, (tuple, list)) else (m.string,)
        expected: set[str] = set().union(*(_names(i) for i in ids))
        for s in strings:
            if s and _names(s) != expected and not (len(ids) > 1 and _names(s) <= expected):
                wrong.append((m.id, s))
    assert not wrong, f"{lang}: placeholders differ: {wrong[:3]}"


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_no_ussd_prefix_inside_a_translation(lang: str) -> None:
    for m in _entries(lang):
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert not any(isinstance(s, str) and s.startswith(("CON ", "END ")) for s in strings), m.id


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_translation_formats(lang: str) -> None:
    t = translator(lang)
    for m in _entries(lang):
        if isinstance(m.id, str) and not m.context:
            params = {name: "x" for name in _names(m.id) if name}
            t.gettext(m.id, **params)  # raises on a broken placeholder
