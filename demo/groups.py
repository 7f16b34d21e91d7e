"""Demo groups in three languages, seeded idempotently by ``flask demo``."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.models import Coordinator, Group, Membership
from groups.service import add_member, create_group, find_member

DEMO_GROUPS: list[dict[str, Any]] = [
    dict(code="BERDE1", name="Özünə Dəstək Qrupu Bərdə", kind="shg", currency="AZN", country="AZ",
         language="az", timezone="Asia/Baku", region="Bərdə", meeting_weekday=3,
         meeting_time=dt.time(15, 0), meeting_place="İcma resurs mərkəzi", saving_amount=500,
         social_fund_amount=100, fine_types={"late": 100, "absent": 200},
         members=[("+994501110001", "Aygün Məmmədova", "treasurer"),
                  ("+994501110002", "Səbinə Əliyeva", "chair"),
                  ("+994501110003", "Nərmin Hüseynova", "member"),
                  ("+994501110004", "Günay Quliyeva", "member"),
                  ("+994501110005", "Lalə Rəhimova", "secretary")]),
    dict(code="BANPHO", name="Nhóm tiết kiệm và vốn vay thôn Bản Phố", kind="vsla", currency="VND",
         country="VN", language="vi", timezone="Asia/Ho_Chi_Minh", region="Lào Cai",
         meeting_weekday=6, meeting_time=dt.time(8, 0), meeting_place="Nhà văn hóa thôn",
         share_value=50000, social_fund_amount=10000, fine_types={"late": 5000, "absent": 10000},
         members=[("+84912000001", "Nguyễn Thị Lan", "treasurer"),
                  ("+84912000002", "Trần Thị Hoa", "chair"),
                  ("+84912000003", "Lê Thị Mai", "member"),
                  ("+84912000004", "Phạm Thị Hương", "member")]),
    dict(code="UPENDO", name="Upendo Women Group", kind="shg", currency="KES", country="KE",
         language="en", timezone="Africa/Nairobi", region="Kisumu", meeting_weekday=1,
         meeting_time=dt.time(14, 0), meeting_place="Kondele church hall", saving_amount=20000,
         social_fund_amount=5000, fine_types={"late": 2000, "absent": 5000},
         members=[("+254712000001", "Grace Wanjiku", "treasurer"),
                  ("+254712000002", "Mary Achieng", "chair"),
                  ("+254712000003", "Faith Njeri", "member"),
                  ("+254712000004", "Esther Mutua", "member")]),
]

DEMO_COORDINATORS: list[dict[str, Any]] = [
    dict(phone="+254712000099", name="Joseph Otieno", organisation="Hand in Hand Kenya",
         language="en", regions=["Kisumu"], groups=["UPENDO"]),
    dict(phone="+994501110099", name="Elvin Qasımov", organisation="İcma resurs mərkəzi",
         language="az", regions=["Bərdə"], groups=["BERDE1"]),
    dict(phone="+84912000099", name="Đỗ Thị Thu", organisation="Hội Liên hiệp Phụ nữ Lào Cai",
         language="vi", regions=["Lào Cai"], groups=["BANPHO"]),
]


def seed_demo(session: Session, *, history: bool = True) -> list[tuple[str, str, str, str]]:
    """Create the demo groups, members and coordinators that are missing, and their past.

    Returns (phone, name, group, role) for every demo person, new or not.
    ``history``: give each group that has no books yet eight weeks of meetings
    (see :mod:`demo.history`).
    """
    people: list[tuple[str, str, str, str]] = []
    for spec in DEMO_GROUPS:
        spec = dict(spec)
        members = spec.pop("members")
        group = session.scalar(select(Group).where(Group.code == spec["code"])) or create_group(session, **spec)
        for phone, name, role in members:
            member = find_member(session, phone)
            if member is None or not session.scalar(select(Membership.id).where(
                    Membership.member_id == member.id, Membership.group_id == group.id)):
                add_member(session, group, phone=phone, name=name, role=role)
            people.append((phone, name, group.name, role))
    for spec in DEMO_COORDINATORS:
        spec = dict(spec)
        codes = spec.pop("groups")
        coord = session.scalar(select(Coordinator).where(Coordinator.phone == spec["phone"]))
        if coord is None:
            coord = Coordinator(**spec)
            coord.groups = [session.execute(select(Group).where(Group.code == c)).scalar_one() for c in codes]
            session.add(coord)
            session.flush()
        people.append((coord.phone, coord.name, ", ".join(codes), "coordinator"))
    if history:
        from demo.history import seed_history

        for spec in DEMO_GROUPS:
            seed_history(session, session.execute(select(Group).where(Group.code == spec["code"])).scalar_one())
    return people


def demo_people(session: Session) -> list[tuple[str, str, str, str]]:
    """(phone, name, group, role) of every demo person that exists; writes nothing."""
    people = []
    for spec in DEMO_GROUPS:
        group = session.scalar(select(Group).where(Group.code == spec["code"]))
        if group is None:
            continue
        for phone, _name, role in spec["members"]:
            member = find_member(session, phone)
            if member is not None:
                people.append((phone, member.name, group.name, role))
    for spec in DEMO_COORDINATORS:
        coord = session.scalar(select(Coordinator).where(Coordinator.phone == spec["phone"]))
        if coord is not None:
            people.append((coord.phone, coord.name, ", ".join(spec["groups"]), "coordinator"))
    return people
