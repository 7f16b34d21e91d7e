"""Programmes: the report's counts against the rows behind them, masking, scope, the console pages,
ATT's rules, grants answered "No", the loan rule being off by default, the trades fixture."""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from groups.models import Group, Member
from groups.service import add_member, create_group
from orgs.models import FieldRole, FieldWorker
from programmes import service
from programmes.models import (
    Attendance,
    Business,
    Completion,
    Course,
    Enrolment,
    Grant,
    GrantStatus,
    MemberCategory,
    Programme,
    StageReached,
    Trade,
    TrainingSession,
)
from programmes.reports import HIDDEN, MASKED, mask, mask_column, programme_report
from tests.smskit import at_sms, texts_to
from tests.test_console import ADMIN, COORD, add_staff, login, post, token
from tests.ussd_phone import Phone

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient, FlaskCliRunner
    from sqlalchemy.orm import Session

    from programmes.models import Business
    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp

TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app(CONSOLE_SECURE_COOKIES=False)


def _world(s: Session, seed: int = 7) -> Programme:
    """Five groups in three regions, 60 beneficiaries; attendance, grants, businesses at random."""
    rng = random.Random(seed)
    service.load_trades(s)
    programme = service.create_programme(s, code="SEP", name="Self-employment", currency="KES",
                                         trades=["tailoring", "poultry", "bakery", "welding"])
    courses = [service.add_course(s, programme, "SYB", "Start Your Business", 3),
               service.add_course(s, programme, "FIN", "Financial literacy", 1)]
    trades = list(s.scalars(select(Trade).where(Trade.code.in_(["tailoring", "poultry", "bakery", "welding"]))))
    for g in range(5):
        group = create_group(s, code=f"SEP{g}", name=f"Group {g}", kind="vsla", currency="KES", country="KE",
                             region=["Kisumu", "Nakuru", "Kitui"][g % 3], share_value=10000)
        for n in range(12):
            add_member(s, group, phone=f"+2547222{g:02d}{n:03d}", name=f"Member {g}-{n}",
                       role="treasurer" if n == 0 else "member")
        enrolled = service.enrol_group(s, programme, group, TODAY - dt.timedelta(days=rng.randint(200, 500)))
        for e in enrolled:
            member = s.get_one(Member, e.member_id)
            member.gender = rng.choice(["female", "female", "male", None])
            if rng.random() < 0.3:
                service.set_categories(s, member, rng.sample(["disability", "fallen", "displaced"], rng.randint(1, 2)))
        for course in courses:
            for k in range(course.sessions):
                ts = service.add_session(s, course, TODAY - dt.timedelta(days=180 - 10 * k), group_id=group.id)
                service.record_attendance(s, ts, [e for e in enrolled if rng.random() < 0.8], source="console")
        for e in enrolled:
            if rng.random() < 0.5:
                grant = service.give_grant(s, e, rng.choice(trades), "Kit", rng.randint(1, 9) * 100000,
                                           TODAY - dt.timedelta(days=rng.randint(10, 300)))
                if rng.random() < 0.7:
                    service.answer_grant(s, grant, rng.random() < 0.9, dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
            if rng.random() < 0.4:
                b = service.start_business(s, programme, rng.choice(trades),
                                           TODAY - dt.timedelta(days=rng.randint(30, 500)), enrolment=e)
                if rng.random() < 0.3:
                    b.closed_on = b.started_on + dt.timedelta(days=rng.randint(20, 400))
        if g == 0:
            service.start_business(s, programme, trades[0], TODAY - dt.timedelta(days=400), group=group)
    s.flush()
    return programme


def _rows_behind(s: Session, pid: int, region: str | None = None) -> dict[str, int]:
    """Each figure counted straight from the rows that prove it (not from the enrolment's dates)."""
    enr = select(Enrolment.id).where(Enrolment.programme_id == pid)
    if region is not None:
        enr = enr.where(Enrolment.region == region)
    ids = set(s.scalars(enr))
    required = set(s.scalars(select(Course.id).where(Course.programme_id == pid, Course.required.is_(True))))
    done: dict[int, set[int]] = {}
    for eid, cid in s.execute(select(Completion.enrolment_id, Completion.course_id)):
        done.setdefault(eid, set()).add(cid)
    biz = [b for b in s.scalars(select(Business).where(Business.programme_id == pid))
           if region is None or b.region == region]

    def lasted(b: Business, months: int) -> bool:
        mark = service.add_months(b.started_on, months)
        return mark <= TODAY and (b.closed_on is None or b.closed_on >= mark)
    attended = set(s.scalars(select(Attendance.enrolment_id).distinct()))
    equipped = set(s.scalars(select(Grant.enrolment_id).distinct()))
    confirmed = set(s.scalars(select(Grant.enrolment_id).distinct().where(Grant.status == GrantStatus.CONFIRMED)))
    return dict(enrolled=len(ids), trained=len(ids & attended),
                completed=len({e for e in ids if required <= done.get(e, set())}),
                equipped=len(ids & equipped), confirmed=len(ids & confirmed), started=len(biz),
                active_6m=sum(lasted(b, 6) for b in biz), active_12m=sum(lasted(b, 12) for b in biz))


def test_report_counts_equal_the_rows_behind_them(services: Services) -> None:
    with services.db.transaction() as s:
        pid = _world(s).id
    with services.db.transaction() as s:
        report = programme_report(s, pid, by="region", today=TODAY)
        assert report.total == _rows_behind(s, pid)
        assert report.total["enrolled"] == 60 and 0 < report.total["completed"] < report.total["trained"]
        for region, counts in report.rows:
            assert counts == _rows_behind(s, pid, region), region
        # every breakdown that partitions people adds up to the total
        for by in ("region", "gender", "period"):
            rows = programme_report(s, pid, by=by, today=TODAY).rows
            for metric in ("enrolled", "trained", "completed", "equipped", "confirmed", "started"):
                assert sum(c[metric] for _, c in rows) == report.total[metric], (by, metric)
        women = s.scalar(select(func.count()).select_from(Enrolment).join(Member, Member.id == Enrolment.member_id)
                         .where(Enrolment.programme_id == pid, Member.gender == "female"))
        assert dict(programme_report(s, pid, by="gender", today=TODAY).rows)["Woman"]["enrolled"] == women
        displaced = s.scalar(select(func.count()).select_from(MemberCategory)
                             .where(MemberCategory.category == "displaced"))
        by_cat = dict(programme_report(s, pid, by="category", today=TODAY).rows)
        assert by_cat["Internally displaced"]["enrolled"] == displaced
        reached = dict(s.execute(select(StageReached.stage, func.count()).group_by(StageReached.stage)).all())
        assert report.stages == reached
        grants = s.scalar(select(func.count()).select_from(Grant))
        assert sum(t["grants"] for t in report.trades) == grants
        # a period counts each figure by its own date
        start, end = TODAY - dt.timedelta(days=120), TODAY
        in_period = programme_report(s, pid, start=start, end=end, today=TODAY).total
        assert in_period["equipped"] == s.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.programme_id == pid, Enrolment.equipped_on.between(start, end)))
        assert in_period["trained"] == 0  # every session was 150-180 days ago


