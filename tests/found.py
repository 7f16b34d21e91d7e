"""``found(pattern, text)``: ``re.search`` for what a test needs to be there (typed: never None)."""
from __future__ import annotations

import re


def found(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    match = re.search(pattern, text, flags)
    assert match is not None, f"{pattern!r} not in {text!r}"
    return match
