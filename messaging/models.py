"""The outbox: every SMS Kassa will send, written in the same transaction as its cause."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import DateTime, Enum, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from db import Base


class Priority(enum.IntEnum):
    REPLY = 0  # answers to a person who just wrote, receipts
    NOTICE = 1  # loan decisions, reminders, support references
    BULK = 2  # broadcasts


class OutStatus(str, enum.Enum):
    PENDING = "pending"  # written, not yet handed to a provider
    SENDING = "sending"  # claimed by a send job (a crash here is the sweeper's to recover)
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # final: reached the handset
    FAILED = "failed"  # final: the provider or network gave up
    REJECTED = "rejected"  # final: permanent error, never retried (opt-out, invalid number)


FINAL_STATUSES = frozenset({OutStatus.DELIVERED, OutStatus.FAILED, OutStatus.REJECTED})

#: Status precedence: a report may move a message up this ladder, never down,
#: and never out of a final state (provider callbacks race and repeat).
STATUS_RANK = {OutStatus.PENDING: 0, OutStatus.SENDING: 1, OutStatus.SENT: 2,
               OutStatus.DELIVERED: 3, OutStatus.FAILED: 3, OutStatus.REJECTED: 3}


#: ``dedupe_key``: compared byte by byte on PostgreSQL (``COLLATE "C"``), as SQLite
#: always does; a key is ASCII, so the order is the same and the unique index much cheaper.
DEDUPE_KEY = String(120).with_variant(String(120, collation="C"), "postgresql")


class OutboxMessage(Base):
    """One SMS to send: an append-only log, written in bulk by reminders and broadcasts.

    ``member_id`` and ``group_id`` say whom a message was for but are not foreign
    keys: members and groups are never deleted (they change status), and the
    checks were a third of the cost of each reminder written. Nothing reads the
    outbox by member, so there is no index on it; ``provider_id`` is indexed only
    where it is set (a row gets it once sent), for the delivery reports; ``(group_id, id)``
    is indexed for the console's group page (a group's latest SMS, newest first).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_priority", "status", "priority", "id"),
                      Index("ix_outbox_provider_id", "provider_id", postgresql_where=text("provider_id IS NOT NULL"),
                            sqlite_where=text("provider_id IS NOT NULL")),
                      Index("ix_outbox_group_id_id", "group_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    to_phone: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int | None] = mapped_column(Integer)  # members.id (see the class docstring)
    group_id: Mapped[int | None] = mapped_column(Integer)  # groups.id
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    encoding: Mapped[str] = mapped_column(String(8))  # gsm7 | ucs2
    segments: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer, default=Priority.NOTICE)
    kind: Mapped[str] = mapped_column(String(24))  # reply, receipt, reminder, broadcast, notice ...
    dedupe_key: Mapped[str | None] = mapped_column(DEDUPE_KEY, unique=True)  # exactly-once sends
    status: Mapped[OutStatus] = mapped_column(
        Enum(OutStatus, name="out_status", native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]), default=OutStatus.PENDING)
    provider: Mapped[str | None] = mapped_column(String(24))
    provider_id: Mapped[str | None] = mapped_column(String(80))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                    onupdate=func.now())
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    retry_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # backoff: not before


class InStatus(str, enum.Enum):
    RECEIVED = "received"  # stored, command not yet run
    DONE = "done"  # command run (accepted or answered with a refusal)
    FAILED = "failed"  # the command crashed too often; left for a person to look at


class InboxMessage(Base):
    """One inbound SMS, stored before the webhook answers 200.

    ``(provider, provider_message_id)`` is unique: a provider's redelivery
    finds the row already there and changes nothing.
    """

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("provider", "provider_message_id"),
                      Index("ix_inbox_status_id", "status", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(24))
    provider_message_id: Mapped[str] = mapped_column(String(80))
    from_phone: Mapped[str] = mapped_column(String(32), index=True)  # E.164 when it parses
    to: Mapped[str] = mapped_column(String(32), default="")
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[InStatus] = mapped_column(
        Enum(InStatus, name="in_status", native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]), default=InStatus.RECEIVED)
    command: Mapped[str | None] = mapped_column(String(16))  # the command it turned out to be
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class DatabaseIdentity(Base):
    """One row: a random token made when this database was created (or emptied).

    RQ job ids are prefixed with it (``services.job_id``), so a Redis that
    outlives its database (the embedded one after a reset) or serves two
    databases never mistakes an old database's ``send-1`` for a new one's.
    """

    __tablename__ = "database_identity"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    token: Mapped[str] = mapped_column(String(16))
