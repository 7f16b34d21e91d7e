"""Programmes: from mobilisation to growth (trainings, asset grants, businesses).

A :class:`Programme` (optionally part of an ``orgs`` Project) enrols groups and
individual beneficiaries. Each beneficiary is one :class:`Enrolment` row; the
stages she reached are :class:`StageReached` rows (the programme's stages are
configurable: the four steps by default). For fast reports the enrolment also
carries the dates of its milestones (first session, training completed, first
grant, grant confirmed, first business): they are written only by the domain
functions in :mod:`programmes.service`, and a test proves they equal the rows
behind them.

Money (grant values, awards) in integer minor units of ``currency``.
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
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base, value_enum
from i18n import N_

DEFAULT_STAGES = ["mobilised", "trained", "financed", "growing"]
STAGE_LABELS = {
    "mobilised": N_("Mobilised"),
    "trained": N_("Trained"),
    "financed": N_("Financed"),
    "growing": N_("Growing"),
}

#: Vulnerability categories (sensitive: only admins see them per person).
CATEGORIES = {
    "disability": N_("Person with a disability"),
    "fallen": N_("Family of the fallen"),
    "displaced": N_("Internally displaced"),
    "social_assistance": N_("Targeted social assistance"),
}

#: Default approximate monthly income bands, upper bounds in minor units (the last band is open).
DEFAULT_BANDS = [500000, 1500000, 5000000]



class Programme(Base):
    __tablename__ = "programmes"
    __table_args__ = (CheckConstraint("completion_percent BETWEEN 1 AND 100", name="completion_percent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    stages: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_STAGES))
    # A course is completed when she attended at least this share of its sessions.
    completion_percent: Mapped[int] = mapped_column(Integer, default=80, server_default="80")
    currency: Mapped[str] = mapped_column(String(3))
    income_bands: Mapped[list[int]] = mapped_column(JSON, default=lambda: list(DEFAULT_BANDS))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Trade(Base):
    """A trade a grant equips for (loaded from programmes/data/trades.csv: data, not code)."""

    __tablename__ = "trades"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # language -> name, when given

    def label(self, lang: str) -> str:
        return str((self.names or {}).get(lang) or self.name)


class ProgrammeTrade(Base):
    __tablename__ = "programme_trades"

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="RESTRICT"), primary_key=True)


class ProgrammeGroup(Base):
    __tablename__ = "programme_groups"

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)
    enrolled_on: Mapped[dt.date] = mapped_column(Date)


class Enrolment(Base):
    """One beneficiary in one programme (through a group, or on her own: ``group_id`` NULL)."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("programme_id", "member_id", name="uq_enrolment_member"),
        Index("ix_enrolments_programme_group", "programme_id", "group_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    # The region she is counted under (her group's region, or the place she was enrolled at).
    region: Mapped[str | None] = mapped_column(String(80))
    enrolled_on: Mapped[dt.date] = mapped_column(Date)
    # Milestones (written by programmes.service only; each equals the rows behind it).
    trained_on: Mapped[dt.date | None] = mapped_column(Date)  # first session attended
    completed_on: Mapped[dt.date | None] = mapped_column(Date)  # every course of the programme completed
    equipped_on: Mapped[dt.date | None] = mapped_column(Date)  # first grant given
    confirmed_on: Mapped[dt.date | None] = mapped_column(Date)  # first grant she confirmed


class StageReached(Base):
    """A stage an enrolment reached; its programme and group are copied in so that the report
    counts stages without joining the enrolments (written only by programmes.service.reach)."""

    __tablename__ = "stages_reached"
    __table_args__ = (Index("ix_stages_reached_programme_stage", "programme_id", "stage", "reached_on"),)

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(24), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(Integer)  # the enrolment's group (no FK: a copy for scoping)
    reached_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="auto")  # auto | console


class MemberCategory(Base):
    """A person's vulnerability category (sensitive: admins only, per person)."""

    __tablename__ = "member_categories"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(24), primary_key=True)


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (
        UniqueConstraint("programme_id", "code", name="uq_course_code"),
        CheckConstraint("sessions > 0", name="sessions_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(160))
    sessions: Mapped[int] = mapped_column(Integer, default=1)  # planned sessions (the completion rule's base)
    required: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")


class TrainingSession(Base):
    """One session of a course; its number (``id``) is what the trainer types: ``ATT 12 3 4 7``."""

    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    on: Mapped[dt.date] = mapped_column(Date)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"), index=True)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"))
    venue: Mapped[str] = mapped_column(String(120), default="")
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("field_workers.id", ondelete="SET NULL"), index=True)

    course: Mapped[Course] = relationship()


class Attendance(Base):
    __tablename__ = "training_attendance"

    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"),
                                            primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"), primary_key=True,
                                              index=True)
    source: Mapped[str] = mapped_column(String(16))  # sms | console
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Completion(Base):
    __tablename__ = "course_completions"

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    completed_on: Mapped[dt.date] = mapped_column(Date)


class GrantStatus(str, enum.Enum):
    PENDING = "pending"  # given, not confirmed by her: flagged in the console
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"  # she answered "No"


class Grant(Base):
    __tablename__ = "grants"
    __table_args__ = (
        CheckConstraint("value > 0", name="value_positive"),
        Index("ix_grants_enrolment_status", "enrolment_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(Integer)  # the enrolment's group (a copy for scoping reports)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="RESTRICT"))
    items: Mapped[str] = mapped_column(String(160))
    value: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    given_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[GrantStatus] = mapped_column(value_enum(GrantStatus, "grant_status"), default=GrantStatus.PENDING)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    trade: Mapped[Trade] = relationship()


class Business(Base):
    """A business started by a beneficiary (``enrolment_id``) or by a group (``group_id`` only)."""

    __tablename__ = "businesses"
    __table_args__ = (CheckConstraint("enrolment_id IS NOT NULL OR group_id IS NOT NULL", name="owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"), index=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="RESTRICT"))
    region: Mapped[str | None] = mapped_column(String(80))
    started_on: Mapped[dt.date] = mapped_column(Date)
    # The days it has been going 6 and 12 months (set at the start: portable date arithmetic).
    six_months_on: Mapped[dt.date] = mapped_column(Date)
    twelve_months_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)

    trade: Mapped[Trade] = relationship()


class Trend(str, enum.Enum):
    BETTER = "better"
    SAME = "same"
    WORSE = "worse"
    CLOSED = "closed"


class CheckIn(Base):
    """The monthly check-in: one row per business and month (``month`` is the month's first day).

    A row with no ``trend`` means she was prompted and has not answered yet.
    """

    __tablename__ = "business_checkins"

    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    trend: Mapped[Trend | None] = mapped_column(value_enum(Trend, "business_trend"))
    income_band: Mapped[int | None] = mapped_column(Integer)  # index into the programme's bands
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Award(Base):
    """An incentive award to a business that grows."""

    __tablename__ = "awards"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    awarded_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
