"""Demo console logins, seeded idempotently with the demo groups (``flask up``, ``flask demo``)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.accounts import create_staff
from console.models import Staff

#: (phone, name, role, password, language). Demo data only: change or remove them in production.
DEMO_STAFF = [
    ("+254700000001", "Demo Admin", "admin", "kassa-demo-admin", "en"),
    ("+254712000099", "Joseph Otieno", "coordinator", "kassa-demo-coordinator", "en"),  # a demo coordinator
]


def seed_demo_staff(session: Session) -> list[tuple[str, str, str, str]]:
    """Create the demo console accounts that are missing; (phone, password, role, name) of each."""
    logins = []
    for phone, name, role, password, language in DEMO_STAFF:
        if session.scalar(select(Staff.id).where(Staff.phone == phone)) is None:
            create_staff(session, phone=phone, name=name, role=role, password=password, language=language)
        logins.append((phone, password, role, name))
    return logins
