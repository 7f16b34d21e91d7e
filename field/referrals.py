"""Outside lenders and referrals: a member who needs more than her group can lend.

Lenders are organisations of kind ``lender`` attached to a project as lender
(``ProjectOrganisation.role``); a group's lenders are those of its projects. Each
has branches (name, place, phone, address); a member is sent to the branch
nearest her group in the place tree.

Life of a referral (outside the group's books: no posting, no cash):
``requested`` (she asked over USSD; her chair or coordinator is asked by SMS) ->
``referred`` (confirmed: she gets the branch's contact by SMS) -> ``approved``
(the lender lent) -> ``repaid``; or ``declined`` (by the chair or coordinator,
or by the lender). Staff move it on in the console.

Each loan source may set a condition (``orgs.conditions``): the group's own fund
and each lender (``LoanCondition``). An unknown condition is refused, never met.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.errors import FieldError
from field.models import LenderBranch, LoanCondition, Referral, ReferralStatus
from groups.letters import letters_for
from groups.models import Coordinator, Group, Member, Membership, Role, Status
from groups.service import coordinators_of
from i18n import N_, translator
from messaging.models import Priority
from messaging.outbox import queue_sms
from orgs.conditions import CONDITIONS, NONE, UnknownCondition, require_known
from orgs.models import Organisation, OrgKind, Place, ProjectGroup, ProjectOrganisation
from text.plain import Letters

STATUS_LABELS = {
    ReferralStatus.REQUESTED.value: N_("Waiting for the chair"),
    ReferralStatus.REFERRED.value: N_("Referred"),
    ReferralStatus.APPROVED.value: N_("Loan approved by the lender"),
    ReferralStatus.REPAID.value: N_("Repaid"),
    ReferralStatus.DECLINED.value: N_("Declined"),
}
#: Where staff may move a referral in the console (the chair or coordinator confirms a request).
NEXT = {
    ReferralStatus.REFERRED: (ReferralStatus.APPROVED, ReferralStatus.DECLINED),
    ReferralStatus.APPROVED: (ReferralStatus.REPAID,),
}
#: Counted as referrals made (the project metric): confirmed, whatever the lender did since.
MADE = (ReferralStatus.REFERRED, ReferralStatus.APPROVED, ReferralStatus.REPAID)


def parse_ref(ref: str) -> int | None:
    ref = (ref or "").strip().upper()
    return int(ref[1:]) if ref.startswith("F") and ref[1:].isdigit() else None


# -- lenders and branches ------------------------------------------------------------------

def lenders_for(session: Session, group: Group) -> list[tuple[Organisation, int]]:
    """(lender, project id) for each lender of the group's projects, by name."""
    rows = session.execute(
        select(Organisation, ProjectOrganisation.project_id)
        .join(ProjectOrganisation, ProjectOrganisation.organisation_id == Organisation.id)
        .join(ProjectGroup, ProjectGroup.project_id == ProjectOrganisation.project_id)
        .where(ProjectGroup.group_id == group.id, ProjectOrganisation.role == OrgKind.LENDER,
               Organisation.kind == OrgKind.LENDER)
        .order_by(Organisation.name, ProjectOrganisation.project_id)).all()
    seen: dict[int, tuple[Organisation, int]] = {}
    for org, project_id in rows:
        seen.setdefault(org.id, (org, project_id))
    return list(seen.values())


def add_branch(session: Session, organisation: Organisation, *, name: str, phone: str, address: str = "",
               place_id: int | None = None) -> LenderBranch:
    from groups.phones import PhoneError, normalise_phone

    if organisation.kind != OrgKind.LENDER:
        raise FieldError("not_lender", N_("{name} is not a lender."), name=organisation.name)
    if not (name or "").strip():
        raise FieldError("no_name", N_("Write the branch's name."))
    try:
        e164 = normalise_phone(phone)
    except PhoneError:
        raise FieldError("bad_phone", N_("\"{phone}\" is not a phone number."), phone=phone) from None
    branch = LenderBranch(organisation_id=organisation.id, name=name.strip()[:120], phone=e164,
                          address=(address or "").strip()[:200], place_id=place_id)
    session.add(branch)
    session.flush()
    return branch


def branch_for(session: Session, organisation_id: int, group: Group) -> LenderBranch | None:
    """The lender's branch in the deepest place that holds the group, else its first branch."""
    branches = list(session.scalars(select(LenderBranch).where(LenderBranch.organisation_id == organisation_id)
                                    .order_by(LenderBranch.id)))
    if not branches:
        return None
    group_path = session.scalar(select(Place.path).where(Place.id == group.place_id)) if group.place_id else None
    best, depth = branches[0], -1
    if group_path:
        paths: dict[int | None, str] = dict(session.execute(select(Place.id, Place.path).where(
            Place.id.in_([b.place_id for b in branches if b.place_id]))).all())
        for b in branches:
            path = paths.get(b.place_id)
            if path and group_path.startswith(path) and path.count("/") > depth:
                best, depth = b, path.count("/")
    return best


