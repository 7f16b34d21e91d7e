"""First slice: who is calling, and her home menu by role, in her language."""
from __future__ import annotations

from sqlalchemy.orm import Session

from groups.models import Role
from groups.service import find_member, primary_membership
from i18n import N_, translator
from menus.hop import Hop, Reply

#: Home menu items by role, in order. Labels are catalog ids.
HOME_ITEMS: dict[Role, list[str]] = {
    Role.MEMBER: [N_("My savings"), N_("My loan"), N_("Ask for a loan"), N_("Next meeting"),
                  N_("Mini-statement"), N_("Ask for help"), N_("Settings")],
}
HOME_ITEMS[Role.SECRETARY] = HOME_ITEMS[Role.MEMBER]
HOME_ITEMS[Role.TREASURER] = [N_("Today's meeting")] + HOME_ITEMS[Role.MEMBER]
HOME_ITEMS[Role.CHAIR] = [N_("Loan requests")] + HOME_ITEMS[Role.MEMBER]


def home(session: Session, hop: Hop, default_language: str) -> Reply:
    """The caller's home menu, or a polite END when her number is not registered."""
    member = find_member(session, hop.phone)
    membership = primary_membership(session, member) if member else None
    if membership is None:
        t = translator(default_language)
        return Reply(t.gettext("This number is not registered with Kassa. "
                               "Please ask your group's treasurer or coordinator."), end=True)
    t = translator(member.language)
    items = HOME_ITEMS[membership.role]
    lines = [t.gettext("Kassa: {group}", group=membership.group.name)]
    lines += [f"{i}. {t.gettext(label)}" for i, label in enumerate(items, start=1)]
    return Reply("\n".join(lines))
