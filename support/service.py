"""Opening support requests and telling the member and her coordinators. Flushes, never commits."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.letters import letters_for
from groups.models import Coordinator, Group, Member
from groups.service import coordinators_of
from i18n import N_, translator
from messaging.models import Priority
from messaging.outbox import queue_sms
from support.models import Category, SupportRequest, new_ref
from text.plain import Letters

#: Category -> label (catalog id), in menu order.
CATEGORY_LABELS: dict[Category, str] = {
    Category.BUSINESS: N_("Business advice"),
    Category.LEGAL: N_("Legal aid"),
    # TRANSLATORS: someone trained to listen and talk problems through; never a word for mental illness.
    Category.PSYCHOLOGICAL: N_("Counselling"),
    Category.OTHER: N_("Other help"),
}


@dataclass(frozen=True)
class Opened:
    request: SupportRequest
    replayed: bool


def open_request(session: Session, group: Group, member: Member, category: Category, *, key: str) -> Opened:
    """Store a support request and queue the SMS: her reference, and a note to each coordinator.

    Idempotent on ``key``: the same key again returns the first request and sends nothing.
    """
    found = session.scalar(select(SupportRequest).where(SupportRequest.key == key))
    if found is not None:
        return Opened(found, replayed=True)
    from support.centres import centre_for_group

    centre = centre_for_group(session, group)
    request = SupportRequest(ref=new_ref(session), member_id=member.id, group_id=group.id,
                             centre_id=centre.id if centre else None, category=category, key=key)
    session.add(request)
    session.flush()
    _tell_member(session, request, group, member)
    for coordinator in coordinators_of(session, group):
        _tell_coordinator(session, request, group, member, coordinator)
    return Opened(request, replayed=False)


def _tell_member(session: Session, request: SupportRequest, group: Group, member: Member) -> None:
    t = translator(member.language)
    # Never the category (legal aid, psychological support ...): a phone is often shared.
    text = t.gettext("Kassa: your request {ref} is received. A coordinator will call you.", ref=request.ref)
    queue_sms(session, to=member.phone, text=text, language=t.lang, kind="support",
              letters=letters_for(member, group), priority=Priority.NOTICE, member_id=member.id, group_id=group.id,
              dedupe_key=f"support:{request.ref}:member")


def _tell_coordinator(session: Session, request: SupportRequest, group: Group, member: Member,
                      coordinator: Coordinator) -> None:
    t = translator(coordinator.language)
    # TRANSLATORS: SMS to an NGO coordinator; {service} is e.g. "Legal aid"; {group} is the
    # group's short code (as in BC and the CLI), so that long group names keep it in 2 segments.
    text = t.gettext("Kassa support {ref}: {service} for {name} ({phone}), group {group}.",
                     ref=request.ref, service=t.gettext(CATEGORY_LABELS[request.category]),
                     name=member.name, phone=member.phone, group=group.code)
    queue_sms(session, to=coordinator.phone, text=text, language=t.lang, kind="support",
              letters=Letters.FULL, priority=Priority.NOTICE, group_id=group.id,
              dedupe_key=f"support:{request.ref}:coord:{coordinator.id}")
