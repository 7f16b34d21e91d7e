"""What a USSD session remembers between hops, and where: Redis, keyed by ``sessionId``.

Nothing secret is ever put here: PIN digits stay in the ``text`` Africa's
Talking sends; the session keeps only where they were (``secret``), so logs
can scrub them. ``seen`` is how much of ``text`` the session has consumed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis

from groups.callers import WHO_KEY

SESSION_KEY = "ussd:s:{}"
RESUME_KEY = "ussd:r:{}"


@dataclass
class Who:
    """The caller as found on the first hop (ids and display settings, no secrets)."""

    member_id: int
    group_id: int
    membership_id: int
    role: str
    lang: str
    plain: bool = False
    group_name: str = ""
    currency: str = ""
    # The group's meeting rule, so "next meeting" and money formats need no database.
    timezone: str = "UTC"
    meeting_weekday: int = 0
    meeting_time: str = "10:00"
    meeting_place: str = ""
    meeting_every_weeks: int = 1
    meeting_anchor: str = ""  # ISO date of a meeting week, for fortnightly groups
    pin_for_balance: bool = False  # the group asks the PIN before balances are shown
    groups: int = 1  # how many active groups she is in (more than one: she chooses on the first screen)
    coordinator_id: int = 0  # a coordinator (role "coordinator"; no member, group or membership: ids 0)
    field_worker_id: int = 0  # a field worker (role "field" when she is not a member; orgs.models.FieldWorker)
    enrolled: bool = False  # in a programme: her session may start with a grant or business question


@dataclass
class State:
    """One session's position in the menus."""

    phone: str
    who: Who | None = None
    screen: str = "home"
    stack: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    page: int = 0
    pages: int = 1
    seen: int = 0
    secret: list[list[int]] = field(default_factory=list)  # [start, end) spans of PIN digits in text
    ended: bool = False
    last: str = ""  # the last reply's text, to answer a repeated request identically
    shown: list[str] = field(default_factory=list)  # pages of the screen on show, for 98/0 without re-reading
    who_changed: bool = False  # looked up or changed this hop: refresh the per-phone copy
    copy_kept: bool = True  # a resumable copy for this phone may be in Redis (so a save must drop it)
    unlocked: bool = False  # her PIN was given in this session (groups that ask it before balances)

    def to_json(self) -> str:
        values = dict(vars(self), who=vars(self.who) if self.who else None)
        return json.dumps(values, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> State:
        values = json.loads(raw)
        who = values.pop("who", None)
        return cls(who=Who(**who) if who else None, **values)


@dataclass
class Arrival:
    """What :meth:`SessionStore.load` found for a hop."""

    state: State | None  # the session, if this sessionId has one
    who: Who | None  # who calls from this phone, if known in the last minute
    dropped: State | None  # her dropped session, if she may resume it
    copy_may_exist: bool = True  # a resumable copy for the phone may be in Redis (False: looked, none)


class SessionStore:
    """Sessions in Redis with a TTL; a resumable copy per phone for a short while.

    Each hop costs one MGET and, most of the time, one SET.
    Who is calling is kept per phone for ``who_seconds`` after it was read from
    the database, so a dial needs no database read; a change of role or status
    shows within that time, a change of language at once.
    """

    def __init__(self, client: redis.Redis, ttl: int, resume_seconds: int, who_seconds: int = 60) -> None:
        self.redis = client
        self.ttl = ttl
        self.resume_seconds = resume_seconds
        self.who_seconds = who_seconds

    def load(self, session_id: str, phone: str, *, resume: bool) -> Arrival:
        """The session, and in the same round trip what a new one needs: the phone's known
        caller and (if ``resume``) its dropped session.

        The dropped copy is not deleted here: this hop's :meth:`save` replaces or
        deletes it, so a hop that fails leaves it for her next dial.
        """
        keys = [SESSION_KEY.format(session_id), WHO_KEY.format(phone)]
        if resume:
            keys.append(RESUME_KEY.format(phone))
        found = self.redis.mget(keys)  # one command: cheaper than a pipeline
        who = Who(**json.loads(found[1])) if found[1] else None
        dropped = State.from_json(found[2]) if resume and found[2] else None
        return Arrival(State.from_json(found[0]) if found[0] else None, who, dropped,
                       copy_may_exist=not resume or found[2] is not None)

    def save(self, session_id: str, state: State, *, resumable: bool) -> None:
        """Store the session; keep (or forget) a copy for resuming after a drop.

        Most hops write the session alone: the caller's copy only when it was
        just read, the resumable copy only when it changes or must go.
        """
        who_json = None
        if state.who_changed and state.who is not None:
            state.who_changed = False
            who_json = json.dumps(vars(state.who), ensure_ascii=False)
        resume_json = _resume_copy(state).to_json() if resumable else None
        drop_copy = not resumable and state.copy_kept
        state.copy_kept = resumable
        session_key, session_json = SESSION_KEY.format(session_id), state.to_json()
        if who_json is None and resume_json is None and not drop_copy:
            self.redis.set(session_key, session_json, ex=self.ttl)  # most hops: one command
            return
        pipe = self.redis.pipeline(transaction=False)
        if who_json is not None:
            pipe.set(WHO_KEY.format(state.phone), who_json, ex=self.who_seconds)
        if resume_json is not None:
            pipe.set(RESUME_KEY.format(state.phone), resume_json, ex=self.resume_seconds)
        if drop_copy:
            pipe.delete(RESUME_KEY.format(state.phone))
        pipe.set(session_key, session_json, ex=self.ttl)
        pipe.execute()


def _resume_copy(state: State) -> State:
    """What a new session may take over: the position and answers, not the text bookkeeping."""
    return State(phone=state.phone, who=state.who, screen=state.screen, stack=list(state.stack),
                 data=dict(state.data))  # who_changed stays False: the copy never refreshes the caller