# -- conditions per loan source -------------------------------------------------------------

def condition_of(session: Session, *, group: Group | None = None, organisation_id: int | None = None) -> str:
    column = LoanCondition.group_id == group.id if group is not None else \
        LoanCondition.organisation_id == organisation_id
    return session.scalar(select(LoanCondition.condition).where(column)) or NONE


def set_condition(session: Session, name: str, *, group: Group | None = None,
                  organisation_id: int | None = None) -> str:
    """Set a loan source's condition; an unregistered name is refused (nothing changes)."""
    try:
        name = require_known(name).name
    except UnknownCondition:
        raise FieldError("unknown_condition", N_("There is no condition called \"{name}\". Known: {known}."),
                         name=name, known=", ".join(sorted(CONDITIONS))) from None
    column = LoanCondition.group_id == group.id if group is not None else \
        LoanCondition.organisation_id == organisation_id
    row = session.scalar(select(LoanCondition).where(column))
    if row is None:
        row = LoanCondition(group_id=group.id if group is not None else None,
                            organisation_id=organisation_id if group is None else None, condition=name)
        session.add(row)
    row.condition = name
    session.flush()
    return name


def check_condition(session: Session, name: str, member_id: int) -> None:
    """Refuse (FieldError) when she does not meet ``name``, or when nobody can check it."""
    try:
        ok = require_known(name).check(session, member_id)
    except UnknownCondition:
        raise FieldError("condition_unknown", N_("This loan needs a condition Kassa cannot check yet. "
                                                 "Ask your coordinator.")) from None
    if not ok:
        label = CONDITIONS[name].label
        raise FieldError("condition_not_met", N_("This loan is only for members who meet: {condition}."),
                         condition=label)


# -- asking, confirming, telling ---------------------------------------------------------------

def _chairs(session: Session, group: Group, borrower_id: int) -> list[Member]:
    return list(session.scalars(select(Member).join(Membership, Membership.member_id == Member.id).where(
        Membership.group_id == group.id, Membership.role == Role.CHAIR, Membership.status == Status.ACTIVE,
        Member.status == Status.ACTIVE, Member.id != borrower_id).order_by(Membership.number)))


def request_referral(session: Session, group: Group, member: Member, organisation_id: int, amount: int, *,
                     key: str, service_code: str = "") -> Referral:
    """She asks to be referred to a lender of her group's projects (idempotent on ``key``); her chair
    and the group's coordinators are asked to confirm by SMS. Refused: not a lender of hers, a
    condition not met, nobody to confirm."""
    done = session.scalar(select(Referral).where(Referral.key == key))
    if done is not None:
        return done
    lenders = {org.id: (org, project_id) for org, project_id in lenders_for(session, group)}
    if organisation_id not in lenders:
        raise FieldError("no_lender", N_("Your group has no outside lender yet."))
    if amount <= 0:
        raise FieldError("amount", N_("the amount must be more than zero"))
    check_condition(session, condition_of(session, organisation_id=organisation_id), member.id)
    chairs, coordinators = _chairs(session, group, member.id), coordinators_of(session, group)
    if not chairs and not coordinators:
        raise FieldError("nobody", N_("Nobody can confirm a referral in your group yet: it has no chair "
                                      "and no coordinator."))
    org, project_id = lenders[organisation_id]
    branch = branch_for(session, organisation_id, group)
    referral = Referral(group_id=group.id, member_id=member.id, organisation_id=org.id, project_id=project_id,
                        branch_id=branch.id if branch else None, amount=amount, key=key,
                        status=ReferralStatus.REQUESTED)
    try:
        with session.begin_nested():
            session.add(referral)
            session.flush()
    except IntegrityError:
        return session.scalar(select(Referral).where(Referral.key == key))  # type: ignore[return-value]
    for chair in chairs:
        t = translator(chair.language)
        # TRANSLATORS: SMS to a group's chair; APPROVE and DECLINE are SMS keywords, keep them;
        # {ref} looks like F12; {lender} is a microfinance institution's name.
        text = t.gettext("Kassa: {name} asks to be sent to {lender} for a loan of {amount} ({ref}). "
                         "Reply APPROVE {ref} or DECLINE {ref}, or dial {code}.", name=member.name,
                         lender=org.name, amount=t.money(amount, group.currency), ref=referral.ref,
                         code=service_code)
        queue_sms(session, to=chair.phone, text=text, language=t.lang, kind="referral", priority=Priority.NOTICE,
                  letters=letters_for(chair, group), member_id=chair.id, group_id=group.id, dedupe_key=f"referral:{referral.ref}:{chair.id}")
    for coordinator in coordinators:
        t = translator(coordinator.language)
        # TRANSLATORS: SMS to an NGO coordinator; APPROVE and DECLINE are SMS keywords, keep them.
        text = t.gettext("Kassa: {name} (group {group}) asks to be sent to {lender} for a loan of {amount}. "
                         "Reply APPROVE {ref} or DECLINE {ref}.", name=member.name, group=group.code,
                         lender=org.name, amount=t.money(amount, group.currency), ref=referral.ref)
        queue_sms(session, to=coordinator.phone, text=text, language=t.lang, kind="referral",
                  letters=Letters.FULL, priority=Priority.NOTICE, group_id=group.id,
                  dedupe_key=f"referral:{referral.ref}:c{coordinator.id}")
    return referral


