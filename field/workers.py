"""Field workers (mobilisers, promoters, trainers, coaches, community resource persons) and their groups.

A field worker works from a basic phone: she is recognised by her number over SMS
(``commands.context.identify``) and USSD (``menus.driver.identify``). A group member
may be promoted to one (a community resource person mentoring other groups): the
worker row then keeps her ``member_id`` and her phone, name and language.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db import on_commit
from field.errors import FieldError
from groups.models import Coordinator, Group, Member, Status
from groups.phones import PhoneError, normalise_phone
from i18n import LANGUAGES, N_
from orgs.models import FieldRole, FieldWorker, FieldWorkerGroup

if TYPE_CHECKING:
    from services import Services

#: Role -> how people read it (console, USSD).
ROLE_LABELS = {
    FieldRole.MOBILISER.value: N_("Mobiliser"),
    FieldRole.PROMOTER.value: N_("Business promoter"),
    FieldRole.TRAINER.value: N_("Trainer"),
    FieldRole.COACH.value: N_("Business coach"),
    FieldRole.CRP.value: N_("Community resource person"),
}


def _role(role: str) -> FieldRole:
    try:
        return FieldRole((role or "").strip().lower())
    except ValueError:
        raise FieldError("bad_role", N_("Unknown field role \"{role}\"."), role=role) from None


def add_worker(session: Session, *, phone: str, name: str, role: str, language: str = "en",
               project_id: int | None = None, member: Member | None = None) -> FieldWorker:
    """A new field worker (flushed). Refused: a bad phone, a phone already a field worker's or a
    coordinator's, an empty name, an unknown role or language."""
    try:
        e164 = normalise_phone(phone)
    except PhoneError:
        raise FieldError("bad_phone", N_("\"{phone}\" is not a phone number."), phone=phone) from None
    if not (name or "").strip():
        raise FieldError("no_name", N_("Write the field worker's name."))
    if language not in LANGUAGES:
        raise FieldError("bad_language", N_("Unknown language \"{language}\"."), language=language)
    kind = _role(role)
    if session.scalar(select(FieldWorker.id).where(FieldWorker.phone == e164)):
        raise FieldError("taken", N_("{phone} is already a field worker."), phone=e164)
    if session.scalar(select(Coordinator.id).where(Coordinator.phone == e164)):
        raise FieldError("coordinator", N_("{phone} is a coordinator's phone."), phone=e164)
    worker = FieldWorker(phone=e164, name=name.strip()[:120], language=language, role=kind,
                         project_id=project_id, member_id=member.id if member is not None else None,
                         active=True)
    session.add(worker)
    session.flush()
    on_commit(session, _forget_caller, e164)  # her next USSD session finds her field work at once
    return worker


def _forget_caller(services: Services, phone: str) -> None:
    from groups.callers import forget_caller

    forget_caller(services.redis, phone)


def promote(session: Session, member: Member, role: str, project_id: int | None = None) -> FieldWorker:
    """Make a group member a field worker (her phone, name and language)."""
    return add_worker(session, phone=member.phone, name=member.name, role=role, language=member.language,
                      project_id=project_id, member=member)


def assign(session: Session, worker: FieldWorker, group_ids: Iterable[int]) -> list[int]:
    """Her groups become exactly ``group_ids`` (unknown ids refused); the ids kept, sorted."""
    wanted = sorted(set(int(g) for g in group_ids))
    found = set(session.scalars(select(Group.id).where(Group.id.in_(wanted)))) if wanted else set()
    missing = [g for g in wanted if g not in found]
    if missing:
        raise FieldError("unknown_group", N_("There is no group {code}."), code=str(missing[0]))
    session.execute(delete(FieldWorkerGroup).where(FieldWorkerGroup.field_worker_id == worker.id))
    session.add_all([FieldWorkerGroup(field_worker_id=worker.id, group_id=g) for g in wanted])
    session.flush()
    return wanted


def worker_by_phone(session: Session, phone: str) -> FieldWorker | None:
    """The active field worker with this (E.164) phone."""
    return session.scalar(select(FieldWorker).where(FieldWorker.phone == phone, FieldWorker.active.is_(True)))


def groups_of(session: Session, worker: FieldWorker | int) -> list[Group]:
    """Her active groups, by code."""
    worker_id = worker if isinstance(worker, int) else worker.id
    return list(session.scalars(select(Group).join(FieldWorkerGroup, FieldWorkerGroup.group_id == Group.id)
                                .where(FieldWorkerGroup.field_worker_id == worker_id,
                                       Group.status == Status.ACTIVE).order_by(Group.code)))
