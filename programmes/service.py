"""Programme rules: enrolment, stages, training attendance and completion, grants, businesses.

Every function takes a SQLAlchemy ``Session`` first and flushes, never commits
(the request or job owns the transaction). The enrolment's milestone dates
(``trained_on``, ``completed_on``, ``equipped_on``, ``confirmed_on``) are
written here and nowhere else, each from the rows that prove it.

Stages move on their own where the data says so: ``mobilised`` on enrolment,
``trained`` when she completes the programme's training, ``financed`` when she
confirms a grant or a loan is paid out to her, ``growing`` when a monthly
check-in says "better" or her business gets an award. Staff may also mark a
stage in the console (``source='console'``).
"""
from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import on_commit
from groups.letters import letters_for
from groups.models import Group, Member, Membership, Status
from i18n import N_, translator
from messaging.models import Priority
from messaging.outbox import queue_sms
from orgs.conditions import condition
from programmes.models import (
    CATEGORIES,
    DEFAULT_STAGES,
    Attendance,
    Award,
    Business,
    CheckIn,
    Completion,
    Course,
    Enrolment,
    Grant,
    GrantStatus,
    MemberCategory,
    Programme,
    ProgrammeGroup,
    ProgrammeTrade,
    StageReached,
    Trade,
    TrainingSession,
    Trend,
)

if TYPE_CHECKING:
    from services import Services

TRADES_CSV = Path(__file__).resolve().parent / "data" / "trades.csv"


