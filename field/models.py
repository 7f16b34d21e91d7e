"""Tables for field visits, visit plans, lender branches, referrals and loan-source conditions."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from db import Base, value_enum


class Visit(Base):
    """A field worker was with a group on a day, with a short note (SMS ``VISIT``, USSD or console)."""

    __tablename__ = "field_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    field_worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("field_workers.id", ondelete="SET NULL"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(String(160), default="")
    channel: Mapped[str] = mapped_column(String(8))  # sms | ussd | console
    # Idempotency: the inbound SMS id or the USSD session's step (the same key, the same visit).
    key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PlanStatus(str, enum.Enum):
    PLANNED = "planned"  # its announcement waits for its send time (a draft broadcast)
    ANNOUNCED = "announced"  # the broadcast was confirmed (fan-out started)
    CANCELLED = "cancelled"


class VisitPlan(Base):
    """A mobile team's planned visit to a place on a day (seed 002), announced by a scheduled broadcast."""

    __tablename__ = "field_visit_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(120))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"), index=True)
    visit_on: Mapped[dt.date] = mapped_column(Date)
    announce_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[PlanStatus] = mapped_column(value_enum(PlanStatus, "visit_plan_status"), default=PlanStatus.PLANNED)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LenderBranch(Base):
    """Where a member referred to a lender goes: a branch's name, place, phone and address."""

    __tablename__ = "lender_branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200), default="")


class ReferralStatus(str, enum.Enum):
    REQUESTED = "requested"  # the member asked; her chair or coordinator has to confirm
    REFERRED = "referred"  # confirmed: she got the branch's contact
    APPROVED = "approved"  # the lender lent
    REPAID = "repaid"
    DECLINED = "declined"  # by the chair or coordinator, or by the lender


class Referral(Base):
    """A member sent to an outside lender for more than her group can lend: outside the group's books."""

    __tablename__ = "referrals"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("lender_branches.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    amount: Mapped[int] = mapped_column(Integer)  # minor units of the group's currency
    status: Mapped[ReferralStatus] = mapped_column(value_enum(ReferralStatus, "referral_status"),
                                                   default=ReferralStatus.REQUESTED, index=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # the USSD session's step
    decided_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    decided_by_coordinator_id: Mapped[int | None] = mapped_column(
        ForeignKey("coordinators.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def ref(self) -> str:
        return f"F{self.id}"


class LoanCondition(Base):
    """A loan source's condition (``orgs.conditions``): a group's own fund, or a lender."""

    __tablename__ = "loan_conditions"
    __table_args__ = (
        CheckConstraint("(group_id IS NULL) <> (organisation_id IS NULL)", name="one_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), unique=True)
    condition: Mapped[str] = mapped_column(String(40))
