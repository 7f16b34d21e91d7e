"""The ledger's tables: accounts, transactions and their legs, meetings, cycles, loans.

Sign convention (pinned in tests): a leg's ``amount`` is positive for a debit
and negative for a credit; every transaction's legs sum to zero. An account's
cached ``balance`` is the signed sum of its legs, so asset accounts (cash box,
bank, loans receivable) are positive and what the group owes or has earned
(member savings, social fund, income) is negative. :func:`ledger.accounts.natural`
turns a signed balance into the number people expect to see.

Nothing here is ever updated except cached totals and status columns, and
nothing is deleted: a correction is a new transaction that ``reverses`` another.
"""
from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base, value_enum


class AccountCode(enum.StrEnum):
    """The chart of accounts of every group; ``per_member`` ones exist once per member."""

    CASH = "cash"  # asset: the cash box
    BANK = "bank"  # asset: bank account or mobile wallet
    LOANS = "loans"  # asset, per member: loan principal she still owes
    SAVINGS = "savings"  # equity, per member: her savings or shares
    SOCIAL = "social"  # equity: the social fund (group-owned, never shared out)
    CHARGES = "charges"  # income: service charges on loans
    FINES = "fines"  # income: fines

    @property
    def per_member(self) -> bool:
        return self in (AccountCode.LOANS, AccountCode.SAVINGS)

    @property
    def normal_sign(self) -> int:
        """+1 for debit-normal accounts (assets), -1 for credit-normal ones."""
        return 1 if self in (AccountCode.CASH, AccountCode.BANK, AccountCode.LOANS) else -1


class TxnKind(enum.StrEnum):
    SAVING = "saving"
    SOCIAL = "social"
    FINE = "fine"
    REPAYMENT = "repayment"
    DISBURSEMENT = "disbursement"
    SOCIAL_PAYOUT = "social_payout"
    TRANSFER = "transfer"
    SHARE_OUT = "share_out"
    REVERSAL = "reversal"
    WITHDRAWAL = "withdrawal"  # a member leaving the group takes her savings out


class LoanStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"
    ACTIVE = "active"  # paid out, being repaid
    CLOSED = "closed"  # fully repaid
    CANCELLED = "cancelled"  # approved, then withdrawn before pay-out (the chair, or the member)
    EXPIRED = "expired"  # approved, never paid out within the group's number of meetings


OPEN_LOAN_STATUSES = (LoanStatus.REQUESTED, LoanStatus.APPROVED, LoanStatus.ACTIVE)


