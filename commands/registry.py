"""The command registry: each SMS command declared as data, so another part can add one.

A :class:`Command` names its keyword (the English word printed on the
treasurer's card), its argument :class:`~commands.parser.Grammar`, who may
send it and the function that runs it. Each language may add aliases: the
catalog entry with context ``sms keyword`` for the keyword lists them,
separated by spaces (``YIĞIM`` for ``SAVE`` in Azerbaijani). The English
keyword always works.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from commands.parser import Grammar, Keyword
from i18n import translator
from text.plain import match_key

if TYPE_CHECKING:
    from commands.context import Context, Outcome
    from commands.parser import Parsed

KEYWORD_CONTEXT = "sms keyword"
ANYONE = "anyone"  # any registered member or coordinator
COORDINATOR = "coordinator"
FIELD = "field"  # a field worker (orgs.models.FieldWorker): mobiliser, trainer, coach ...


def pgettext(context: str, message: str) -> str:
    """Extraction marker for a keyword declared as data; returns the English keyword."""
    return message


@dataclass(frozen=True)
class Command:
    keyword: str  # canonical, upper case: "SAVE"
    grammar: Grammar
    roles: frozenset[str]  # Role values ("treasurer", "chair" ...), COORDINATOR or ANYONE
    run: Callable[[Context, Parsed], Outcome]
    usage: str  # N_() msgid: one HELP line, e.g. "SAVE number amount ..."
    # The roles whose HELP card and refusals name it, when narrower than ``roles`` (APPROVE:
    # the chair; a secretary, treasurer or coordinator may send it only in a stand-in case).
    card: frozenset[str] | None = None
    # Its last word may be the sender's PIN: the stored SMS keeps ``****`` instead (commands.rules).
    secret: bool = False

    def on_card(self) -> Command:
        """This command as the HELP card and refusals see it (only its ``card`` roles)."""
        from dataclasses import replace

        return replace(self, roles=self.card) if self.card is not None else self


class _Registry(dict[str, Command]):
    """Keyword -> Command; any change empties the keyword-table cache."""

    def __setitem__(self, key: str, value: Command) -> None:
        super().__setitem__(key, value)
        _table.cache_clear()

    def pop(self, key: str, *default: Any) -> Any:
        _table.cache_clear()
        return super().pop(key, *default)


REGISTRY: dict[str, Command] = _Registry()


def register(command: Command) -> Command:
    """Add (or replace) a command; the keyword table is rebuilt on next use."""
    REGISTRY[command.keyword] = command
    return command


def aliases(command: Command, language: str) -> list[str]:
    """The words that start ``command`` in ``language``, the English keyword first."""
    listed = translator(language).pgettext(KEYWORD_CONTEXT, command.keyword)
    words = [command.keyword] + listed.replace(",", " ").split()
    return list(dict.fromkeys(match_key(w) for w in words))


@lru_cache(maxsize=64)
def _table(languages: tuple[str, ...]) -> dict[str, Keyword]:
    table: dict[str, Keyword] = {}
    for command in REGISTRY.values():  # English keywords win any clash
        table[match_key(command.keyword)] = Keyword(command.keyword, command.grammar)
    for language in languages:
        for command in REGISTRY.values():
            for word in aliases(command, language):
                table.setdefault(word, Keyword(command.keyword, command.grammar))
    return table


def keyword_table(languages: Iterable[str]) -> dict[str, Keyword]:
    """Keyword -> command for a sender who may write in any of ``languages``."""
    return _table(tuple(dict.fromkeys(languages)))

