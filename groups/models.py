"""ORM models for the people side of Kassa.

Money settings are integers in the currency's minor units (see ledger.money).
"""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base, value_enum


class GroupKind(str, enum.Enum):
    SHG = "shg"  # a fixed saving at each (weekly) meeting (seed 000)
    VSLA = "vsla"  # shares bought at meetings
    # Any amount on any day, as the savings and loan groups of seed 004 save
    # ("different amounts, when needed, with flexible timing").
    FLEXIBLE = "flexible"


#: The size each kind of group is meant to have (members), for a warning outside it:
#: SHG 10-20 (NRLM, Kudumbashree), VSLA 10-25 (docs/domain.md), flexible groups 10-25 (seed 004).
GROUP_SIZES = {"shg": (10, 20), "vsla": (10, 25), "flexible": (10, 25)}


class Role(str, enum.Enum):
    MEMBER = "member"
    TREASURER = "treasurer"
    CHAIR = "chair"
    SECRETARY = "secretary"


class Status(str, enum.Enum):
    ACTIVE = "active"
    INACTIVE = "inactive"



class Group(Base):
    """A savings group (SHG or VSLA) and its rules.

    ``code`` is the short code people type in SMS (``BC KAS1 ...``).
    Defaults for loan rules follow the VSLA/SHG practice in docs/domain.md.
    """

    __tablename__ = "groups"
    __table_args__ = (
        CheckConstraint("meeting_weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("meeting_every_weeks IN (1, 2)", name="every_weeks"),
        CheckConstraint("shares_min >= 1 AND shares_max >= shares_min", name="shares"),
        CheckConstraint("reminder_days_before BETWEEN 0 AND 6", name="reminder_days_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[GroupKind] = mapped_column(value_enum(GroupKind, "group_kind"))
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    region: Mapped[str | None] = mapped_column(String(80), index=True)
    # Where the group meets, in the place tree (orgs.models.Place); ``region`` is kept as the
    # name of the place's region-level ancestor for filters that predate the tree.
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"), index=True)
    meeting_weekday: Mapped[int] = mapped_column(Integer, default=0)  # Monday = 0
    meeting_time: Mapped[dt.time] = mapped_column(Time, default=dt.time(10, 0))
    meeting_place: Mapped[str] = mapped_column(String(120), default="")
    meeting_every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    # Fortnightly groups: the date of one of their meetings (the planner sets it if unset).
    meeting_anchor: Mapped[dt.date | None] = mapped_column(Date)
    # Reminder lead: that many days before the meeting, at this local time (default: the evening before).
    reminder_days_before: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    reminder_time: Mapped[dt.time] = mapped_column(Time, default=dt.time(18, 0), server_default="18:00:00")
    # The planner's cursor: the meeting the next reminder is for, and when it goes (UTC).
    # NULL means "not planned yet" (new group or changed schedule); see outreach.planner.
    next_meeting_on: Mapped[dt.date | None] = mapped_column(Date)
    next_reminder_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # The daily loan check (instalment due tomorrow, overdue), at the reminder time; see outreach.loans.
    next_loan_check_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # Savings rules (minor units). SHG: fixed weekly saving; VSLA: share value.
    saving_amount: Mapped[int] = mapped_column(Integer, default=0)
    share_value: Mapped[int] = mapped_column(Integer, default=0)
    shares_min: Mapped[int] = mapped_column(Integer, default=1)
    shares_max: Mapped[int] = mapped_column(Integer, default=5)
    social_fund_amount: Mapped[int] = mapped_column(Integer, default=0)
    off_rule_contribution: Mapped[str] = mapped_column(String(8), default="refuse")  # refuse|flag
    fine_types: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    loan_limit_multiplier: Mapped[int] = mapped_column(Integer, default=3)
    service_charge_bp: Mapped[int] = mapped_column(Integer, default=1000)  # per month, basis points
    max_active_loans: Mapped[int] = mapped_column(Integer, default=1)
    # Ledger rules: how a repayment is split, how share-out weighs savings.
    repayment_order: Mapped[str] = mapped_column(
        String(16), default="charge_first", server_default="charge_first")  # charge_first|principal_first
    share_out_by: Mapped[str] = mapped_column(
        String(16), default="savings", server_default="savings")  # savings|share_weeks
    # Share-out: loans still being repaid must be repaid first, or are deducted from the payout.
    shareout_loans: Mapped[str] = mapped_column(
        String(16), default="repay_first", server_default="repay_first")  # repay_first|deduct
    # Share-out float: each member keeps up to this much (minor units; VSLA: whole shares) in the box
    # as her first saving of the new cycle. 0: the cash box is emptied but for the social fund.
    shareout_keep: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    plain_letters: Mapped[bool] = mapped_column(Boolean, default=False)
    # An approved loan the cash box could not pay lapses after this many meetings (0: never).
    loan_expiry_meetings: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    # Ask the PIN before a member's balances are shown (a shared phone).
    pin_for_balance: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # A member may ask for a loan only once she has completed her programme's training (programmes).
    loans_after_training: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The day the group plans to share out its savings (the end of its cycle), when it has set one.
    share_out_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[Status] = mapped_column(value_enum(Status, "group_status"), default=Status.ACTIVE)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    memberships: Mapped[list[Membership]] = relationship(back_populates="group")

    def __repr__(self) -> str:
        return f"<Group {self.code} {self.name!r}>"


class Member(Base):
    """A person with a phone. The phone number (E.164) is unique across Kassa.

    Only a walk-in registered at a support desk (someone in no group, who may have
    no phone of her own) can be without a number: every group member has one.
    """

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Typed ``str``: every member a group, a menu or a command deals with has one; only a
    # walk-in's row (console.casework.register_walk_in, read by the desk alone) may be NULL.
    phone: Mapped[str] = mapped_column(String(20), unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(8), default="en")
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)  # sent STOP
    plain_letters: Mapped[bool | None] = mapped_column(Boolean)  # None: follow the group
    gender: Mapped[str | None] = mapped_column(String(8))  # female | male | other; None: not recorded
    status: Mapped[Status] = mapped_column(value_enum(Status, "member_status"), default=Status.ACTIVE)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    memberships: Mapped[list[Membership]] = relationship(back_populates="member")

    def __repr__(self) -> str:
        return f"<Member {self.phone} {self.name!r}>"


class Membership(Base):
    """A member in a group, with her number inside the group and her role."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        UniqueConstraint("group_id", "member_id"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    role: Mapped[Role] = mapped_column(value_enum(Role, "role"), default=Role.MEMBER)
    status: Mapped[Status] = mapped_column(value_enum(Status, "membership_status"), default=Status.ACTIVE)
    joined_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    group: Mapped[Group] = relationship(back_populates="memberships")
    member: Mapped[Member] = relationship(back_populates="memberships")


class Coordinator(Base):
    """NGO or resource-centre staff: serves some groups and/or whole regions."""

    __tablename__ = "coordinators"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    organisation: Mapped[str] = mapped_column(String(120), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    all_groups: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    groups: Mapped[list[Group]] = relationship(secondary="coordinator_groups")


class CoordinatorGroup(Base):
    __tablename__ = "coordinator_groups"

    coordinator_id: Mapped[int] = mapped_column(
        ForeignKey("coordinators.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True)