class Cycle(Base):
    """A savings cycle (about a year), ended by a share-out."""

    __tablename__ = "ledger_cycles"
    __table_args__ = (UniqueConstraint("group_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    share_value: Mapped[int] = mapped_column(BigInteger, default=0)  # fixed for the cycle (VSLA)


class Account(Base):
    """One account of a group's chart; ``balance`` caches the signed sum of its legs."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("group_id", "code", "member_key"),
        # The cash box can never hold less than nothing (the posting function checks first).
        CheckConstraint("code <> 'cash' OR balance >= 0", name="cash_not_negative"),
        CheckConstraint("member_key >= 0", name="member_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"))
    code: Mapped[AccountCode] = mapped_column(value_enum(AccountCode, "account_code"))
    # 0 for group accounts, else the member's id (a real column so the unique key holds).
    member_key: Mapped[int] = mapped_column(Integer, default=0)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def label(self) -> str:
        return f"{self.code.value}:{self.member_id}" if self.member_id else self.code.value


class Meeting(Base):
    """A group's meeting on a date; once closed it takes no new postings, only reversals."""

    __tablename__ = "ledger_meetings"
    __table_args__ = (UniqueConstraint("group_id", "on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"))
    on: Mapped[dt.date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))


class LoanAmounts:
    """A loan's arithmetic, shared by the ORM row and the light read model.

    The class using it has ``id``, ``principal``, ``charge``, ``principal_paid``
    and ``charge_paid`` (minor units).
    """

    if TYPE_CHECKING:  # declared by the classes that use it (not mapped here)
        id: int
        principal: int
        charge: int
        principal_paid: int
        charge_paid: int

    @property
    def ref(self) -> str:
        return f"L{self.id}"

    @property
    def total(self) -> int:
        return self.principal + self.charge

    @property
    def paid(self) -> int:
        return self.principal_paid + self.charge_paid

    @property
    def outstanding(self) -> int:
        """What she still owes on this loan: principal and service charge."""
        return self.total - self.paid

    @property
    def principal_outstanding(self) -> int:
        return self.principal - self.principal_paid


class Loan(LoanAmounts, Base):
    """A member's loan from request to close. Principal owed lives in the ledger
    (her loans-receivable account); ``principal_paid``/``charge_paid`` cache the
    repayments posted against this loan (a test checks them against the legs)."""

    __tablename__ = "ledger_loans"
    __table_args__ = (
        CheckConstraint("principal > 0", name="principal_positive"),
        CheckConstraint("term > 0", name="term_positive"),
        CheckConstraint("principal_paid >= 0 AND principal_paid <= principal", name="principal_paid"),
        CheckConstraint("charge_paid >= 0 AND charge_paid <= charge", name="charge_paid"),
        Index("ix_ledger_loans_group_status", "group_id", "status"),
        Index("ix_ledger_loans_member_status", "member_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("ledger_cycles.id", ondelete="RESTRICT"))
    request_key: Mapped[str] = mapped_column(String(160), unique=True)
    decision_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    principal: Mapped[int] = mapped_column(BigInteger)
    charge: Mapped[int] = mapped_column(BigInteger)  # flat service charge for the whole term
    charge_bp: Mapped[int] = mapped_column(Integer)  # per month, as quoted
    purpose: Mapped[str] = mapped_column(String(24))
    term: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(8))  # week | month
    status: Mapped[LoanStatus] = mapped_column(value_enum(LoanStatus, "loan_status"), default=LoanStatus.REQUESTED)
    requested_on: Mapped[dt.date] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    # A coordinator who decided (a group without a chair, or the chair's own loan).
    decided_by_coordinator_id: Mapped[int | None] = mapped_column(
        ForeignKey("coordinators.id", ondelete="RESTRICT"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decline_reason: Mapped[str | None] = mapped_column(String(160))
    disbursed_on: Mapped[dt.date | None] = mapped_column(Date)
    disbursed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    principal_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    charge_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())



class Txn(Base):
    """One balanced transaction. ``idem_key`` is unique: the same key is the same posting.

    ``amount`` is the headline amount people see (always positive); ``balance_after``
    is the member's balance of that kind right after it (the receipt's figure),
    kept so a replay answers exactly what the first posting answered.
    """

    __tablename__ = "ledger_txns"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("reverses_id IS NULL OR kind = 'reversal'", name="reversal_points"),
        Index("ix_ledger_txns_member", "group_id", "member_id", "id"),
        Index("ix_ledger_txns_cycle_member_kind", "cycle_id", "member_id", "kind", "reversed", "amount"),
        Index("ix_ledger_txns_meeting", "meeting_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("ledger_cycles.id", ondelete="RESTRICT"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_meetings.id", ondelete="RESTRICT"))
    idem_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[TxnKind] = mapped_column(value_enum(TxnKind, "txn_kind"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_loans.id", ondelete="RESTRICT"), index=True)
    on: Mapped[dt.date] = mapped_column(Date)  # the business (meeting) date
    amount: Mapped[int] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(BigInteger, default=0)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # accepted outside the group's rule
    memo: Mapped[str | None] = mapped_column(String(160))  # fine type, reason ...
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_txns.id", ondelete="RESTRICT"),
                                                       unique=True)
    reversed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    lines: Mapped[list[Line]] = relationship(back_populates="txn", order_by="Line.id")

    @property
    def ref(self) -> str:
        return f"R{self.id}"


class Line(Base):
    """One leg: ``amount`` minor units on ``account`` (debit positive, credit negative, never zero)."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="not_zero"),
        Index("ix_ledger_lines_account", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    txn_id: Mapped[int] = mapped_column(ForeignKey("ledger_txns.id", ondelete="RESTRICT"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"))
    amount: Mapped[int] = mapped_column(BigInteger)

    txn: Mapped[Txn] = relationship(back_populates="lines")


class Attendance(Base):
    """Who came to a meeting: written when the meeting closes (``ABSENT`` marks before that)."""

    __tablename__ = "ledger_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("ledger_meetings.id", ondelete="RESTRICT"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"), index=True)
    present: Mapped[bool] = mapped_column(Boolean, default=True)


class ShareOutRequest(Base):
    """A share-out the treasurer started: previewed, waiting for her code, maybe held by the chair.

    ``status``: ``pending`` (code valid until ``expires_at``), ``held`` (the chair
    blocked it), ``replaced`` (a newer one was started), ``done`` (``txn_id`` is
    the share-out posting).
    """

    __tablename__ = "ledger_shareout_requests"
    __table_args__ = (Index("ix_ledger_shareout_requests_group", "group_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("ledger_cycles.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8), default="pending")
    started_by_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    # A group without a chair: its coordinator may hold the share-out.
    held_by_coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="RESTRICT"))
    held_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    txn_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_txns.id", ondelete="RESTRICT"))
