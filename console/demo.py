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
    ("+254700000002", "Lydia Wanjiru", "lawyer", "kassa-demo-lawyer", "en"),  # the support desk's lawyer
]
#: The demo's community resource centre (the support desk), made when there is no centre yet.
DEMO_CENTRE = "Kisumu Community Resource Centre"


def seed_demo_staff(session: Session) -> list[tuple[str, str, str, str]]:
    """Create the demo console accounts that are missing; (phone, password, role, name) of each."""
    from orgs.models import Centre

    centre = session.scalar(select(Centre).where(Centre.name == DEMO_CENTRE))
    if centre is None and session.scalar(select(Centre.id).limit(1)) is None:
        centre = Centre(name=DEMO_CENTRE, target_days=7, active=True)
        session.add(centre)
        session.flush()
    logins = []
    for phone, name, role, password, language in DEMO_STAFF:
        if session.scalar(select(Staff.id).where(Staff.phone == phone)) is None:
            create_staff(session, phone=phone, name=name, role=role, password=password, language=language,
                         centre_id=centre.id if centre is not None and role == "lawyer" else None)
        logins.append((phone, password, role, name))
    return logins