def test_masking_hides_small_counts_and_what_would_give_them_away() -> None:
    assert mask_column([12, 3, 40], 55) == ([HIDDEN, MASKED, 40], 55)  # the 3 cannot be found as 55-12-40
    assert mask_column([12, 3, 4, 40], 59) == ([12, MASKED, MASKED, 40], 59)
    assert mask_column([0, 9], 9) == ([MASKED, HIDDEN], 9)
    assert mask_column([3], 3) == ([MASKED], MASKED)
    assert mask_column([7], 7) == ([7], 7)
    assert mask_column([5, 6], 11) == ([5, 6], 11)


def test_masked_report_never_shows_a_count_under_five(services: Services) -> None:
    with services.db.transaction() as s:
        pid = _world(s).id
    with services.db.transaction() as s:
        for by in ("region", "category", "gender", "period"):
            rows, total = mask(programme_report(s, pid, by=by, today=TODAY))
            for _, counts in rows + [("total", total)]:
                assert all(v in (MASKED, HIDDEN) or (isinstance(v, int) and v >= 5) for v in counts.values())
            for metric in total:  # one masked cell per column is never alone
                assert sum(c[metric] == MASKED for _, c in rows) != 1 or any(c[metric] == HIDDEN for _, c in rows)


# -- the console ------------------------------------------------------------------------------

