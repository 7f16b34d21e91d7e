"""What the dashboard keeps so that it never scans every group (issue #13, speed), on SQLite and PostgreSQL.

- The count of groups nobody visited lately, read from ``report_groups.quiet_on``
  (``reports.read.count_unvisited`` and the dashboard's own statement), equals the
  straightforward count over the groups and their visits
  (``field.visits.count_unvisited``) after random groups (formed on random days,
  in random regions, some made inactive and active again) and random visits, for
  every cut-off, for an admin and for a coordinator's scope; and again after
  ``flask reports rebuild`` recomputed everything.
- The place and project filters read the rollups (``report_rollups`` and its
  weeks and SMS): after random postings, groups moving between places, groups
  joining projects and SMS sent, each place's and project's figures equal the
  sum of the ledger's own summary (``ledger.group_summary``) over the groups now
  in it, and equal what the per-group rows give for the same groups (trends and
  SMS included); the kept rollups equal the ones the rebuild's statements compute.
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

import ledger
import reports.read
from db import make_engine
from field.models import Visit
from field.visits import count_unvisited as straightforward_count
from field.visits import since_day
from groups.models import Group, Status
from ledger import LedgerError
from ledger.books import group_today
from orgs.models import PlaceLevel, Project, ProjectGroup
from orgs.places import add_place, group_ids_in
from reports.maintain import T_ROLLUP_SMS, T_ROLLUP_WEEKS, T_ROLLUPS, count_sms
from reports.read import Filters, GroupScope, count_all_unvisited, count_unvisited, dashboard
from reports.rebuild import rebuild
from reports.rollups_sql import rollups
from tests.conftest import truncate_all
from tests.ledger_fixtures import key, make_books

REGIONS = ["Kisumu", "Siaya", "Busia"]
SUMMARY_FIELDS = ["members", "savings", "social_fund", "cash_box", "bank", "service_charges", "fines",
                  "loans_outstanding", "active_loans", "overdue_loans"]
_codes = itertools.count(1)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    truncate_all(engine)
    with Session(engine) as s:
        yield s
        s.rollback()
    truncate_all(engine)
    engine.dispose()


# -- the unvisited count ------------------------------------------------------------------------

paths: set[str] = set()


def _check_counts(s: Session, today: dt.date, coordinator_ids: list[int]) -> int:
    """The kept count equals the straightforward one for every cut-off; how many comparisons."""
    checked = 0
    for weeks in (1, 2, 4, 6, 9):
        since = since_day(today, weeks)
        assert count_unvisited(s, None, since) == straightforward_count(s, today, weeks)
        scope = GroupScope(("Kisumu",), group_ids=coordinator_ids or None)
        where = (Group.region == "Kisumu") | Group.id.in_(coordinator_ids or [-1])
        assert count_unvisited(s, scope, since) == straightforward_count(s, today, weeks, where=where)
        # the dashboard's own statement (the count folded into its UNION ALL), on each of its paths:
        # few quiet groups (counted), few seen ones (subtracted from the active), both many (all read)
        for sc in (None, scope):
            assert count_all_unvisited(s, sc, since) == count_unvisited(s, sc, since)
            for cap in (1, 3, 10_000):
                with mock.patch.object(reports.read, "QUIET_CAP", cap):
                    board = dashboard(s, sc, Filters(), today=today, prices={}, quiet_since=since)
                    assert board.unvisited in (None, count_unvisited(s, sc, since))
                    paths.add("counted" if board.unvisited is not None and board.unvisited < cap else
                              "subtracted" if board.unvisited is not None else "all")
        checked += 1
    return checked


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_unvisited_count_equals_the_straightforward_count(session: Session, seed: int) -> None:
    s = session
    rnd = random.Random(seed)
    today = dt.datetime.now(dt.UTC).date()
    groups: list[Group] = []
    visits = itertools.count(1)
    checked = 0
    for step in range(40):
        action = rnd.random()
        if action < 0.35 or len(groups) < 3:  # a group formed some day in the last 12 weeks, at any hour
            n = next(_codes)
            g = make_books(s, f"UV{seed}X{n}", rnd.choice(["shg", "vsla"]), n_members=0,
                           region=rnd.choice(REGIONS)).group
            s.flush()
            g.created_at = (dt.datetime.combine(today - dt.timedelta(days=rnd.randint(0, 84)), dt.time(0), dt.UTC)
                            + dt.timedelta(hours=rnd.choice([0, 1, 12, 23]), minutes=rnd.choice([0, 59])))
            groups.append(g)
        elif action < 0.8:  # a visit some day, to any group (also one not active)
            g = rnd.choice(groups)
            s.add(Visit(group_id=g.id, visited_on=today - dt.timedelta(days=rnd.randint(0, 90)), note="",
                        channel="console", key=f"uv-{seed}-{next(visits)}"))
        elif action < 0.9:
            g = rnd.choice(groups)
            g.status = Status.INACTIVE if g.status == Status.ACTIVE else Status.ACTIVE
        else:
            g = rnd.choice(groups)
            g.region = rnd.choice(REGIONS)
        s.commit()
        if step % 5 == 4:
            linked = [g.id for g in groups if g.region != "Kisumu"][:2]
            checked += _check_counts(s, today, linked)
    # some groups flagged and some not, so the comparison says something
    since = since_day(today, 4)
    assert 0 < count_unvisited(s, None, since) < (s.scalar(select(func.count()).select_from(Group)) or 0)
    rebuild(s, dt.datetime.now(dt.UTC))  # ``flask reports rebuild``: the statements the migration runs too
    s.commit()
    checked += _check_counts(s, today, [g.id for g in groups if g.region != "Kisumu"][:2])
    assert checked >= 40
    assert paths == {"counted", "subtracted", "all"}


# -- the place and project rollups --------------------------------------------------------------

def _subset(s: Session, dim: str, ref: int) -> list[int]:
    stmt = group_ids_in(ref) if dim == "place" else group_ids_in(None, ref)
    return sorted(s.scalars(stmt))


def _ledger_sum(s: Session, ids: list[int]) -> dict[str, dict[str, int]]:
    """Per currency, the sum of the ledger's own summary over these groups."""
    out: dict[str, dict[str, int]] = {}
    for g in s.scalars(select(Group).where(Group.id.in_(ids or [-1]))):
        summary = ledger.group_summary(s, g, today=group_today(g))
        into = out.setdefault(g.currency, dict.fromkeys(SUMMARY_FIELDS, 0))
        for f in SUMMARY_FIELDS:
            into[f] += getattr(summary, f)
    return out