class ProgrammeError(Exception):
    """A refused change; ``msgid`` and ``params`` say why (translated where shown)."""

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid)
        self.msgid, self.params = msgid, params

    def text(self, lang: str) -> str:
        return translator(lang).gettext(self.msgid, **{k: str(v) for k, v in self.params.items()})


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(d, day.day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


# -- trades (data) -------------------------------------------------------------------

def load_trades(session: Session, path: Path = TRADES_CSV) -> tuple[int, int]:
    """Load trades from a CSV (``code,name[,name_<lang>...]``) or JSON list; (added, updated)."""
    rows = _read_trades(path)
    known = {t.code: t for t in session.scalars(select(Trade))}
    added = updated = 0
    for row in rows:
        code, name = row["code"].strip(), row["name"].strip()
        names = {k[5:]: v.strip() for k, v in row.items() if k.startswith("name_") and v and v.strip()}
        trade = known.get(code)
        if trade is None:
            session.add(Trade(code=code, name=name, names=names))
            added += 1
        elif (trade.name, trade.names or {}) != (name, names):
            trade.name, trade.names = name, names
            updated += 1
    session.flush()
    return added, updated


def _read_trades(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        import json

        return [dict(r) for r in json.loads(text)]
    return [dict(r) for r in csv.DictReader(text.splitlines()) if r.get("code")]


# -- programmes and enrolment -------------------------------------------------------------

def create_programme(session: Session, *, code: str, name: str, currency: str, project_id: int | None = None,
                     stages: list[str] | None = None, completion_percent: int = 80,
                     trades: Iterable[str] = ()) -> Programme:
    programme = Programme(code=code.strip().upper(), name=name.strip(), currency=currency.upper(),
                          project_id=project_id, stages=list(stages or DEFAULT_STAGES),
                          completion_percent=completion_percent)
    session.add(programme)
    session.flush()
    codes = list(trades)
    if codes:
        for trade in session.scalars(select(Trade).where(Trade.code.in_(codes))):
            session.add(ProgrammeTrade(programme_id=programme.id, trade_id=trade.id))
    session.flush()
    return programme


def programme_trades(session: Session, programme: Programme) -> list[Trade]:
    return list(session.scalars(select(Trade).join(ProgrammeTrade, ProgrammeTrade.trade_id == Trade.id)
                                .where(ProgrammeTrade.programme_id == programme.id).order_by(Trade.name)))


def enrol_group(session: Session, programme: Programme, group: Group, on: dt.date) -> list[Enrolment]:
    """Enrol a group and each of its active members (idempotent)."""
    if session.get(ProgrammeGroup, (programme.id, group.id)) is None:
        session.add(ProgrammeGroup(programme_id=programme.id, group_id=group.id, enrolled_on=on))
    members = session.scalars(select(Member).join(Membership, Membership.member_id == Member.id)
                              .where(Membership.group_id == group.id, Membership.status == Status.ACTIVE)
                              .order_by(Membership.number))
    return [enrol_member(session, programme, m, on, group=group) for m in list(members)]


def enrol_member(session: Session, programme: Programme, member: Member, on: dt.date,
                 group: Group | None = None, region: str | None = None) -> Enrolment:
    """Enrol one beneficiary (idempotent: her existing enrolment is returned); she is mobilised."""
    found = session.scalar(select(Enrolment).where(Enrolment.programme_id == programme.id,
                                                   Enrolment.member_id == member.id))
    if found is not None:
        return found
    enrolment = Enrolment(programme_id=programme.id, member_id=member.id, group_id=group.id if group else None,
                          region=region or (group.region if group else None), enrolled_on=on)
    session.add(enrolment)
    session.flush()
    on_commit(session, _forget_caller, member.phone)  # her next USSD session asks the programme's questions
    reach(session, enrolment, "mobilised", on)
    return enrolment


def reach(session: Session, enrolment: Enrolment, stage: str, on: dt.date, source: str = "auto") -> bool:
    """Record that ``enrolment`` reached ``stage`` (a stage of its programme) on ``on``.

    Idempotent: the first date stays. False when already reached or not one of the programme's stages.
    """
    programme = session.get(Programme, enrolment.programme_id)
    assert programme is not None
    if stage not in (programme.stages or DEFAULT_STAGES):
        return False
    if session.get(StageReached, (enrolment.id, stage)) is not None:
        return False
    session.add(StageReached(enrolment_id=enrolment.id, stage=stage, reached_on=on, source=source,
                             programme_id=enrolment.programme_id, group_id=enrolment.group_id))
    session.flush()
    return True


def enrolments_of(session: Session, member_id: int, programme_id: int | None = None) -> list[Enrolment]:
    q = select(Enrolment).where(Enrolment.member_id == member_id).order_by(Enrolment.id)
    if programme_id is not None:
        q = q.where(Enrolment.programme_id == programme_id)
    return list(session.scalars(q))


def set_categories(session: Session, member: Member, categories: Iterable[str]) -> None:
    """Replace her vulnerability categories (unknown codes are refused)."""
    wanted = set(categories)
    unknown = wanted - set(CATEGORIES)
    if unknown:
        raise ProgrammeError(N_("Unknown category: {category}"), category=sorted(unknown)[0])
    current = {c.category: c for c in session.scalars(select(MemberCategory)
                                                      .where(MemberCategory.member_id == member.id))}
    for code in set(current) - wanted:
        session.delete(current[code])
    for code in wanted - set(current):
        session.add(MemberCategory(member_id=member.id, category=code))
    session.flush()


# -- training ------------------------------------------------------------------------------

def add_course(session: Session, programme: Programme, code: str, name: str, sessions: int,
               required: bool = True) -> Course:
    course = Course(programme_id=programme.id, code=code.strip().upper(), name=name.strip(),
                    sessions=sessions, required=required)
    session.add(course)
    session.flush()
    return course


def add_session(session: Session, course: Course, on: dt.date, *, group_id: int | None = None,
                trainer_id: int | None = None, place_id: int | None = None, venue: str = "") -> TrainingSession:
    ts = TrainingSession(course_id=course.id, on=on, group_id=group_id, trainer_id=trainer_id,
                         place_id=place_id, venue=venue.strip()[:120])
    session.add(ts)
    session.flush()
    return ts


def sessions_needed(course: Course, percent: int) -> int:
    """Sessions she must attend to complete ``course``: ``percent`` of its planned sessions, rounded up."""
    return max(1, math.ceil(course.sessions * percent / 100))


@dataclass
class Marked:
    """What recording attendance did: who was added, who was already there, who completed."""

    added: list[Enrolment]
    already: list[Enrolment]
    completed: list[Enrolment]


def record_attendance(session: Session, ts: TrainingSession, enrolments: Iterable[Enrolment],
                      source: str, notify: bool = True) -> Marked:
    """Mark ``enrolments`` present at ``ts`` (idempotent); completions follow the programme's rule,
    and each woman who completes her training gets an SMS in her language (``notify=False``:
    none, for seeded past data)."""
    course = session.get(Course, ts.course_id)
    assert course is not None
    programme = session.get(Programme, course.programme_id)
    assert programme is not None
    marked = Marked([], [], [])
    for enrolment in enrolments:
        if enrolment.programme_id != programme.id:
            raise ProgrammeError(N_("{name} is not enrolled in this programme."), name=_name(session, enrolment))
        if session.get(Attendance, (ts.id, enrolment.id)) is not None:
            marked.already.append(enrolment)
            continue
        session.add(Attendance(session_id=ts.id, enrolment_id=enrolment.id, source=source))
        session.flush()
        marked.added.append(enrolment)
        if enrolment.trained_on is None or ts.on < enrolment.trained_on:
            enrolment.trained_on = ts.on
        if _check_completion(session, programme, course, enrolment, ts.on, notify):
            marked.completed.append(enrolment)
    session.flush()
    return marked


def _name(session: Session, enrolment: Enrolment) -> str:
    member = session.get(Member, enrolment.member_id)
    return member.name if member else "?"


def _attended(session: Session, course: Course, enrolment: Enrolment) -> int:
    return int(session.scalar(
        select(func.count()).select_from(Attendance)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .where(Attendance.enrolment_id == enrolment.id, TrainingSession.course_id == course.id)) or 0)


def _check_completion(session: Session, programme: Programme, course: Course, enrolment: Enrolment,
                      on: dt.date, notify: bool = True) -> bool:
    """True when this attendance completed her training (every required course of the programme)."""
    if session.get(Completion, (enrolment.id, course.id)) is not None:
        return False
    if _attended(session, course, enrolment) < sessions_needed(course, programme.completion_percent):
        return False
    session.add(Completion(enrolment_id=enrolment.id, course_id=course.id, completed_on=on))
    session.flush()
    required = set(session.scalars(select(Course.id).where(Course.programme_id == programme.id,
                                                           Course.required.is_(True))))
    done = set(session.scalars(select(Completion.course_id).where(Completion.enrolment_id == enrolment.id)))
    if enrolment.completed_on is not None or not required or not required <= done:
        return False
    enrolment.completed_on = on
    reach(session, enrolment, "trained", on)
    if notify:
        _tell_completed(session, programme, enrolment)
    return True


COMPLETED_SMS = N_("Well done, {name}: you have completed the training of {programme}.")


def _tell_completed(session: Session, programme: Programme, enrolment: Enrolment) -> None:
    member = session.get(Member, enrolment.member_id)
    assert member is not None
    t = translator(member.language)
    queue_sms(session, to=member.phone, text=t.gettext(COMPLETED_SMS, name=member.name, programme=programme.name),
              language=member.language, kind="notice", priority=Priority.NOTICE, member_id=member.id,
              group_id=enrolment.group_id, dedupe_key=f"prog:completed:{enrolment.id}",
              letters=letters_for(member, session.get(Group, enrolment.group_id)))


def has_completed_training(session: Session, member_id: int, programme_id: int | None = None) -> bool:
    """Whether she has completed the training of a programme (of ``programme_id``, or of any)."""
    q = select(Enrolment.id).where(Enrolment.member_id == member_id, Enrolment.completed_on.is_not(None))
    if programme_id is not None:
        q = q.where(Enrolment.programme_id == programme_id)
    return session.scalar(q.limit(1)) is not None


@condition("training_completed", N_("Completed the training"))
def _training_completed(session: Session, member_id: int) -> bool:
    """The loan-source condition (orgs.conditions): she has completed a programme's training."""
    return has_completed_training(session, member_id)


# -- the loan rule ------------------------------------------------------------------------------

LOAN_AFTER_TRAINING = N_("You can ask for a loan once you have completed your business training.")


def loan_refusal(session: Session, group: Group, member_id: int) -> str | None:
    """Why she may not ask for a loan under her group's programme rule (a msgid), else None.

    The rule (``Group.loans_after_training``, off by default): only after completing the
    training. The purpose is always a business one: Kassa's loan purposes are business
    categories only (``ledger.LOAN_PURPOSES``), so the request asks it and the ledger
    refuses any other.
    """
    if not group.loans_after_training:
        return None
    return None if has_completed_training(session, member_id) else LOAN_AFTER_TRAINING


def loan_paid_out(session: Session, member_id: int, on: dt.date) -> None:
    """A loan paid out to her finances her: the ``financed`` stage in each of her programmes."""
    for enrolment in enrolments_of(session, member_id):
        reach(session, enrolment, "financed", on)


# -- asset grants --------------------------------------------------------------------------------

def give_grant(session: Session, enrolment: Enrolment, trade: Trade, items: str, value: int,
               on: dt.date) -> Grant:
    """Record a grant of equipment (``value`` in minor units of the programme's currency)."""
    programme = session.get(Programme, enrolment.programme_id)
    assert programme is not None
    if session.get(ProgrammeTrade, (programme.id, trade.id)) is None:
        raise ProgrammeError(N_("{trade} is not one of this programme's trades."), trade=trade.name)
    if value <= 0:
        raise ProgrammeError(N_("The value must be more than zero."))
    if not items.strip():
        raise ProgrammeError(N_("Say what was given."))
    grant = Grant(programme_id=programme.id, enrolment_id=enrolment.id, group_id=enrolment.group_id,
                  trade_id=trade.id, items=items.strip()[:160],
                  value=value, currency=programme.currency, given_on=on)
    session.add(grant)
    if enrolment.equipped_on is None or on < enrolment.equipped_on:
        enrolment.equipped_on = on
    session.flush()
    return grant


def pending_grant(session: Session, member_id: int) -> Grant | None:
    """Her oldest grant she has not answered for (she is asked at the start of a USSD session)."""
    return session.scalar(select(Grant).join(Enrolment, Enrolment.id == Grant.enrolment_id)
                          .where(Enrolment.member_id == member_id, Grant.status == GrantStatus.PENDING)
                          .order_by(Grant.id).limit(1))


def answer_grant(session: Session, grant: Grant, received: bool, now: dt.datetime) -> Grant:
    """Her answer: received (confirmed; she is financed) or not (disputed, flagged). Only a pending
    grant changes; answering twice keeps the first answer."""
    if grant.status != GrantStatus.PENDING:
        return grant
    grant.status = GrantStatus.CONFIRMED if received else GrantStatus.DISPUTED
    grant.answered_at = now
    if received:
        enrolment = session.get(Enrolment, grant.enrolment_id)
        assert enrolment is not None
        day = now.date()
        if enrolment.confirmed_on is None:
            enrolment.confirmed_on = day
        reach(session, enrolment, "financed", day)
    session.flush()
    return grant


# -- businesses ---------------------------------------------------------------------------------

def start_business(session: Session, programme: Programme, trade: Trade, on: dt.date, *,
                   enrolment: Enrolment | None = None, group: Group | None = None) -> Business:
    """A business started by a beneficiary or by a group."""
    if enrolment is None and group is None:
        raise ProgrammeError(N_("A business belongs to a beneficiary or a group."))
    region = enrolment.region if enrolment is not None else group.region if group is not None else None
    business = Business(programme_id=programme.id, enrolment_id=enrolment.id if enrolment else None,
                        group_id=(group.id if group else enrolment.group_id if enrolment else None),
                        trade_id=trade.id, region=region, started_on=on, six_months_on=add_months(on, 6),
                        twelve_months_on=add_months(on, 12))
    session.add(business)
    session.flush()
    return business


def checkin_due(session: Session, member_id: int, today: dt.date) -> Business | None:
    """Her open business with no answer for this month (started before today), if any."""
    month = month_of(today)
    answered = select(CheckIn.business_id).where(CheckIn.month == month, CheckIn.trend.is_not(None))
    return session.scalar(select(Business).join(Enrolment, Enrolment.id == Business.enrolment_id)
                          .where(Enrolment.member_id == member_id, Business.closed_on.is_(None),
                                 Business.started_on < today, Business.id.not_in(answered))
                          .order_by(Business.id).limit(1))


def prompt_once(session: Session, business: Business, today: dt.date) -> bool:
    """True the first time this month (a prompt row is written): she is asked once a month."""
    month = month_of(today)
    if session.get(CheckIn, (business.id, month)) is not None:
        return False
    session.add(CheckIn(business_id=business.id, month=month))
    session.flush()
    return True


def record_checkin(session: Session, business: Business, trend: Trend, band: int | None,
                   now: dt.datetime) -> CheckIn:
    """This month's answer (the last answer in a month counts). "Better" means growing; "closed" closes it."""
    month = month_of(now.date())
    row = session.get(CheckIn, (business.id, month))
    if row is None:
        row = CheckIn(business_id=business.id, month=month)
        session.add(row)
    row.trend, row.income_band, row.answered_at = trend, band, now
    if trend == Trend.CLOSED and business.closed_on is None:
        business.closed_on = now.date()
    if trend == Trend.BETTER and business.enrolment_id is not None:
        enrolment = session.get(Enrolment, business.enrolment_id)
        assert enrolment is not None
        reach(session, enrolment, "growing", now.date())
    session.flush()
    return row


def give_award(session: Session, business: Business, amount: int, on: dt.date, note: str = "") -> Award:
    """An incentive award to a growing business (she is growing)."""
    programme = session.get(Programme, business.programme_id)
    assert programme is not None
    if amount <= 0:
        raise ProgrammeError(N_("The value must be more than zero."))
    award = Award(business_id=business.id, amount=amount, currency=programme.currency, awarded_on=on,
                  note=note.strip())
    session.add(award)
    if business.enrolment_id is not None:
        enrolment = session.get(Enrolment, business.enrolment_id)
        assert enrolment is not None
        reach(session, enrolment, "growing", on)
    session.flush()
    return award


def _forget_caller(services: Services, phone: str | None) -> None:
    if phone:
        from groups.callers import forget_caller

        forget_caller(services.redis, phone)
