"""Console tables: staff accounts and the audit log of every change made in the console."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base, value_enum
from groups.models import Coordinator
from i18n import N_


class StaffRole(str, enum.Enum):
    ADMIN = "admin"  # everything
    COORDINATOR = "coordinator"  # her groups and regions (through her Coordinator row)
    # The support desk's people: they see their centre's requests and work those assigned to them.
    LAWYER = "lawyer"
    PSYCHOLOGIST = "psychologist"
    BUSINESS_ADVISER = "business_adviser"


#: What each role is called on the console's pages.
STAFF_ROLE_LABELS: dict[StaffRole, str] = {
    StaffRole.ADMIN: N_("Admin"),
    StaffRole.COORDINATOR: N_("Coordinator"),
    StaffRole.LAWYER: N_("Lawyer"),
    StaffRole.PSYCHOLOGIST: N_("Psychologist"),
    StaffRole.BUSINESS_ADVISER: N_("Business adviser"),
}

#: Roles whose holders answer support requests at a centre (besides coordinators).
DESK_ROLES = frozenset({StaffRole.LAWYER, StaffRole.PSYCHOLOGIST, StaffRole.BUSINESS_ADVISER})


class Staff(Base):
    """Someone who logs in to the console with her phone number and a password.

    A coordinator's scope (groups and regions) is her ``coordinators`` row, the
    same one the SMS side knows her by.
    """

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[StaffRole] = mapped_column(value_enum(StaffRole, "staff_role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="en")
    coordinator_id: Mapped[int | None] = mapped_column(
        ForeignKey("coordinators.id", ondelete="SET NULL"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The community resource centre she works at (support desk queues); None: no centre.
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id", ondelete="SET NULL"), index=True)
    # Bumped when the password changes or the account is switched off: older sessions end.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    coordinator: Mapped[Coordinator | None] = relationship()

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN

    def __repr__(self) -> str:
        return f"<Staff {self.phone} {self.role.value}>"


class AuditEntry(Base):
    """One change made in the console: who, what, before and after, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(120), default="")
    group_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    staff: Mapped[Staff | None] = relationship()