@pytest.fixture
def programme_world(services: Services, demo: DemoPeople) -> dict[str, int]:
    """The demo's Upendo group enrolled with two more groups, Faith with a category."""
    with services.db.transaction() as s:
        pid = _world(s).id
        upendo = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        programme = s.get_one(Programme, pid)
        service.enrol_group(s, programme, upendo, TODAY)
        faith = s.scalars(select(Member).where(Member.phone == "+254712000003")).one()
        service.set_categories(s, faith, ["displaced"])
        trainer = FieldWorker(phone="+254712000050", name="Peter Trainer", role=FieldRole.TRAINER)
        s.add(trainer)
        s.flush()
        course = s.scalars(select(Course).where(Course.programme_id == pid, Course.code == "FIN")).one()
        ts = service.add_session(s, course, TODAY, group_id=upendo.id, trainer_id=trainer.id)
        return dict(pid=pid, session=ts.id, upendo=upendo.id)


def test_admin_sees_the_report_categories_per_person_and_exports(
        client: FlaskClient, services: Services, programme_world: dict[str, int]) -> None:
    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    login(client, *ADMIN)
    pid = programme_world["pid"]
    html = client.get(f"/console/programmes/{pid}?by=category").get_data(as_text=True)
    assert "Internally displaced" in html and 'id="report-table"' in html and "&lt;5" in html
    people = client.get(f"/console/programmes/{pid}/beneficiaries").get_data(as_text=True)
    assert "Category" in people and "Faith Njeri" not in people  # first page: the 60 enrolled first
    rows = list(csv.reader(io.StringIO(client.get(
        f"/console/export/programme_beneficiaries.csv?programme_id={pid}").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][-1] == "Category"
    assert [r for r in rows if r[0] == "Faith Njeri"][0][-1] == "Internally displaced"
    report = list(csv.reader(io.StringIO(client.get(
        f"/console/export/programme_report.csv?programme_id={pid}&by=region").get_data(as_text=True).lstrip("\ufeff"))))
    assert report[0][:3] == ["Region", "Enrolled", "Started training"] and report[-1][0] == "All"
    xlsx = client.get(f"/console/export/programme_report.xlsx?programme_id={pid}&by=gender")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_coordinator_sees_her_groups_only_and_never_a_persons_category(
        client: FlaskClient, services: Services, programme_world: dict[str, int]) -> None:
    add_staff(services, *COORD, "coordinator", name="Joseph Otieno")  # Upendo, region Kisumu
    login(client, *COORD)
    pid = programme_world["pid"]
    people = client.get(f"/console/export/programme_beneficiaries.csv?programme_id={pid}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(people.lstrip("\ufeff"))))
    assert "Category" not in rows[0] and "displaced" not in people.lower()
    with services.db.transaction() as s:
        kisumu = s.scalar(select(func.count()).select_from(Enrolment).join(Group, Group.id == Enrolment.group_id)
                          .where(Enrolment.programme_id == pid, Group.region == "Kisumu"))
    assert len(rows) - 1 == kisumu and all(r[3] == "Kisumu" for r in rows[1:])
    html = client.get(f"/console/programmes/{pid}/beneficiaries").get_data(as_text=True)
    assert "Internally displaced" not in html
    report = list(csv.reader(io.StringIO(client.get(
        f"/console/export/programme_report.csv?programme_id={pid}").get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[0] for r in report[1:]] == ["Kisumu", "All"]


def test_attendance_in_the_console_is_recorded_once_and_audited(
        client: FlaskClient, services: Services, programme_world: dict[str, int]) -> None:
    add_staff(services, *COORD, "coordinator", name="Joseph Otieno")
    login(client, *COORD)
    pid, sid = programme_world["pid"], programme_world["session"]
    page = f"/console/programmes/{pid}/sessions/{sid}"
    html = client.get(page).get_data(as_text=True)
    assert "3. Faith Njeri" in html and f"ATT {sid}" in html
    with services.db.transaction() as s:
        ids = [e.id for e in s.scalars(select(Enrolment).where(Enrolment.programme_id == pid,
                                                               Enrolment.group_id == programme_world["upendo"]))]
    r = client.post(page, data={"present": [str(i) for i in ids[:2]], "csrf_token": token(client, page)})
    assert r.status_code == 303
    again = client.post(page, data={"present": [str(ids[0])], "csrf_token": token(client, page)})
    assert again.status_code == 303
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Attendance).where(Attendance.session_id == sid)) == 2
    assert client.post(page, data={"present": ["999999"], "csrf_token": token(client, page)}).status_code == 400
    assert client.post(page, data={"present": [str(ids[2])]}).status_code == 400  # no CSRF token


def test_new_session_form_checks_its_fields(client: FlaskClient, services: Services,
                                            programme_world: dict[str, int]) -> None:
    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    login(client, *ADMIN)
    pid = programme_world["pid"]
    path = f"/console/programmes/{pid}/sessions/new"
    bad = post(client, path, {"course_id": "x", "group_id": "", "on": "yesterday"}, page=path)
    assert bad.status_code == 400 and "Write the date as YYYY-MM-DD." in bad.get_data(as_text=True)
    with services.db.transaction() as s:
        course = s.scalar(select(Course.id).where(Course.programme_id == pid, Course.code == "SYB"))
    ok = post(client, path, {"course_id": str(course), "group_id": str(programme_world["upendo"]),
                             "on": "2026-12-02", "venue": "Hall"}, page=path)
    assert ok.status_code == 303
    with services.db.transaction() as s:
        ts = s.scalars(select(TrainingSession).order_by(TrainingSession.id.desc()).limit(1)).one()
        assert (ts.on, ts.venue, ts.group_id) == (dt.date(2026, 12, 2), "Hall", programme_world["upendo"])


def test_a_coordinator_of_another_region_cannot_see_the_programme_page(
        client: FlaskClient, services: Services, programme_world: dict[str, int]) -> None:
    with services.db.transaction() as s:
        from groups.models import Coordinator

        s.add(Coordinator(phone="+994501110098", name="Other", regions=["Bərdə"]))
    add_staff(services, "+994501110098", "other password", "coordinator", name="Other")
    login(client, "+994501110098", "other password")
    assert client.get(f"/console/programmes/{programme_world['pid']}").status_code == 404
    assert client.get(f"/console/export/programme_report.csv?programme_id={programme_world['pid']}").status_code == 404


# -- ATT, grants, the loan rule, trades ---------------------------------------------------------------

def test_att_from_a_coordinator_of_the_group_and_not_from_another(
        client: FlaskClient, services: Services, programme_world: dict[str, int]) -> None:
    sid = programme_world["session"]
    at_sms(client, "+254712000099", f"ATT {sid} 3 4")  # Joseph: Upendo is his
    assert texts_to(services, "+254712000099")[-1].startswith(f"Session {sid} (Financial literacy): 2 recorded")
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Attendance).where(Attendance.session_id == sid)) == 2
    at_sms(client, "+994501110099", f"ATT {sid} 1")  # Elvin coordinates Bərdə only
    refusal = texts_to(services, "+994501110099")[-1]
    assert str(sid) in refusal and "Only the session" not in refusal  # in his language (az)
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Attendance).where(Attendance.session_id == sid)) == 2


