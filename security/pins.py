"""Member PINs: argon2id over an HMAC of the PIN keyed with the server-side pepper.

Rules:
- A PIN is 4 digits, not all the same and not a straight run (1234, 9876).
- Only the hash is stored (``Member.pin_hash``); the PIN itself is never logged,
  never stored in the database outside the hash, never put in a USSD session.
- The pepper (``PIN_PEPPER``) lives in the configuration, not the database, so a
  stolen database alone cannot be brute-forced over the 10,000 possible PINs.
- Three wrong tries in a row lock the PIN (``pin_locked``) until the chair or a
  coordinator resets it; a right PIN clears the count.

Functions flush, never commit.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from groups.models import Member

PIN_LENGTH = 4
MAX_TRIES = 3

# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): about 15 ms here, so a
# hop that checks one PIN stays fast while an offline guesser stays slow.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16)


class PinError(ValueError):
    """A new PIN is refused; ``reason`` is ``format``, ``weak`` or ``mismatch``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PinCheck:
    """The outcome of checking a PIN: ``ok``, else ``tries_left`` (0 when now locked)."""

    ok: bool
    locked: bool
    tries_left: int


def _peppered(pin: str, pepper: str) -> bytes:
    return hmac.new(pepper.encode(), pin.encode(), hashlib.sha256).hexdigest().encode()


def check_new_pin(pin: str) -> None:
    """Raise :class:`PinError` unless ``pin`` is an acceptable new PIN."""
    if len(pin) != PIN_LENGTH or not pin.isascii() or not pin.isdigit():
        raise PinError("format")
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({0}, {1}, {-1}):
        raise PinError("weak")


def hash_pin(pin: str, pepper: str) -> str:
    """The argon2id hash (with its own random salt) of the peppered PIN."""
    return _HASHER.hash(_peppered(pin, pepper))


def pin_matches(pin_hash: str, pin: str, pepper: str) -> bool:
    """True when ``pin`` is the PIN behind ``pin_hash`` (constant-time inside argon2)."""
    try:
        return _HASHER.verify(pin_hash, _peppered(pin, pepper))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_pin(session: Session, member: Member, pin: str, pepper: str) -> None:
    """Store a new PIN for ``member`` (checked first); unlocks and clears the count."""
    check_new_pin(pin)
    member.pin_hash = hash_pin(pin, pepper)
    member.pin_failures = 0
    member.pin_locked = False
    session.flush()


def verify_pin(session: Session, member: Member, pin: str, pepper: str) -> PinCheck:
    """Check ``pin``; a wrong one counts, the third wrong one in a row locks.

    A locked PIN is refused without hashing (the lock is the answer).
    """
    if member.pin_locked or not member.pin_hash:
        return PinCheck(ok=False, locked=member.pin_locked, tries_left=0)
    if pin_matches(member.pin_hash, pin, pepper):
        if _HASHER.check_needs_rehash(member.pin_hash):
            member.pin_hash = hash_pin(pin, pepper)
        member.pin_failures = 0
        session.flush()
        return PinCheck(ok=True, locked=False, tries_left=MAX_TRIES)
    member.pin_failures = (member.pin_failures or 0) + 1
    member.pin_locked = member.pin_failures >= MAX_TRIES
    session.flush()
    return PinCheck(ok=False, locked=member.pin_locked, tries_left=max(0, MAX_TRIES - member.pin_failures))


def reset_pin(session: Session, member: Member) -> None:
    """Forget ``member``'s PIN (chair or coordinator): she chooses a new one on next use."""
    member.pin_hash = None
    member.pin_failures = 0
    member.pin_locked = False
    session.flush()


def has_pin(member: Member) -> bool:
    return bool(member.pin_hash)


def pin_state(member: Member) -> str | None:
    """``None`` when usable, else ``unset`` or ``locked``."""
    if member.pin_locked:
        return "locked"
    return None if member.pin_hash else "unset"
