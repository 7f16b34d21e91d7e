"""A demo programme for ``flask demo``: Hand in Hand's four steps with the Upendo group (Kisumu).

Courses (the SIYB modules, financial literacy, digital literacy), sessions run by a
trainer, attendance, a grant waiting for Faith's confirmation and a business. Idempotent.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.models import Group, Member
from orgs.models import FieldRole, FieldWorker
from programmes import service
from programmes.models import Course, Enrolment, Programme, Trade

CODE = "HIH-KSM"
TRAINER = ("+254712000050", "Peter Odhiambo")
COURSES = [
    ("GYB", "SIYB: Generate Your Business Idea", 2),
    ("SYB", "SIYB: Start Your Business", 3),
    ("FINLIT", "Financial literacy", 2),
    ("DIGLIT", "Digital literacy", 1),
]
TRADES = ["tailoring", "hairdressing", "bakery", "food_stall", "grocery", "poultry", "dairy", "phone_repair"]


def seed_programme_demo(session: Session, today: dt.date | None = None) -> Programme | None:
    """The demo programme (created once); None when the Upendo demo group is missing."""
    service.load_trades(session)
    found = session.scalar(select(Programme).where(Programme.code == CODE))
    if found is not None:
        return found
    group = session.scalar(select(Group).where(Group.code == "UPENDO"))
    if group is None:
        return None
    today = today or dt.date.today()
    programme = service.create_programme(session, code=CODE, name="Hand in Hand Kisumu", currency=group.currency,
                                         trades=TRADES)
    trainer = session.scalar(select(FieldWorker).where(FieldWorker.phone == TRAINER[0]))
    if trainer is None:
        trainer = FieldWorker(phone=TRAINER[0], name=TRAINER[1], role=FieldRole.TRAINER)
        session.add(trainer)
        session.flush()
    enrolments = service.enrol_group(session, programme, group, today - dt.timedelta(days=60))
    courses = [service.add_course(session, programme, code, name, n) for code, name, n in COURSES]
    _train(session, programme, courses, group, trainer, enrolments, today)
    _equip(session, programme, enrolments, today)
    return programme


def _train(session: Session, programme: Programme, courses: list[Course], group: Group, trainer: FieldWorker,
           enrolments: list[Enrolment], today: dt.date) -> None:
    day = today - dt.timedelta(days=50)
    for course in courses:
        for _ in range(course.sessions):
            ts = service.add_session(session, course, day, group_id=group.id, trainer_id=trainer.id,
                                     venue=group.meeting_place)
            if course.code != "DIGLIT":  # the last course is still to come
                service.record_attendance(session, ts, enrolments[:3], source="console", notify=False)  # the past
            day += dt.timedelta(days=7)


def _equip(session: Session, programme: Programme, enrolments: list[Enrolment], today: dt.date) -> None:
    faith = session.scalar(select(Member).where(Member.phone == "+254712000003"))
    mine = next((e for e in enrolments if faith is not None and e.member_id == faith.id), None)
    if mine is None:
        return
    tailoring = session.scalar(select(Trade).where(Trade.code == "tailoring"))
    assert tailoring is not None
    service.give_grant(session, mine, tailoring, "Sewing machine and fabric", 2500000, today - dt.timedelta(days=3))
    service.start_business(session, programme, tailoring, today - dt.timedelta(days=40), enrolment=mine)