def test_a_grant_she_says_did_not_arrive_is_disputed_and_flagged(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        service.load_trades(s)
        programme = service.create_programme(s, code="P", name="P", currency="KES", trades=["poultry"])
        upendo = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        (e, *_) = [x for x in service.enrol_group(s, programme, upendo, TODAY)
                   if s.get_one(Member, x.member_id).phone == "+254712000003"]
        trade = s.scalars(select(Trade).where(Trade.code == "poultry")).one()
        service.give_grant(s, e, trade, "50 chicks", 1200000, TODAY)
    faith = Phone(client, "+254712000003")
    assert faith.dial().startswith("CON Did you receive 50 chicks (KES 12,000)?")
    assert faith.send("2").startswith("CON Thank you. The programme will look into it.\n")
    with services.db.transaction() as s:
        assert s.scalar(select(Grant.status)) == GrantStatus.DISPUTED
        assert programme_report(s, programme.id).total["confirmed"] == 0
    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    login(client, *ADMIN)
    html = client.get(f"/console/programmes/{programme.id}").get_data(as_text=True)
    assert "She says it did not arrive" in html and "50 chicks" in html


def test_without_the_group_rule_a_loan_needs_no_training(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    from tests.test_ussd import give_pin

    give_pin(services, "+254712000003")
    faith = Phone(client, "+254712000003")
    faith.dial()
    assert "completed your business training" not in faith.choose("Ask for a loan")
    with services.db.transaction() as s:
        upendo = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        assert upendo.loans_after_training is False


def test_trades_load_from_the_fixture_idempotently(runner: FlaskCliRunner, services: Services) -> None:
    first = runner.invoke(args=["programmes", "trades"])
    assert first.output.strip() == "trades: 26 added, 0 updated"
    assert runner.invoke(args=["programmes", "trades"]).output.strip() == "trades: 0 added, 0 updated"
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Trade)) == 26


