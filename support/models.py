"""A member's request for help, followed by her group's coordinator(s)."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import DateTime, Enum, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base
from groups.models import Group, Member


class Category(str, enum.Enum):
    """The services a community resource centre offers (seed 002)."""

    BUSINESS = "business"
    LEGAL = "legal"
    PSYCHOLOGICAL = "psychological"
    OTHER = "other"


class RequestStatus(str, enum.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e], validate_strings=True)


class SupportRequest(Base):
    """One request; ``ref`` is what the member and the coordinator quote to each other."""

    __tablename__ = "support_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(12), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"), index=True)
    category: Mapped[Category] = mapped_column(_enum(Category, "support_category"))
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus, "support_status"),
                                                  default=RequestStatus.OPEN)
    # Idempotency: the USSD session and step that asked (a replayed hop adds nothing).
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    member: Mapped[Member] = relationship()
    group: Mapped[Group] = relationship()
