"""A mobile team's visit schedule, announced to the villages it will visit.

Each planned visit (team, place, day) holds a broadcast to the groups under that
place (``outreach.broadcast``, ``outreach.fanout``: the same fan-out, dedupe keys and resume as a
coordinator's ``BC``), kept as a draft until the plan's ``announce_at``; the
scheduler's ``announce-visits`` task then confirms it. The text is written in
each language (the member reads her own), the day as a label: "Visit: {date}".
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.errors import FieldError
from field.models import PlanStatus, VisitPlan
from groups.models import Group, Status
from i18n import LANGUAGES, N_, translator
from orgs.models import Place
from orgs.places import groups_under
from outreach.broadcast import cancel, confirm
from outreach.models import Broadcast, BroadcastGroup, BroadcastStatus, BroadcastText
from outreach.texts import broadcast_text

if TYPE_CHECKING:
    pass


def announcement(lang: str, team: str, place: str, day: dt.date) -> str:
    """The announcement in ``lang``."""
    t = translator(lang)
    # TRANSLATORS: {team} is a mobile team's name (e.g. "Legal aid"); {place} a village. The day follows as a label.
    first = t.gettext("The {team} team is coming to {place}.", team=team, place=place)
    # TRANSLATORS: a label before the day of the visit.
    return first + " " + t.gettext("Visit: {date}", date=t.date(day))  # weeks ahead: with its month


def plan_visit(session: Session, *, team: str, place_id: int, visit_on: dt.date, announce_at: dt.datetime,
               sender: str, project_id: int | None = None, staff_id: int | None = None,
               today: dt.date | None = None) -> VisitPlan:
    """Plan one visit and its announcement (a draft broadcast to the place's groups)."""
    team = " ".join((team or "").split())[:120]
    if not team:
        raise FieldError("no_team", N_("Write the team's name."))
    place = session.get(Place, place_id)
    if place is None:
        raise FieldError("no_place", N_("Choose a place."))
    if visit_on < (today or dt.date.today()):
        raise FieldError("past", N_("That day has already passed."))
    if announce_at.date() > visit_on:
        raise FieldError("late", N_("The announcement must go before the visit."))
    group_ids = list(session.scalars(select(Group.id).where(Group.status == Status.ACTIVE,
                                                            groups_under(session, [place.id]))))
    if not group_ids:
        raise FieldError("no_groups", N_("No group meets in {place}."), place=place.name)
    plan = VisitPlan(team=team, place_id=place.id, visit_on=visit_on, announce_at=announce_at,
                     status=PlanStatus.PLANNED, project_id=project_id, created_by=staff_id)
    session.add(plan)
    session.flush()
    b = Broadcast(key=f"visitplan:{plan.id}", coordinator_id=None, sender=sender[:120],
                  message=announcement("en", team, place.name, visit_on), all_groups=False, regions=[],
                  plain=False, status=BroadcastStatus.DRAFT)
    b.groups = [BroadcastGroup(group_id=gid) for gid in group_ids]
    b.texts = [_text(lang, plain, sender, announcement(lang, team, place.name, visit_on))
               for lang in LANGUAGES for plain in (False, True)]
    session.add(b)
    session.flush()
    from outreach.broadcast import count_recipients

    b.recipients = count_recipients(session, b)
    plan.broadcast_id = b.id
    session.flush()
    return plan


def _text(lang: str, plain: bool, sender: str, message: str) -> BroadcastText:
    from messaging.outbox import variant
    from text.plain import Letters

    v = variant(broadcast_text(lang, sender, message), Letters.of(plain))
    return BroadcastText(language=lang, plain=plain, text=v.text, encoding=v.encoding, segments=v.segments)


def announce_due(session: Session, now: dt.datetime) -> list[int]:
    """Confirm the broadcasts of plans whose time has come (their fan-out is enqueued after the commit)."""
    due = list(session.scalars(select(VisitPlan).where(VisitPlan.status == PlanStatus.PLANNED,
                                                       VisitPlan.announce_at <= now)
                               .order_by(VisitPlan.id).with_for_update(skip_locked=True).limit(100)))
    done = []
    for plan in due:
        b = session.get(Broadcast, plan.broadcast_id) if plan.broadcast_id else None
        if b is not None:
            confirm(session, b, now)
        plan.status = PlanStatus.ANNOUNCED
        done.append(plan.id)
    session.flush()
    return done


def cancel_plan(session: Session, plan: VisitPlan) -> bool:
    if plan.status != PlanStatus.PLANNED:
        return False
    b = session.get(Broadcast, plan.broadcast_id) if plan.broadcast_id else None
    if b is not None:
        cancel(session, b)
    plan.status = PlanStatus.CANCELLED
    session.flush()
    return True