def test_project_actuals_count_the_programmes_of_the_project(services: Services) -> None:
    from orgs.metrics import METRICS
    from orgs.models import Project

    with services.db.transaction() as s:
        programme = _world(s)
        project = Project(code="SEP-2026", name="Self-employment 2026")
        s.add(project)
        s.flush()
        programme.project_id = project.id
        s.flush()
        report = programme_report(s, programme.id, today=TODAY).total
        assert METRICS["people_enrolled"].count(s, project.id, None) == report["enrolled"] == 60
        assert METRICS["people_trained"].count(s, project.id, None) == report["completed"]
        assert METRICS["equipped"].count(s, project.id, None) == report["equipped"]
        assert METRICS["businesses_started"].count(s, project.id, None) == report["started"]
        assert METRICS["people_trained"].count(s, project.id + 1, None) == 0


def test_a_stage_marked_in_the_console_is_kept_once_and_audited(
        client: FlaskClient, services: Services, programme_world: dict[str, int]) -> None:
    from console.models import AuditEntry

    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    login(client, *ADMIN)
    pid = programme_world["pid"]
    with services.db.transaction() as s:
        e = s.scalars(select(Enrolment).where(Enrolment.programme_id == pid).order_by(Enrolment.id).limit(1)).one()
        eid = e.id
    page = f"/console/programmes/{pid}/beneficiaries"
    path = f"/console/programmes/{pid}/beneficiaries/{eid}/stage"
    assert post(client, path, {"stage": "growing"}, page=page).status_code == 303
    assert post(client, path, {"stage": "growing"}, page=page).status_code == 303
    assert post(client, path, {"stage": "rich"}, page=page).status_code == 404
    with services.db.transaction() as s:
        row = s.get(StageReached, (eid, "growing"))
        assert row is not None and row.source == "console"
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "programme.stage")) == 1


