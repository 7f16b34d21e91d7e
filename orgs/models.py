"""Who runs what, where: places, organisations, projects, centres and field staff.

The seeds describe programmes run by several organisations at once (funders,
implementers, partners), over named places in levels (village -> commune ->
district), by centres that cover a set of districts and by field staff on basic
phones. These tables are the shared vocabulary the console, the support desk
and the programme reports filter and roll up by.

Places form a tree. ``Place.path`` is the materialised path of ids
(``/1/7/23/``) so that "everything under this place" is one ``LIKE '/1/7/%'``
on an index, on SQLite and PostgreSQL alike, whatever the depth.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base, value_enum


class PlaceLevel(str, enum.Enum):
    """The levels of the tree, top down (a country may skip one: no commune, say)."""

    COUNTRY = "country"
    REGION = "region"  # region or province
    DISTRICT = "district"
    COMMUNE = "commune"
    VILLAGE = "village"


PLACE_LEVELS = list(PlaceLevel)


class Place(Base):
    """A named place; ``parent`` is the place that contains it."""

    __tablename__ = "places"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_place_parent_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"), index=True)
    level: Mapped[PlaceLevel] = mapped_column(value_enum(PlaceLevel, "place_level"))
    name: Mapped[str] = mapped_column(String(120))
    # An outside code (a statistics office's, a CSV's) to match re-imports on; optional.
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    # "/<root id>/.../<own id>/": set once the row has its id (orgs.places keeps it).
    path: Mapped[str] = mapped_column(String(400), default="", index=True)

    parent: Mapped[Place | None] = relationship(remote_side="Place.id")

    def __repr__(self) -> str:
        return f"<Place {self.level.value} {self.name!r}>"


class OrgKind(str, enum.Enum):
    FUNDER = "funder"
    IMPLEMENTER = "implementer"
    PARTNER = "partner"
    LENDER = "lender"  # a microfinance institution, a bank, a government scheme


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[OrgKind] = mapped_column(value_enum(OrgKind, "org_kind"))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Project(Base):
    """A funded piece of work over a period, in target areas, with targets (people trained, ...)."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    implementer_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    implementer: Mapped[Organisation | None] = relationship()


class ProjectOrganisation(Base):
    """An organisation's part in a project besides the implementer: funder or partner."""

    __tablename__ = "project_organisations"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), primary_key=True, index=True)
    role: Mapped[OrgKind] = mapped_column(value_enum(OrgKind, "project_org_role"), primary_key=True)


class ProjectPlace(Base):
    """A project's target areas (any level of the tree)."""

    __tablename__ = "project_places"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"), primary_key=True,
                                          index=True)


class ProjectTarget(Base):
    """A figure the project promised: ``metric`` names a count the reports compute (``people_trained``)."""

    __tablename__ = "project_targets"
    __table_args__ = (CheckConstraint("target >= 0", name="target_nonnegative"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    target: Mapped[int] = mapped_column(Integer)


class ProjectGroup(Base):
    __tablename__ = "project_groups"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)


class ProjectMember(Base):
    """An individual beneficiary of a project (she may or may not be in a group)."""

    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    enrolled_on: Mapped[dt.date | None] = mapped_column(Date)


class ProjectStaff(Base):
    __tablename__ = "project_staff"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)


class Centre(Base):
    """A community resource centre: answers requests from the districts it covers (seed 002)."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    # Where the centre itself stands.
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"), index=True)
    # A request waiting longer than this many days is highlighted on the desk.
    target_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    place: Mapped[Place | None] = relationship()


class CentrePlace(Base):
    """The places (usually districts) a centre covers."""

    __tablename__ = "centre_places"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"), primary_key=True,
                                          index=True)


class ProjectCentre(Base):
    __tablename__ = "project_centres"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True)


class FieldRole(str, enum.Enum):
    """Field staff on basic phones (seeds 000, 001, 002)."""

    MOBILISER = "mobiliser"
    PROMOTER = "promoter"  # community business promoter
    TRAINER = "trainer"
    COACH = "coach"  # business coach
    CRP = "crp"  # community resource person: a member who mentors other groups


class FieldWorker(Base):
    """Someone in the field who works over SMS/USSD. ``member_id`` when a group member was promoted."""

    __tablename__ = "field_workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(8), default="en")
    role: Mapped[FieldRole] = mapped_column(value_enum(FieldRole, "field_role"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FieldWorkerGroup(Base):
    """The groups a field worker is assigned to."""

    __tablename__ = "field_worker_groups"

    field_worker_id: Mapped[int] = mapped_column(ForeignKey("field_workers.id", ondelete="CASCADE"),
                                                 primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)


class CoordinatorPlace(Base):
    """A coordinator's scope as places: she serves every group under them (the tree's subtree).

    Migrated from ``Coordinator.regions`` (orgs02); the names there are still honoured.
    """

    __tablename__ = "coordinator_places"

    coordinator_id: Mapped[int] = mapped_column(ForeignKey("coordinators.id", ondelete="CASCADE"),
                                                primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"), primary_key=True,
                                          index=True)