def _figures(board: Any) -> dict[str, dict[str, int]]:
    return {line.currency: {f: getattr(line.figures, f) for f in SUMMARY_FIELDS} for line in board.lines
            if line.figures.groups or any(getattr(line.figures, f) for f in SUMMARY_FIELDS)}


def _view(board: Any) -> tuple[Any, ...]:
    return ([(line.currency, line.figures, line.meetings_4w, line.sms_sent, line.sms_segments)
             for line in board.lines], [(t.currency, t.series) for t in board.trends], board.regions, board.kinds)


def _table(s: Session, table: Any) -> dict[tuple[Any, ...], tuple[int, ...]]:
    keys = [c for c in table.c if c.primary_key]
    values = [c for c in table.c if not c.primary_key]
    rows = {tuple(r[:len(keys)]): tuple(int(v) for v in r[len(keys):])
            for r in s.execute(select(*keys, *values))}
    return {k: v for k, v in rows.items() if any(v)}


def _check_rollups(s: Session, places: list[int], projects: list[int], today: dt.date) -> None:
    for dim, refs in (("place", places), ("project", projects)):
        for ref in refs:
            ids = _subset(s, dim, ref)
            kept = dashboard(s, GroupScope(rollup=(dim, ref), everything=True), Filters(), today=today, prices={})
            per_group = dashboard(s, GroupScope((), group_ids=ids or [-1]), Filters(), today=today, prices={})
            assert _figures(kept) == _ledger_sum(s, ids), (dim, ref)
            assert _view(kept) == _view(per_group), (dim, ref)
            # a coordinator: her region's part of it from the rollup, her one other group by its own row
            mine = sorted(s.scalars(select(Group.id).where(Group.id.in_(ids or [-1]), Group.region != "Kisumu")))[:1]
            coord = dashboard(s, GroupScope(("Kisumu",), group_ids=mine or None, rollup=(dim, ref)), Filters(),
                              today=today, prices={})
            hers = sorted(s.scalars(select(Group.id).where(
                Group.id.in_(ids or [-1]), (Group.region == "Kisumu") | Group.id.in_(mine or [-1]))))
            assert _view(coord) == _view(dashboard(s, GroupScope((), group_ids=hers or [-1]), Filters(),
                                                   today=today, prices={})), (dim, ref, "coordinator")
            for kind in ("shg", "vsla"):
                f = Filters(kind=kind)
                assert _view(dashboard(s, GroupScope(rollup=(dim, ref), everything=True), f, today=today,
                                       prices={})) == _view(dashboard(s, GroupScope((), group_ids=ids or [-1]), f,
                                                                      today=today, prices={}))
    # the kept rollups equal the rebuild's set-wise statements
    before = [_table(s, t) for t in (T_ROLLUPS, T_ROLLUP_WEEKS, T_ROLLUP_SMS)]
    nested = s.begin_nested()
    for stmt in rollups():
        s.execute(text(stmt))
    after = [_table(s, t) for t in (T_ROLLUPS, T_ROLLUP_WEEKS, T_ROLLUP_SMS)]
    nested.rollback()
    assert before == after


