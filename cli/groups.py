"""``flask demo``, ``flask groups create|list``, ``flask members add|import``."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, make_url, select
from sqlalchemy.orm import Session

from cli import services
from console.demo import seed_demo_staff
from demo.groups import seed_demo
from groups.models import Group, Membership
from groups.phones import PhoneError
from groups.service import SetupError, add_member, create_group, get_group, import_members, read_csv
from ledger.money import AmountError, parse_amount

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@click.command("demo")
@click.option("--reset", is_flag=True, help="Empty the whole database and Redis first, then seed (not in production).")
@click.option("--yes", is_flag=True, help="Do not ask before --reset.")
@with_appcontext
def demo(reset: bool, yes: bool) -> None:
    """Seed the demo groups with eight weeks of meetings (idempotent) and print every demo phone."""
    import migrations

    if reset:
        reset_everything(yes)
    migrations.upgrade(services().config.DATABASE_URL)  # a fresh database is migrated first
    with services().db.transaction() as session:
        people = seed_demo(session)
        logins = seed_demo_staff(session)
        from programmes.demo import seed_programme_demo

        seed_programme_demo(session)
    click.echo(f"{'phone':<16} {'name':<22} {'role':<12} group")
    for phone, name, group, role in people:
        click.echo(f"{phone:<16} {name:<22} {role:<12} {group}")
    for phone, password, role, name in logins:
        click.echo(f"console {role}: {phone} / {password} ({name})")


def reset_everything(yes: bool) -> None:
    """Drop every table and migrate again, and empty the Redis database: a fresh start."""
    import migrations

    svc = services()
    if svc.config.production:
        raise click.ClickException("flask demo --reset refuses to run with KASSA_ENV=production")
    if not yes:
        click.confirm(f"Erase every row in {svc.db.engine.url.render_as_string(hide_password=True)} "
                      "and every key in Redis?", abort=True)
    svc.db.dispose()
    url = make_url(svc.config.DATABASE_URL)
    if url.get_backend_name() == "sqlite" and url.database:
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    migrations.recreate(svc.config.DATABASE_URL)
    svc.redis.flushdb()
    click.echo("database and Redis emptied")


groups = AppGroup("groups", help="Create and list savings groups.")


@groups.command("create")
@click.option("--code", required=True, help="Short code used in SMS, e.g. UPENDO.")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["shg", "vsla", "flexible"]), required=True)
@click.option("--currency", required=True, help="ISO 4217, e.g. KES, AZN, VND.")
@click.option("--country", required=True, help="ISO 3166 alpha-2, for phone numbers.")
@click.option("--language", default="en")
@click.option("--timezone", default="UTC", help="IANA name, e.g. Africa/Nairobi.")
@click.option("--region", default=None)
@click.option("--meeting-day", type=click.Choice(WEEKDAYS), default="mon")
@click.option("--meeting-time", default="10:00", help="HH:MM, local time.")
@click.option("--meeting-place", default="")
@click.option("--every-weeks", type=click.IntRange(1, 2), default=1)
@click.option("--saving", default=None, help="SHG: fixed weekly saving, e.g. 200 or 5.50.")
@click.option("--share-value", default=None, help="VSLA: value of one share.")
@click.option("--social-fund", default=None, help="Social fund contribution per meeting.")
@click.option("--share-out-on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="YYYY-MM-DD: the day the cycle ends with a share-out.")
def groups_create(code: str, name: str, kind: str, currency: str, country: str, language: str, timezone: str,
                  region: str | None, meeting_day: str, meeting_time: str, meeting_place: str, every_weeks: int,
                  saving: str | None, share_value: str | None, social_fund: str | None,
                  share_out_on: dt.datetime | None) -> None:
    """Create a savings group."""
    try:
        money = {k: parse_amount(v, currency) for k, v in
                 (("saving_amount", saving), ("share_value", share_value),
                  ("social_fund_amount", social_fund)) if v}
        hh, mm = (int(x) for x in meeting_time.split(":"))
        with services().db.transaction() as session:
            group = create_group(session, code=code, name=name, kind=kind, currency=currency,
                                 country=country, language=language, timezone=timezone,
                                 region=region, meeting_weekday=WEEKDAYS.index(meeting_day),
                                 meeting_time=dt.time(hh, mm), meeting_place=meeting_place,
                                 meeting_every_weeks=every_weeks,
                                 share_out_on=share_out_on.date() if share_out_on else None, **money)
    except (SetupError, AmountError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created group {group.code}: {group.name}")


@groups.command("list")
def groups_list() -> None:
    """List groups with their member counts."""
    with services().db.transaction() as session:
        rows = session.execute(
            select(Group, func.count(Membership.id)).outerjoin(Membership)
            .group_by(Group.id).order_by(Group.code)).all()
        for group, count in rows:
            click.echo(f"{group.code:<10} {group.kind.value:<5} {group.currency} {group.language:<3} "
                       f"{count:>4} members  {group.name}")


members = AppGroup("members", help="Add or import members.")


@members.command("add")
@click.argument("group_code")
@click.argument("phone")
@click.argument("name")
@click.option("--role", type=click.Choice(["member", "treasurer", "chair", "secretary"]), default="member")
@click.option("--language", default=None)
def members_add(group_code: str, phone: str, name: str, role: str, language: str | None) -> None:
    """Add one member to a group (phone parsed with the group's country)."""
    try:
        with services().db.transaction() as session:
            m = add_member(session, get_group(session, group_code), phone=phone, name=name,
                           role=role, language=language)
            click.echo(f"added {m.member.name} ({m.member.phone}) as number {m.number}, {role}")
            _size_note(session, m.group)
    except (SetupError, PhoneError) as exc:
        raise click.ClickException(str(exc)) from None


def _size_note(session: Session, group: Group) -> None:
    from groups.kinds import size_warning
    from i18n import translator

    warning = size_warning(session, group)
    if warning is not None:
        click.echo("warning: " + warning.render(translator("en")), err=True)


@members.command("import")
@click.argument("group_code")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows even if some are bad.")
def members_import(group_code: str, csv_file: Path, skip_bad: bool) -> None:
    """Import members from CSV (phone,name[,role,language,number]); all or nothing."""
    try:
        rows = read_csv(csv_file.read_text(encoding="utf-8-sig"))
    except SetupError as exc:
        raise click.ClickException(str(exc)) from None
    db = services().db
    session = db.sessionmaker()
    try:
        report = import_members(session, get_group(session, group_code), rows, skip_bad=skip_bad)
        for line, reason in report.errors:
            click.echo(f"line {line}: {reason}", err=True)
        if report.committed:
            session.commit()
            click.echo(f"imported {len(report.added)} members into {group_code.upper()}"
                       + (f", skipped {len(report.errors)} bad rows" if report.errors else ""))
        else:
            session.rollback()
            raise click.ClickException(
                f"imported nothing: {len(report.errors)} bad rows (fix them, or use --skip-bad)")
    except SetupError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from None
    finally:
        session.close()
COMMANDS = [demo, groups, members]
