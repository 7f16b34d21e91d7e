"""Setting up groups and their members. Functions flush; the caller commits."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groups.models import Coordinator, CoordinatorGroup, Group, GroupKind, Member, Membership, Role
from groups.phones import PhoneError, normalise_phone
from i18n import LANGUAGES

# Defaults from docs/domain.md: VSLA service charge 10%/month, SHG 2%/month.
SERVICE_CHARGE_DEFAULT_BP = {GroupKind.VSLA: 1000, GroupKind.SHG: 200, GroupKind.FLEXIBLE: 1000}


class SetupError(ValueError):
    """A group or member cannot be created as asked; the message says why (in English,
    for the terminal), ``code`` and ``params`` say it again for a translated answer."""

    def __init__(self, message: str, code: str = "", /, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def create_group(session: Session, *, code: str, name: str, kind: str, currency: str,
                 country: str, language: str = "en", timezone: str = "UTC", **rules: Any) -> Group:
    """Create a group; ``rules`` are any other Group columns (meeting day, amounts...)."""
    code = code.strip().upper()
    if not code.isalnum() or len(code) > 16:
        raise SetupError(f"group code {code!r} must be letters and digits, at most 16", "code_format", code=code)
    if session.scalar(select(Group.id).where(Group.code == code)):
        raise SetupError(f"group code {code} is taken", "code_taken", code=code)
    kind_ = GroupKind(kind)
    _check_language(language)
    _check_timezone(timezone)
    rules.setdefault("service_charge_bp", SERVICE_CHARGE_DEFAULT_BP[kind_])
    group = Group(code=code, name=name, kind=kind_, currency=currency.upper(),
                  country=country.upper(), language=language, timezone=timezone, **rules)
    session.add(group)
    session.flush()
    if group.place_id is None:  # it sits in the place tree: its country, and its region typed as text
        from orgs.places import place_for_region

        group.place_id = place_for_region(session, group.country, group.region).id
        session.flush()
    return group


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise SetupError(f"language {language!r} is not one of {', '.join(LANGUAGES)}", "language",
                         language=language)


def _check_timezone(timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SetupError(f"unknown timezone {timezone!r}", "timezone", timezone=timezone) from None


def get_group(session: Session, code: str) -> Group:
    group = session.scalar(select(Group).where(Group.code == code.strip().upper()))
    if group is None:
        raise SetupError(f"no group with code {code!r}", "no_group", code=code)
    return group


def add_member(session: Session, group: Group, *, phone: str, name: str,
               role: str = "member", language: str | None = None,
               number: int | None = None) -> Membership:
    """Add a person to ``group``; her phone is parsed with the group's country."""
    e164 = normalise_phone(phone, group.country)
    name = name.strip()
    if not name:
        raise SetupError("a member needs a name", "name")
    language = language or group.language
    _check_language(language)
    member = session.scalar(select(Member).where(Member.phone == e164))
    if member is None:
        member = Member(phone=e164, name=name, language=language)
        session.add(member)
        session.flush()
    elif session.scalar(select(Membership.id).where(
            Membership.group_id == group.id, Membership.member_id == member.id)):
        raise SetupError(f"{e164} is already in group {group.code}", "already_member", phone=e164, group=group.code)
    if number is None:
        number = (session.scalar(select(func.max(Membership.number)).where(
            Membership.group_id == group.id)) or 0) + 1
    elif session.scalar(select(Membership.id).where(
            Membership.group_id == group.id, Membership.number == number)):
        raise SetupError(f"member number {number} is taken in group {group.code}", "number_taken",
                         number=number, group=group.code)
    membership = Membership(group=group, member=member, number=number, role=Role(role))
    session.add(membership)
    session.flush()
    return membership


def find_member(session: Session, phone: str) -> Member | None:
    return session.scalar(select(Member).where(Member.phone == phone))


# -- CSV import --------------------------------------------------------------

CSV_COLUMNS = ("phone", "name", "role", "language", "number")


@dataclass
class ImportReport:
    added: list[Membership] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    problems: list[tuple[int, Exception]] = field(default_factory=list)  # the same, as the errors raised
    committed: bool = False


def import_members(session: Session, group: Group, rows: Iterable[dict[str, str]],
                   skip_bad: bool = False, first_line: int = 2) -> ImportReport:
    """Import rows (dicts with CSV_COLUMNS); all-or-nothing unless ``skip_bad``.

    Every bad row is reported with its line number and reason. The caller
    commits only when ``report.committed`` is true (nothing is added otherwise).
    """
    report = ImportReport()
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=first_line):
        try:
            with session.begin_nested():
                report.added.append(_import_row(session, group, row, seen, line))
        except (SetupError, PhoneError, ValueError) as exc:
            report.errors.append((line, str(exc)))
            report.problems.append((line, exc))
    report.committed = skip_bad or not report.errors
    return report


def _import_row(session: Session, group: Group, row: dict[str, str],
                seen: dict[str, int], line: int) -> Membership:
    phone = normalise_phone(row.get("phone") or "", group.country)
    if phone in seen:
        raise SetupError(f"{phone} repeats line {seen[phone]}", "repeat", phone=phone, line=seen[phone])
    seen[phone] = line
    role = (row.get("role") or "member").strip().lower()
    if role not in {r.value for r in Role}:
        raise SetupError(f"role {role!r} is not one of member, treasurer, chair, secretary", "role", role=role)
    number = (row.get("number") or "").strip()
    if number and not number.isdigit():
        raise SetupError(f"member number {number!r} is not a whole number", "number_format", number=number)
    return add_member(session, group, phone=phone, name=row.get("name") or "", role=role,
                      language=(row.get("language") or "").strip() or None,
                      number=int(number) if number else None)


def read_csv(text: str) -> list[dict[str, str]]:
    """Rows of a members CSV (header: phone,name[,role,language,number])."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"phone", "name"} - set(reader.fieldnames or [])
    if missing:
        raise SetupError(f"the CSV header needs the columns {', '.join(sorted(missing))}", "header",
                         columns=", ".join(sorted(missing)))
    return [{k.strip(): (v or "") for k, v in row.items() if k} for row in reader]


def coordinators_of(session: Session, group: Group) -> list[Coordinator]:
    """Who follows ``group``: its own coordinators, else those of its region, else national ones."""
    direct = session.scalars(select(Coordinator).join(CoordinatorGroup).where(
        CoordinatorGroup.group_id == group.id).order_by(Coordinator.id)).all()
    if direct:
        return list(direct)
    if group.region:
        regional = [c for c in session.scalars(select(Coordinator).order_by(Coordinator.id))
                    if group.region in (c.regions or [])]
        if regional:
            return regional
    return list(session.scalars(select(Coordinator).where(
        Coordinator.all_groups.is_(True)).order_by(Coordinator.id)))
