"""A person's request for help, answered at a community resource centre (the support desk).

A request belongs to a centre (the one covering her group's place) and moves
new -> assigned (to one staff member) -> in progress -> closed (with an outcome).
Private notes stay with the request: they are never sent to her.
"""
from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from db import Base, value_enum
from groups.models import Group, Member
from orgs.models import Centre


class Category(str, enum.Enum):
    """The services a community resource centre offers (seed 002)."""

    BUSINESS = "business"
    LEGAL = "legal"
    PSYCHOLOGICAL = "psychological"
    OTHER = "other"


class RequestStatus(str, enum.Enum):
    NEW = "new"  # nobody has it yet
    ASSIGNED = "assigned"  # one staff member has it (she was told by SMS that it is taken up)
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"  # with an outcome (she was told by SMS)


OPEN_STATUSES = (RequestStatus.NEW, RequestStatus.ASSIGNED, RequestStatus.IN_PROGRESS)


class Outcome(str, enum.Enum):
    """How a request ended."""

    RESOLVED = "resolved"
    REFERRED = "referred"  # sent on to another service
    UNREACHABLE = "unreachable"  # she could not be reached
    WITHDRAWN = "withdrawn"  # no longer needed



class SupportRequest(Base):
    """One request; ``ref`` is what the member and the staff quote to each other.

    ``group_id`` is None for a walk-in (someone in no group, registered at the desk).
    """

    __tablename__ = "support_requests"
    __table_args__ = (Index("ix_support_requests_centre_status", "centre_id", "status", "id"),
                      Index("ix_support_requests_assigned_status", "assigned_to_id", "status", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(12), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"), index=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id", ondelete="RESTRICT"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    category: Mapped[Category] = mapped_column(value_enum(Category, "support_category"))
    status: Mapped[RequestStatus] = mapped_column(value_enum(RequestStatus, "support_status"),
                                                  default=RequestStatus.NEW)
    outcome: Mapped[Outcome | None] = mapped_column(value_enum(Outcome, "support_outcome"))
    # Idempotency: the USSD session and step that asked (a replayed hop adds nothing).
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Who registered a walk-in's request at the desk (None: she asked over USSD).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))

    member: Mapped[Member] = relationship()
    group: Mapped[Group | None] = relationship()
    centre: Mapped[Centre | None] = relationship()
    # No relationship to console.models.Staff: importing the console (Flask) is not the
    # menus' or the worker's business; the desk looks staff names up itself.


class SupportNote(Base):
    """A private note on a request: who wrote it, when, what. Never sent to the person."""

    __tablename__ = "support_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Unambiguous on a keypad and when read aloud over the phone (no 0/O, 1/I/L, 5/S, 2/Z, 8/B).
_REF_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def new_ref(session: Session) -> str:
    """A short reference like ``H7KQ3``, not yet used."""
    while True:
        ref = "H" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(4))
        if not session.scalar(select(SupportRequest.id).where(SupportRequest.ref == ref)):
            return ref
