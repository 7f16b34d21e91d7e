"""Tables for broadcasts.

Exactly-once is not kept here but in the outbox: every reminder and every
broadcast message has a ``dedupe_key`` that is unique in the database
(``rem:<kind>:<group>:<date>:<member>``, ``bc:<broadcast>:<member>``), and rows
are written with INSERT ... ON CONFLICT DO NOTHING.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base


class BroadcastStatus(str, enum.Enum):
    DRAFT = "draft"  # previewed, not confirmed
    SENDING = "sending"  # confirmed; fan-out in progress (resumes from ``cursor``)
    DONE = "done"  # every recipient has an outbox row
    CANCELLED = "cancelled"


class Broadcast(Base):
    """A coordinator's announcement to some groups, a region or all her groups.

    The target is kept as a rule (groups, regions, all) and read at fan-out
    time; the fan-out walks the target groups in id order and records the last
    group id done in ``cursor`` in the same transaction as the outbox rows,
    so a killed fan-out resumes with no duplicate and no gap.
    """

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # idempotency: same key, same broadcast
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="RESTRICT"),
                                                          index=True)
    sender: Mapped[str] = mapped_column(String(120))  # shown to members before the message
    message: Mapped[str] = mapped_column(Text)
    all_groups: Mapped[bool] = mapped_column(Boolean, default=False)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    plain: Mapped[bool] = mapped_column(Boolean, default=False)  # force plain letters for everyone
    # Narrower targets (empty: no narrowing): groups of these projects, members speaking these
    # languages, members holding these roles in the target group.
    project_ids: Mapped[list[int]] = mapped_column(JSON, default=list, server_default="[]")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # One text per language, as the composer's author wrote it ({"sw": "...", "en": "..."});
    # a language without its own text gets ``message``.
    messages: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # Who made it in the console (a coordinator's SMS BC has coordinator_id only).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    status: Mapped[BroadcastStatus] = mapped_column(
        Enum(BroadcastStatus, name="broadcast_status", native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]), default=BroadcastStatus.DRAFT)
    recipients: Mapped[int] = mapped_column(Integer, default=0)  # counted at preview
    written: Mapped[int] = mapped_column(Integer, default=0)  # outbox rows written so far
    cursor: Mapped[int] = mapped_column(Integer, default=0)  # last target group id done
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # last batch
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    groups: Mapped[list[BroadcastGroup]] = relationship(cascade="all, delete-orphan")
    texts: Mapped[list[BroadcastText]] = relationship(cascade="all, delete-orphan")


class BroadcastGroup(Base):
    __tablename__ = "broadcast_groups"

    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"), primary_key=True)


class BroadcastText(Base):
    """The broadcast as sent to one language in one letter style, fixed before fan-out."""

    __tablename__ = "broadcast_texts"

    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    plain: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(8))
    segments: Mapped[int] = mapped_column(Integer)
