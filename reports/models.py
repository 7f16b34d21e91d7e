"""The dashboard's aggregates: figures per group, per group and week, and rolled up.

Kept by :mod:`reports.maintain` as transactions commit; ``flask reports rebuild``
recomputes them from the ledger. Nothing here is the record: every figure can be
rebuilt from the ledger, the groups and the outbox.

- ``report_groups``: one row per group, its figures now (``ledger.figures.Figures``)
  and the key it is rolled up by (region, kind, currency);
- ``report_totals``: the sum of ``report_groups`` per key (an admin's dashboard
  over 300,000 groups reads a few hundred rows, not 300,000);
- ``report_group_weeks`` / ``report_weeks``: how much each figure moved in a week
  (the week of the group's local date at commit; Monday). A figure at the end of
  week W is today's value less the moves of the weeks after W;
- ``report_sms`` / ``report_sms_totals``: SMS the provider accepted, and their
  segments, per calendar month (UTC);
- ``report_rollups`` / ``report_rollup_weeks`` / ``report_rollup_sms``: the same
  totals, weeks and SMS per place subtree and per project (``dim`` 'place' or
  'project', ``ref`` the place's or project's id), still split by region, kind and
  currency: the dashboard's place and project filters read a few rows of these
  instead of every group of a country or a project. A group counts under every
  place of its place's path (itself and each ancestor) and under each of its projects;
  ``report_groups.place_path`` and ``projects`` say where it was counted, so a
  group that moves is taken out of exactly those.

``report_groups`` also keeps what the dashboard's count of groups nobody visited
lately needs: ``last_visit`` (the group's latest field visit day) and ``quiet_on``
(for an active group, the later of the day it was formed, UTC, and its last visit;
NULL for a group that is not active). A group is flagged when ``quiet_on`` is on or
before the cut-off day: an index range count, however many groups there are.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db import Base
from ledger.figures import Figures

FIGURES = Figures.names()


#: One BigInteger column per figure (minor units or counts), 0 by default; ``FIGURES`` order.


class _Figures:
    groups: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    members: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    savings: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    social_fund: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cash_box: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    bank: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    service_charges: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    fines: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    loans_outstanding: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    active_loans: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    overdue_loans: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    par_base: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    par30: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    due_so_far: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    paid_on_time: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    meetings: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


assert [n for n in _Figures.__annotations__] == FIGURES, "the columns follow ledger.figures.Figures"


class _Key:
    region: Mapped[str] = mapped_column(String(80), primary_key=True)  # '' when the group has none
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)


class ReportGroup(_Figures, Base):
    __tablename__ = "report_groups"
    __table_args__ = (Index("ix_report_groups_key", "region", "kind", "currency"),
                      Index("ix_report_groups_refresh_at", "refresh_at"),
                      Index("ix_report_groups_quiet_on", "quiet_on"),
                      Index("ix_report_groups_region_quiet_on", "region", "quiet_on"))

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # groups.id (never deleted)
    region: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    as_of: Mapped[dt.date] = mapped_column(Date)  # the group's local date the figures are for
    # When the date-dependent figures (PAR30, repayment rate) need computing again: the group's
    # next local midnight while it has loans, else NULL.
    refresh_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_visit: Mapped[dt.date | None] = mapped_column(Date)  # the latest field visit's day
    # For an active group: the later of its formation day (UTC) and its last visit; NULL otherwise.
    quiet_on: Mapped[dt.date | None] = mapped_column(Date)
    # Where the group is counted in the rollups: its place's path ('' for none) and its
    # projects' ids as ',3,5,' ('' for none).
    place_path: Mapped[str] = mapped_column(String(400), default="", server_default="")
    projects: Mapped[str] = mapped_column(Text, default="", server_default="")


class ReportGroupWeek(_Figures, Base):
    __tablename__ = "report_group_weeks"

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # a Monday


class ReportTotal(_Key, _Figures, Base):
    __tablename__ = "report_totals"


class ReportWeek(_Key, _Figures, Base):
    __tablename__ = "report_weeks"

    week: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class ReportSms(Base):
    __tablename__ = "report_sms"

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # the 1st
    sent: Mapped[int] = mapped_column(BigInteger, default=0)
    segments: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportSmsTotal(_Key, Base):
    __tablename__ = "report_sms_totals"

    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(BigInteger, default=0)
    segments: Mapped[int] = mapped_column(BigInteger, default=0)


class _Rollup:
    dim: Mapped[str] = mapped_column(String(8), primary_key=True)  # 'place' or 'project'
    ref: Mapped[int] = mapped_column(Integer, primary_key=True)  # places.id or projects.id
    region: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)


class ReportRollup(_Rollup, _Figures, Base):
    __tablename__ = "report_rollups"


class ReportRollupWeek(_Rollup, _Figures, Base):
    __tablename__ = "report_rollup_weeks"

    week: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class ReportRollupSms(_Rollup, Base):
    __tablename__ = "report_rollup_sms"

    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(BigInteger, default=0)
    segments: Mapped[int] = mapped_column(BigInteger, default=0)