def test_place_and_project_rollups_equal_the_ledger_summary(session: Session) -> None:
    s = session
    rnd = random.Random(7)
    country = add_place(s, "Kenya", PlaceLevel.COUNTRY, code="KE")
    regions = {name: add_place(s, name, PlaceLevel.REGION, country) for name in REGIONS}
    districts = [add_place(s, f"{name} {i}", PlaceLevel.DISTRICT, regions[name]) for name in REGIONS
                 for i in (1, 2)]
    leaves = [country, *regions.values(), *districts]
    projects = [Project(code=f"P{i}", name=f"Project {i}") for i in (1, 2)]
    s.add_all(projects)
    s.flush()
    books = []
    for i in range(6):
        b = make_books(s, f"RL{next(_codes)}", "shg" if i % 2 else "vsla", n_members=2, region=REGIONS[i % 3])
        if i % 3 == 2:
            b.group.currency = "INR"
        b.group.place_id = rnd.choice(leaves).id
        books.append(b)
    s.add(ProjectGroup(project_id=projects[0].id, group_id=books[0].group.id))
    s.commit()
    place_ids = [p.id for p in leaves]
    project_ids = [p.id for p in projects]
    today = dt.datetime.now(dt.UTC).date()
    _check_rollups(s, place_ids, project_ids, today)
    for step in range(30):
        b = rnd.choice(books)
        g = b.group
        action = rnd.random()
        if action < 0.45:
            try:
                if action < 0.35:
                    for m in b.everyone[:rnd.randint(1, 3)]:
                        ledger.record_saving(s, g, m, key=key(), actor=b.treasurer)
                elif (amount := ledger.loan_limit(s, g, b.members[0]) // 2) > 0:
                    loan = ledger.request_loan(s, g, b.members[0], amount, purpose="trade", term=4, unit="week",
                                               key=key())
                    ledger.decide_loan(s, g, loan.ref, approve=True, actor=b.chair, key=key())
                    ledger.disburse_loan(s, g, loan.ref, actor=b.treasurer, key=key())
            except LedgerError:
                pass
        elif action < 0.6:  # the group moves to another place (and region, as the console does)
            place = rnd.choice(leaves)
            g.place_id = place.id
            g.region = place.name.split(" ")[0] if place.level != PlaceLevel.COUNTRY else g.region
        elif action < 0.7:
            project = rnd.choice(projects)
            if s.get(ProjectGroup, (project.id, g.id)) is None:
                s.add(ProjectGroup(project_id=project.id, group_id=g.id))
        elif action < 0.85:
            count_sms(s, [(g.id, rnd.randint(1, 3)) for _ in range(rnd.randint(1, 3))], dt.datetime.now(dt.UTC))
        else:
            try:
                ledger.close_meeting(s, g, actor=b.treasurer, on=group_today(g))
            except LedgerError:
                pass
        s.commit()
        if step % 3 == 2:
            _check_rollups(s, place_ids, project_ids, today)
    # every place and project holds some groups, so the comparisons above said something
    assert all(_subset(s, "place", p) for p in (country.id,)) and _subset(s, "project", projects[0].id)
    assert s.scalar(select(func.sum(T_ROLLUPS.c.savings)).where(T_ROLLUPS.c.dim == "place",
                                                               T_ROLLUPS.c.ref == country.id)) > 0
    rebuild(s, dt.datetime.now(dt.UTC))
    s.commit()
    _check_rollups(s, place_ids, project_ids, today)
