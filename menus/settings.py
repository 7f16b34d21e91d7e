"""Settings: her language, her PIN."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from i18n import LANGUAGES, LOCALE_DIR, N_
from menus.engine import HOME, Choice, Ctx, Go, Item, Move, Say, Screen


@lru_cache(maxsize=1)
def available_languages() -> tuple[str, ...]:
    """Shipped languages that have a catalog (English always: it is the source)."""
    return tuple(c for c in LANGUAGES
                 if c == "en" or (LOCALE_DIR / c / "LC_MESSAGES" / "messages.po").exists())


def _languages(ctx: Ctx) -> list[Choice]:
    codes = [c for c in LANGUAGES if c in available_languages() or c == ctx.t.lang]
    return [Choice(LANGUAGES[c], c) for c in codes]


def _set_language(ctx: Ctx, code: Any) -> Move:
    ctx.member.language = str(code)
    ctx.db.flush()
    if ctx.state.who is not None:
        ctx.state.who.lang = str(code)
        ctx.state.who_changed = True
    return Go(HOME, Say(N_("Language saved.")))


SCREENS = [
    Screen("settings", items=(Item(N_("Language"), "language"), Item(N_("Change PIN"), "pin_old"))),
    Screen("language", choices=_languages, chosen=_set_language),
]
