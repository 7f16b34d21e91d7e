"""Programme pages in a real browser (Chromium via Playwright, tests/browser.py): the report with
its filters and masked counts, and recording a training session with its attendance.

``KASSA_SCREENSHOTS=1`` also saves the report's screenshot for the README (docs/programme-report.png).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from console.accounts import create_staff
from programmes.models import Attendance, Enrolment, Programme, TrainingSession
from tests.browser import console_login

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from services import Services
    from tests.browser import LiveServer

ADMIN = ("+254700000001", "correct horse battery")
COORD = ("+254712000099", "coordinator password")  # Joseph Otieno: UPENDO, region Kisumu
DOCS = Path(__file__).resolve().parent.parent / "docs"


def _seed(services: Services, *staff: tuple[str, str, str, str]) -> int:
    from demo.groups import seed_demo
    from programmes.demo import seed_programme_demo
    from tests.test_programmes import _world

    with services.db.transaction() as s:
        seed_demo(s, history=False)
        _world(s)
        demo = seed_programme_demo(s)
        for phone, password, role, name in staff:
            create_staff(s, phone=phone, password=password, role=role, name=name)
        assert demo is not None
        return demo.id


def test_the_programme_report_with_its_filters_and_masked_counts(live_server: LiveServer, page: Page) -> None:
    live = live_server()
    _seed(live.services, (*ADMIN, "admin", "Amina Admin"))
    with live.services.db.transaction() as s:
        pid = s.scalar(select(Programme.id).where(Programme.code == "SEP"))
    console_login(page, live.url, *ADMIN)
    page.click("nav >> text=Programmes")
    page.click("text=Self-employment")
    assert page.locator("#programme-name").inner_text() == "Self-employment"
    head = page.locator("#report-table thead th").all_inner_texts()
    assert head[:4] == ["Region", "Enrolled", "Started training", "Completed training"]
    regions = page.locator("#report-table tbody tr td:first-child").all_inner_texts()
    assert regions == ["Kisumu", "Kitui", "Nakuru", "All"]
    total = page.locator("#report-table tbody tr:last-child td").all_inner_texts()
    assert total[1] == "60"
    page.select_option("#f-by", "category")
    with page.expect_navigation():
        page.click("#report-filters button")
    assert "by=category" in page.url
    keys = page.locator("#report-table tbody tr td:first-child").all_inner_texts()
    assert "No category" in keys and "Internally displaced" in keys
    cells = page.locator("#report-table tbody td.num").all_inner_texts()
    assert all(c in ("<5", "–") or int(c.replace(",", "")) >= 5 for c in cells), cells
    with page.expect_download() as download:
        page.click("a.export[data-format=csv] >> nth=0")
    assert download.value.suggested_filename.startswith("kassa-programme_report-")
    assert page.locator("#trades-table tbody tr").count() == 4
    if os.environ.get("KASSA_SCREENSHOTS"):
        page.select_option("#f-by", "region")
        with page.expect_navigation():
            page.click("#report-filters button")
        page.screenshot(path=str(DOCS / "programme-report.png"))
    assert pid


def test_recording_a_training_session_and_its_attendance(live_server: LiveServer, page: Page) -> None:
    live = live_server()
    pid = _seed(live.services, (*COORD, "coordinator", "Joseph Otieno"))
    console_login(page, live.url, *COORD)
    page.goto(f"{live.url}/console/programmes/{pid}")
    page.click("#new-session")
    page.select_option("#f-course_id", label="Digital literacy")
    page.fill("#f-on", "2026-12-03")
    page.select_option("#f-trainer_id", label="Peter Odhiambo")
    page.fill("#f-venue", "Kondele church hall")
    with page.expect_navigation():
        page.click("#save-session")
    flash = page.locator(".flash").inner_text()
    assert "The trainer records attendance with ATT" in flash
    with live.services.db.transaction() as s:
        ts = s.scalars(select(TrainingSession).order_by(TrainingSession.id.desc()).limit(1)).one()
        sid = ts.id
    assert page.locator("#session-title").inner_text() == f"Session {sid}: Digital literacy"
    page.check("label:has-text('Faith Njeri') input")
    page.check("label:has-text('Esther Mutua') input")
    with page.expect_navigation():
        page.click("#save-attendance")
    assert "2 added, 1 completed the training" in page.locator(".flash").inner_text()
    assert page.locator("label:has-text('Faith Njeri') input").is_checked()
    with live.services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Attendance).where(Attendance.session_id == sid)) == 2
        completed = s.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.programme_id == pid, Enrolment.completed_on.is_not(None)))
    assert completed == 1  # Faith: her last course; Esther has the others still to do
    page.goto(f"{live.url}/console/programmes/{pid}")
    row = page.locator(f"#sessions-table tr:has(a:text-is('{sid}')) td").all_inner_texts()
    assert row[-1] == "2"
