"""Merge translations from several .po files of one language into a target catalog.

Used when two branches each added strings: every msgid of the target keeps its
translation if it has one, else takes the first non-empty translation found in
the sources. ``python tools/po_merge.py TARGET.po SOURCE.po [SOURCE.po ...]``
"""
from __future__ import annotations

import sys

from babel.messages.catalog import Message
from babel.messages.pofile import read_po, write_po


def _key(message: Message) -> tuple[object, str | None]:
    return (message.id, message.context)


def merge(target: str, sources: list[str]) -> int:
    with open(target, "rb") as fh:
        catalog = read_po(fh)
    known: dict[tuple[object, str | None], str | tuple[str, ...] | list[str]] = {}
    for path in sources:
        with open(path, "rb") as fh:
            for m in read_po(fh):
                if m.id and m.string and (not isinstance(m.string, tuple) or all(m.string)):
                    known.setdefault(_key(m), m.string)
    filled = 0
    for m in catalog:
        if m.id and not (m.string if not isinstance(m.string, tuple) else all(m.string)):
            if _key(m) in known:
                m.string = known[_key(m)]
                m.flags.discard("fuzzy")
                filled += 1
    with open(target, "wb") as fh:
        write_po(fh, catalog, no_location=True, sort_output=True)
    return filled


if __name__ == "__main__":
    print(f"filled {merge(sys.argv[1], sys.argv[2:])} entries")
