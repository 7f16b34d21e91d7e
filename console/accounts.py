"""Staff accounts: create, check a password, change a password. Functions flush; the caller commits."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import Staff, StaffRole
from groups.models import Coordinator
from groups.phones import normalise_phone
from i18n import LANGUAGES

# argon2id with the library's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes):
# a login is rare, so it can afford a slower hash than a USSD PIN.
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not a password of anyone")
MIN_PASSWORD = 10


class AccountError(ValueError):
    """A staff account cannot be created or changed as asked; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password_rule(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("short", f"a password needs at least {MIN_PASSWORD} characters")


def password_matches(staff: Staff | None, password: str) -> bool:
    """True when ``password`` is ``staff``'s; an unknown account costs the same hash."""
    try:
        return _HASHER.verify(staff.password_hash if staff else _DUMMY, password) and staff is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def find_staff(session: Session, phone: str) -> Staff | None:
    try:
        e164 = normalise_phone(phone)
    except ValueError:
        return None
    return session.scalar(select(Staff).where(Staff.phone == e164))


def create_staff(session: Session, *, phone: str, name: str, role: str, password: str,
                 language: str = "en", regions: list[str] | None = None,
                 organisation: str = "", centre_id: int | None = None) -> Staff:
    """A new staff account; a coordinator is linked to (or given) her ``coordinators`` row."""
    e164 = normalise_phone(phone)
    name = name.strip()
    if not name:
        raise AccountError("name", "a staff member needs a name")
    role_ = StaffRole(role)
    if language not in LANGUAGES:
        raise AccountError("language", f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    check_password_rule(password)
    if session.scalar(select(Staff.id).where(Staff.phone == e164)):
        raise AccountError("taken", f"{e164} already has a console account")
    staff = Staff(phone=e164, name=name, role=role_, password_hash=hash_password(password),
                  language=language, active=True, session_epoch=0, centre_id=centre_id)
    if role_ == StaffRole.COORDINATOR:
        coord = session.scalar(select(Coordinator).where(Coordinator.phone == e164))
        if coord is None:
            coord = Coordinator(phone=e164, name=name, organisation=organisation, language=language,
                                regions=list(regions or []), all_groups=False)
            session.add(coord)
            session.flush()
        staff.coordinator = coord
    session.add(staff)
    session.flush()
    return staff


def set_password(session: Session, staff: Staff, password: str) -> None:
    """A new password; every older session of ``staff`` ends."""
    check_password_rule(password)
    staff.password_hash = hash_password(password)
    staff.session_epoch = (staff.session_epoch or 0) + 1
    session.flush()
