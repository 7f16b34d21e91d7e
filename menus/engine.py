"""The one state machine that drives every USSD screen.

Screens are data (:class:`Screen`): a body, numbered items or dynamic choices,
or a free-input validator, or a PIN handler; guards that run on entry. The
machine only moves between them: ``0`` back (or the previous page), ``00``
home, ``98`` the next page, anything else is the screen's business. A
handler answers with a move: :class:`Go` to a screen, :class:`Again` (stay and
say why), or :class:`End` (a final answer).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.models import Group, Member, Membership
from i18n import N_, Translator, translator
from ledger.readcache import ReadCache
from menus.hop import Hop, Reply
from menus.state import State
from text.plain import plain_letters
from text.screen import clip, fits, paginate

HOME = "home"
BACK, TOP, MORE = "0", "00", "98"


@dataclass(frozen=True)
class Say:
    """A sentence to translate later: a catalog id and its (already formatted) values."""

    msgid: str
    params: dict[str, str] = field(default_factory=dict)

    def render(self, t: Translator) -> str:
        return t.gettext(self.msgid, **self.params)

    def dump(self) -> list[Any]:
        return [self.msgid, self.params]

    @classmethod
    def load(cls, raw: list[Any] | None) -> Say | None:
        return cls(raw[0], dict(raw[1])) if raw else None


class Invalid(Exception):
    """A validator refuses what was typed; ``say`` tells her why."""

    def __init__(self, msgid: str, **params: str) -> None:
        super().__init__(msgid)
        self.say = Say(msgid, params)


@dataclass(frozen=True)
class Go:
    screen: str
    flash: Say | None = None  # one line shown on top of the next screen
    push: bool = True  # False: "0" will not come back to the screen we leave


@dataclass(frozen=True)
class Again:
    reason: Say


@dataclass(frozen=True)
class End:
    message: Say


Move = Go | Again | End


@dataclass(frozen=True)
class Deps:
    """What a hop needs from outside, passed in (never read from globals)."""

    pepper: str
    service_code: str
    now: dt.datetime
    reads: ReadCache | None = None  # cached ledger answers (None: read the database every time)


class Ctx:
    """One hop: the request, the session state, the database session, lazy records."""

    def __init__(self, hop: Hop, state: State, db: Session, deps: Deps) -> None:
        self.hop, self.state, self.db, self.deps = hop, state, db, deps
        self.span: tuple[int, int] = (0, 0)  # where this hop's input sits in hop.text

    @property
    def t(self) -> Translator:
        return translator(self.state.who.lang if self.state.who else None)

    @property
    def data(self) -> dict[str, Any]:
        return self.state.data

    @cached_property
    def _people(self) -> tuple[Member, Group]:
        """Her and her group, in one round trip (only hops that need the database pay it)."""
        who = self.state.who
        assert who is not None
        row = self.db.execute(
            select(Member, Group).join(Membership, Membership.member_id == Member.id)
            .join(Group, Group.id == Membership.group_id).where(Membership.id == who.membership_id)).one()
        return row[0], row[1]

    @property
    def member(self) -> Member:
        return self._people[0]

    @property
    def group(self) -> Group:
        return self._people[1]

    @cached_property
    def membership(self) -> Membership:
        assert self.state.who is not None
        found = self.db.get(Membership, self.state.who.membership_id)
        assert found is not None
        return found

    @property
    def role(self) -> str:
        return self.state.who.role if self.state.who else ""

    def money(self, minor: int) -> str:
        return self.t.money(minor, self.state.who.currency if self.state.who else self.group.currency)

    def key(self, step: str) -> str:
        """An idempotency key for a posting made at ``step`` of this session."""
        return f"ussd:{self.hop.session_id}:{step}"


Lines = Callable[[Ctx], list[str]]
Predicate = Callable[[Ctx], bool]


@dataclass(frozen=True)
class Item:
    """A numbered menu line: label (catalog id) -> target screen, shown when ``when`` holds."""

    label: str
    target: str
    when: Predicate | None = None


@dataclass(frozen=True)
class Choice:
    """A numbered line built at run time (loan requests, languages): shown text and a value."""

    text: str
    value: Any


@dataclass(frozen=True)
class Screen:
    """A screen, declared as data.

    Exactly one way of taking input: ``items`` (static menu), ``choices`` +
    ``chosen`` (dynamic menu), ``validate`` (+ ``save_as`` and ``then``) for
    free input, ``pin`` for a secret input that is never stored, or none
    (a view: only 0/00/98). ``guard`` runs on entry and may redirect or end.
    ``resumable=False`` for PIN and confirmation screens.
    """

    name: str
    body: Lines | None = None
    items: tuple[Item, ...] = ()
    choices: Callable[[Ctx], list[Choice]] | None = None
    chosen: Callable[[Ctx, Any], Move] | None = None
    validate: Callable[[Ctx, str], Any] | None = None
    save_as: str | None = None
    then: str | Callable[[Ctx], Move] | None = None
    pin: Callable[[Ctx, str], Move] | None = None
    guard: Callable[[Ctx], Move | None] | None = None
    resumable: bool = True
    back: bool = True

    @property
    def secret(self) -> bool:
        return self.pin is not None

    @property
    def asks(self) -> bool:
        """It asks a question (free input or PIN) rather than offering numbered lines."""
        return self.validate is not None or self.pin is not None

    @property
    def midway(self) -> bool:
        """Worth resuming after a drop: it is part of a flow (takes input), not a view or PIN/confirmation."""
        takes_input = bool(self.items or self.choices or self.validate)
        return self.resumable and takes_input and not self.secret


class Machine:
    """Moves a session between ``screens`` and renders where it stands."""

    def __init__(self, screens: list[Screen]) -> None:
        self.screens = {s.name: s for s in screens}
        missing = {i.target for s in screens for i in s.items} - set(self.screens)
        if missing or HOME not in self.screens:
            raise ValueError(f"menus refer to undeclared screens: {sorted(missing | {HOME} - set(self.screens))}")

    def screen(self, ctx: Ctx) -> Screen:
        return self.screens[ctx.state.screen]

    # -- moving ----------------------------------------------------------------
    def take(self, ctx: Ctx, raw: str) -> End | None:
        """Apply one input at the current screen; an :class:`End` when the session ends."""
        st, screen = ctx.state, self.screen(ctx)
        raw = raw if screen.secret else raw.strip()
        if raw == TOP:
            return self.go(ctx, Go(HOME))
        if raw == MORE and st.page + 1 < st.pages:
            st.page += 1
            return None
        if raw == BACK and st.page > 0:
            st.page -= 1
            return None
        st.shown = []  # not a page turn: render afresh (an answer may change what is shown)
        if raw == BACK:
            return self.back(ctx)
        return self.apply(ctx, self.respond(ctx, screen, raw))

    def back(self, ctx: Ctx) -> End | None:
        st = ctx.state
        target = st.stack.pop() if st.stack else HOME
        return self.go(ctx, Go(target, push=False))

    def respond(self, ctx: Ctx, screen: Screen, raw: str) -> Move:
        if screen.pin is not None:
            return screen.pin(ctx, raw)
        options = self.options(ctx, screen)
        if options:
            if raw.isdigit() and 1 <= int(raw) <= len(options):
                return options[int(raw) - 1][1]
            return Again(Say(N_("Please choose one of the numbers shown.")))
        if screen.validate is not None:
            try:
                value = screen.validate(ctx, raw)
            except Invalid as refused:
                return Again(refused.say)
            if screen.save_as:
                ctx.data[screen.save_as] = value
            return self.then(ctx, screen)
        return Again(Say(N_("Press 0 to go back or 00 for the main menu.")))

    def then(self, ctx: Ctx, screen: Screen) -> Move:
        if callable(screen.then):
            return screen.then(ctx)
        return Go(screen.then or HOME)

    def options(self, ctx: Ctx, screen: Screen) -> list[tuple[str, Move]]:
        """The numbered lines of ``screen`` for this caller: (shown text, move when chosen)."""
        if screen.choices is not None and screen.chosen is not None:
            chosen = screen.chosen
            return [(c.text, _Deferred(chosen, c.value)) for c in screen.choices(ctx)]  # type: ignore[misc]
        t = ctx.t
        return [(t.gettext(i.label), Go(i.target)) for i in screen.items if i.when is None or i.when(ctx)]

    def apply(self, ctx: Ctx, move: Move) -> End | None:
        if isinstance(move, _Deferred):
            move = move.resolve(ctx)
        if isinstance(move, End):
            return move
        if isinstance(move, Again):
            ctx.data["_note"] = move.reason.dump()
            ctx.state.page = 0
            return None
        return self.go(ctx, move)

    def go(self, ctx: Ctx, move: Go, depth: int = 0) -> End | None:
        """Enter ``move.screen`` (running its guard, which may redirect or end)."""
        st = ctx.state
        if move.screen == HOME:
            st.stack, st.data = [], {}
        elif move.push and st.screen != move.screen:
            st.stack.append(st.screen)
        st.screen, st.page, st.pages, st.shown = move.screen, 0, 1, []
        if move.flash is not None:
            ctx.data["_note"] = move.flash.dump()
        guard = self.screens[move.screen].guard
        redirect = guard(ctx) if guard is not None and depth < 8 else None
        if redirect is None:
            return None
        if isinstance(redirect, Go):
            return self.go(ctx, Go(redirect.screen, redirect.flash, push=False), depth + 1)
        return self.apply(ctx, redirect)

    # -- rendering -------------------------------------------------------------
    def render(self, ctx: Ctx) -> str:
        """The current page of the current screen, fitted to the budget.

        Turning pages (98, 0) shows the pages already rendered for this screen.
        """
        st = ctx.state
        if st.shown and st.page < len(st.shown) and "_note" not in ctx.data:
            return st.shown[st.page]
        screen, t = self.screen(ctx), ctx.t
        note = Say.load(ctx.data.pop("_note", None))
        body = screen.body(ctx) if screen.body else []
        if screen.asks:
            lines = _question_first([note.render(t)] if note else [], body)
            footer = []  # "0" still goes back; on a question the room is for the question
        else:
            lines = ([note.render(t)] if note else []) + body
            lines += [f"{n}. {text}" for n, (text, _) in enumerate(self.options(ctx, screen), start=1)]
            footer = [BACK + ". " + t.gettext("Back")] if screen.back and st.screen != HOME else []
        more = MORE + ". " + t.gettext("More")
        # Her letters on every screen (groups.letters: hers, else her group's), as in her SMS:
        # a screen never turns plain by itself to save a page, so no word changes its letters.
        pages = paginate(*_plain_all(lines, footer, more)) if self.plain(ctx) else paginate(lines, footer, more)
        st.pages = len(pages)
        st.page = min(st.page, st.pages - 1)
        st.shown = pages if len(pages) > 1 else []
        return pages[st.page]

    def final(self, ctx: Ctx, end: End) -> str:
        text = end.message.render(ctx.t)
        return clip(plain_letters(text) if self.plain(ctx) else text)

    @staticmethod
    def plain(ctx: Ctx) -> bool:
        return bool(ctx.state.who and ctx.state.who.plain)

    def reply(self, ctx: Ctx, end: End | None) -> Reply:
        return Reply(self.final(ctx, end), end=True) if end else Reply(self.render(ctx))


def _question_first(note: list[str], body: list[str]) -> list[str]:
    """A question screen's lines: the note (why she is asked again) and as much of the body
    as fits on one screen, keeping the question (the body's last line); all of it, paged, if
    even that does not fit."""
    if note:
        for kept in (body, body[-1:], []):
            if fits("\n".join(note + kept)):
                return note + kept
    return note + body


@dataclass(frozen=True)
class _Deferred:
    """A dynamic choice's move, computed only when that choice is taken."""

    fn: Callable[[Ctx, Any], Move]
    value: Any

    def resolve(self, ctx: Ctx) -> Move:
        return self.fn(ctx, self.value)


def _plain_all(lines: list[str], footer: list[str], more: str) -> tuple[list[str], list[str], str]:
    return [plain_letters(x) for x in lines], [plain_letters(x) for x in footer], plain_letters(more)