def test_grant_business_award_and_enrolment_from_the_console(
        client: FlaskClient, services: Services, programme_world: dict[str, int]) -> None:
    from programmes.models import Award

    add_staff(services, *COORD, "coordinator", name="Joseph Otieno")
    login(client, *COORD)
    pid = programme_world["pid"]
    with services.db.transaction() as s:
        faith = s.scalars(select(Member).where(Member.phone == "+254712000003")).one()
        eid = s.scalar(select(Enrolment.id).where(Enrolment.programme_id == pid, Enrolment.member_id == faith.id))
        trade = s.scalar(select(Trade.id).where(Trade.code == "poultry"))
    page = f"/console/programmes/{pid}/beneficiaries/{eid}"
    html = client.get(page).get_data(as_text=True)
    assert "Faith Njeri" in html and "Internally displaced" not in html  # a coordinator: no category
    assert post(client, page + "/grants", {"trade_id": str(trade), "items": "30 hens", "value": "12,000",
                                           "on": "2026-11-20"}, page=page).status_code == 303
    assert post(client, page + "/grants", {"trade_id": str(trade), "items": "x", "value": "-5",
                                           "on": "2026-11-20"}, page=page).status_code == 303
    assert post(client, page + "/businesses", {"trade_id": str(trade), "on": "2026-11-21"}, page=page).status_code == 303
    with services.db.transaction() as s:
        (grant,) = s.scalars(select(Grant).where(Grant.enrolment_id == eid))
        assert (grant.items, grant.value, grant.status) == ("30 hens", 1200000, GrantStatus.PENDING)
        business = s.scalars(select(Business).where(Business.enrolment_id == eid)).one()
    assert post(client, f"{page}/businesses/{business.id}/awards", {"amount": "5000", "on": "2026-11-29"},
                page=page).status_code == 303
    with services.db.transaction() as s:
        assert s.scalar(select(Award.amount)) == 500000
        assert s.get(StageReached, (eid, "growing")) is not None
    assert "Internally displaced" not in client.get(page).get_data(as_text=True)
    other = post(client, f"/console/programmes/{pid}/groups", {"code": "BERDE1"}, page=page)  # not his
    assert other.status_code == 303
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Enrolment).join(Group, Group.id == Enrolment.group_id)
                        .where(Group.code == "BERDE1")) == 0


def test_the_loan_rule_is_set_on_the_group_form(client: FlaskClient, services: Services,
                                                demo: DemoPeople) -> None:
    from console.groups import _form_values

    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    login(client, *ADMIN)
    with services.db.transaction() as s:
        upendo = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        form, gid = _form_values(upendo), upendo.id
    path = f"/console/groups/{gid}/edit"
    assert 'name="loans_after_training"' in client.get(path).get_data(as_text=True)
    assert post(client, path, {**form, "loans_after_training": "1"}, page=path).status_code == 303
    with services.db.transaction() as s:
        assert s.get_one(Group, gid).loans_after_training is True
    assert post(client, path, {**form, "loans_after_training": ""}, page=path).status_code == 303
    with services.db.transaction() as s:
        assert s.get_one(Group, gid).loans_after_training is False


def test_a_lender_may_require_completed_training(services: Services) -> None:
    """The programmes register the ``training_completed`` loan-source condition (orgs.conditions)."""
    from orgs.conditions import met, require_known
    from programmes.models import Enrolment

    with services.db.transaction() as s:
        _world(s)
        assert require_known("training_completed").label == "Completed the training"
        done = s.scalars(select(Enrolment).where(Enrolment.completed_on.is_not(None))).all()
        not_done = s.scalars(select(Enrolment).where(Enrolment.completed_on.is_(None))).all()
        assert done and not_done
        assert all(met(s, "training_completed", e.member_id) for e in done)
        assert not any(met(s, "training_completed", e.member_id) for e in not_done)
