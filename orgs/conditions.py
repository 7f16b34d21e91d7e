"""Conditions a loan source sets before it lends: a registry of name -> check.

A loan source is a group's own fund or an outside lender (``field.models.LoanCondition``
names the condition for each). A condition is a function ``(session, member_id) -> bool``
registered under a name with :func:`condition`; ``none`` (always met) is built in, other
features add theirs (the programmes register ``training_completed``). A name that is not
registered is never taken as met: :func:`met` raises :class:`UnknownCondition`, and setting
one is refused (:func:`require_known`), so a typo can never open or close lending silently.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from i18n import N_

Check = Callable[[Session, int], bool]


@dataclass(frozen=True)
class Condition:
    name: str
    label: str  # an N_() msgid, translated where shown
    check: Check


CONDITIONS: dict[str, Condition] = {}
NONE = "none"


class UnknownCondition(LookupError):
    """A condition name nobody registered: refused, never guessed."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no loan condition called {name!r} is registered (known: {', '.join(sorted(CONDITIONS))})")
        self.name = name


def condition(name: str, label: str) -> Callable[[Check], Check]:
    """Register ``fn`` as the check for ``name`` (a later registration replaces it)."""
    def register(fn: Check) -> Check:
        CONDITIONS[name] = Condition(name, label, fn)
        return fn
    return register


@condition(NONE, N_("No condition"))
def _none(session: Session, member_id: int) -> bool:
    return True


def require_known(name: str) -> Condition:
    """The registered condition ``name``; :class:`UnknownCondition` otherwise."""
    found = CONDITIONS.get((name or "").strip())
    if found is None:
        raise UnknownCondition(name)
    return found


def met(session: Session, name: str | None, member_id: int) -> bool:
    """Whether ``member_id`` meets condition ``name`` (None or empty: ``none``)."""
    return bool(require_known(name or NONE).check(session, member_id))
