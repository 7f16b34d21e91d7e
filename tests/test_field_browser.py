"""The field-staff pages in Chromium: add a field worker, give her a group; the unvisited flag."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, text

from console.accounts import create_staff
from field.workers import groups_of
from groups.models import Group
from groups.service import add_member, create_group
from orgs.models import FieldWorker
from tests.browser import console_login

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser import LiveServer

ADMIN = ("+254700000001", "correct horse battery")


def test_admin_adds_a_field_worker_gives_her_a_group_and_sees_the_unvisited_flag(
        live_server: LiveServer, page: Page) -> None:
    live = live_server(VISIT_ALERT_WEEKS=1)
    with live.services.db.transaction() as s:
        create_staff(s, phone=ADMIN[0], password=ADMIN[1], role="admin", name="Amina Admin")
        for code, phone in (("KISA", "+254712140001"), ("KISB", "+254712141001")):
            g = create_group(s, code=code, name=f"Group {code}", kind="shg", currency="KES", country="KE")
            add_member(s, g, phone=phone, name="Treasurer", role="treasurer")
            # Formed long ago: nobody has visited since (VISIT_ALERT_WEEKS=1).
            s.execute(text("UPDATE groups SET created_at = :t WHERE code = :c"), {"t": "2026-01-01 00:00:00", "c": code})
    console_login(page, live.url, *ADMIN)
    page.goto(f"{live.url}/console/field")
    page.fill("#fw-phone", "+254722000100")
    page.fill("#fw-name", "Akinyi Mobiliser")
    page.select_option("#fw-role", "mobiliser")
    with page.expect_navigation():
        page.click("#add-field-worker-button")
    assert page.locator("#worker-name").inner_text().startswith("Akinyi Mobiliser")
    page.check("input[name=group_id] >> nth=0")
    with page.expect_navigation():
        page.click("#save-groups")
    assert page.locator(".flash.info").inner_text() == "Saved."
    with live.services.db.transaction() as s:
        worker = s.scalars(select(FieldWorker)).one()
        assert [g.code for g in groups_of(s, worker)] == ["KISA"]
    page.goto(f"{live.url}/console/")
    assert page.locator("#unvisited-alert").inner_text() == "2 groups not visited lately"
    with page.expect_navigation():
        page.click("#unvisited-alert a")
    assert page.locator("tr.flagged").count() == 2
    page.click("nav >> text=Field staff")
    page.wait_for_selector("#field-workers")
    row = page.locator("#field-workers tbody tr").first.inner_text()
    assert "Akinyi Mobiliser" in row and "Mobiliser" in row and "KISA" in row
    with live.services.db.transaction() as s:
        assert s.scalar(select(Group.id).where(Group.code == "KISB")) is not None
