"""Fitting text on a USSD screen, and paging what does not fit.

Rule: a screen holds at most 160 units when every character is GSM-7 (an
extension character such as ``€`` counts two) and at most 80 UTF-16 units when
any character is not (Azerbaijani ə, Vietnamese, Malayalam force UCS-2). The
``CON ``/``END `` prefix is not counted. Longer content is split into pages at
line breaks (at spaces inside an over-long line); every page but the last ends
with the "more" line, and the last page keeps the screen's own footer.
Lengths are :func:`text.gsm7.measure`'s, the same count as an SMS's.
"""
from __future__ import annotations

from text.gsm7 import measure, units

GSM7_BUDGET = 160
UCS2_BUDGET = 80


def budget_for(text: str) -> int:
    """The screen budget for ``text``: 160 if all GSM-7, else 80."""
    return GSM7_BUDGET if measure(text)[0] else UCS2_BUDGET


def fits(text: str) -> bool:
    """True when ``text`` fits one screen."""
    return units(text) <= budget_for(text)


def paginate(lines: list[str], footer: list[str], more: str) -> list[str]:
    """Pages (each a screen's text) of ``lines`` followed by ``footer``.

    One page when it all fits; otherwise pages end with ``more`` and only the
    last carries ``footer``. The budget is chosen once, from all the text, so
    every page of one screen obeys the same limit.
    """
    whole = "\n".join(lines + footer)
    if fits(whole):
        return [whole]
    budget = budget_for(whole + more)
    pages: list[str] = []
    current: list[str] = []
    for line in _split_long(lines, budget - units(more) - 1):
        if current and units("\n".join(current + [line, more])) > budget:
            pages.append("\n".join(current + [more]))
            current = []
        current.append(line)
    tail = current + footer
    while units("\n".join(tail)) > budget and len(tail) > len(footer):
        pages.append("\n".join(tail[:1] + [more]))  # a page of its own for the first line
        tail = tail[1:]
    pages.append("\n".join(tail))
    return pages


def _split_long(lines: list[str], width: int) -> list[str]:
    """``lines`` with each line longer than ``width`` units cut at spaces (or anywhere)."""
    out: list[str] = []
    for line in lines:
        while units(line) > width:
            cut = _cut_point(line, width)
            out.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        out.append(line)
    return out


def _cut_point(line: str, width: int) -> int:
    """The longest prefix of ``line`` within ``width`` units, ending at a space if one exists."""
    end = 1
    while end < len(line) and units(line[: end + 1]) <= width:
        end += 1
    space = line.rfind(" ", 0, end + 1)
    return space if space > 0 else end


def clip(text: str) -> str:
    """``text`` cut to one screen (a final answer cannot be paged); ends with ``…`` if cut."""
    if fits(text):
        return text
    budget = budget_for(text + "…")
    end = len(text)
    while end > 0 and units(text[:end] + "…") > budget:
        end -= 1
    return text[:end].rstrip() + "…"