def may_confirm(session: Session, referral: Referral, *, member: Member | None = None,
                coordinator: Coordinator | None = None) -> bool:
    """The chair of her group (not herself), or a coordinator who follows the group."""
    group = session.get(Group, referral.group_id)
    if group is None:
        return False
    if member is not None:
        return member.id != referral.member_id and any(c.id == member.id for c in _chairs(session, group, 0))
    if coordinator is not None:
        return coordinator.all_groups or any(c.id == coordinator.id for c in coordinators_of(session, group))
    return False


def waiting_for(session: Session, *, member: Member | None = None, coordinator: Coordinator | None = None,
                group: Group | None = None) -> list[Referral]:
    """Requests this chair or coordinator may confirm (in ``group`` when given)."""
    q = select(Referral).where(Referral.status == ReferralStatus.REQUESTED).order_by(Referral.id)
    if group is not None:
        q = q.where(Referral.group_id == group.id)
    rows = list(session.scalars(q.limit(200)))
    return [r for r in rows if may_confirm(session, r, member=member, coordinator=coordinator)]


def decide(session: Session, ref: str, *, approve: bool, member: Member | None = None,
           coordinator: Coordinator | None = None, reason: str = "", now: dt.datetime | None = None) -> Referral:
    """The chair or coordinator confirms (the member gets the branch's contact) or declines."""
    referral_id = parse_ref(ref)
    referral = session.get(Referral, referral_id) if referral_id is not None else None
    if referral is None or not may_confirm(session, referral, member=member, coordinator=coordinator):
        raise FieldError("unknown", N_("There is no referral {ref} for you to decide."), ref=(ref or "")[:20])
    if referral.status != ReferralStatus.REQUESTED:
        raise FieldError("decided", N_("Referral {ref} is already decided."), ref=referral.ref)
    referral.status = ReferralStatus.REFERRED if approve else ReferralStatus.DECLINED
    referral.decided_by_member_id = member.id if member is not None else None
    referral.decided_by_coordinator_id = coordinator.id if coordinator is not None else None
    referral.note = (reason or "")[:200]
    referral.updated_at = now or dt.datetime.now(dt.UTC)
    session.flush()
    tell_member(session, referral)
    return referral


def tell_member(session: Session, referral: Referral) -> None:
    """The member's SMS: the lender's branch contact when referred, else that it was declined."""
    member = session.get(Member, referral.member_id)
    group = session.get(Group, referral.group_id)
    org = session.get(Organisation, referral.organisation_id)
    assert member is not None and group is not None and org is not None
    t = translator(member.language)
    amount = t.money(referral.amount, group.currency)
    if referral.status == ReferralStatus.REFERRED:
        branch = session.get(LenderBranch, referral.branch_id) if referral.branch_id else None
        text = t.gettext("Kassa: you are sent to {lender} for a loan of {amount} ({ref}).", lender=org.name,
                         amount=amount, ref=referral.ref)
        if branch is not None:
            where = ", ".join(x for x in (branch.name, branch.address) if x)
            # TRANSLATORS: labels: the lender's branch (name and address), then its phone number.
            text += " " + t.gettext("Branch: {branch}. Phone: {phone}", branch=where, phone=branch.phone)
    else:
        text = t.gettext("Kassa: your request to be sent to {lender} for {amount} ({ref}) was declined.",
                         lender=org.name, amount=amount, ref=referral.ref)
        if referral.note:
            text += " " + referral.note
    queue_sms(session, to=member.phone, text=text, language=t.lang, kind="referral", priority=Priority.NOTICE,
              letters=letters_for(member, group), member_id=member.id, group_id=group.id,
              dedupe_key=f"referral:{referral.ref}:{referral.status.value}:{member.id}")


def move(session: Session, referral: Referral, status: str, now: dt.datetime | None = None) -> Referral:
    """Staff record what the lender did (console): referred -> approved|declined, approved -> repaid."""
    try:
        target = ReferralStatus(status)
    except ValueError:
        raise FieldError("bad_status", N_("Unknown status \"{status}\"."), status=status) from None
    if target not in NEXT.get(referral.status, ()):
        raise FieldError("bad_move", N_("Referral {ref} cannot move to that status now."), ref=referral.ref)
    referral.status = target
    referral.updated_at = now or dt.datetime.now(dt.UTC)
    session.flush()
    return referral
