"""The console in a real browser (Chromium driven by Playwright): see tests/browser.py."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.accounts import create_staff
from tests.browser import console_login

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Page

    from console.models import Staff
    from services import Services
    from tests.browser import LiveServer

ADMIN = ("+254700000001", "correct horse battery")


def add_staff(services: Services, phone: str = ADMIN[0], password: str = ADMIN[1], role: str = "admin",
              name: str = "Amina Admin", **kw: Any) -> Staff:
    with services.db.transaction() as s:
        return create_staff(s, phone=phone, password=password, role=role, name=name, **kw)


def test_log_in_and_out(live_server: LiveServer, page: Page) -> None:
    live = live_server()
    add_staff(live.services)
    page.goto(f"{live.url}/console/")
    assert "/console/login" in page.url  # not logged in: to the login page
    console_login(page, live.url, *ADMIN)
    assert page.url.rstrip("/").endswith("/console")
    assert page.locator(".who").inner_text() == "Amina Admin"
    with page.expect_navigation():
        page.click("#logout")
    assert "/console/login" in page.url
    page.goto(f"{live.url}/console/")
    assert "/console/login" in page.url  # the session is gone


def test_wrong_password_then_the_lock(live_server: LiveServer, page: Page) -> None:
    live = live_server(CONSOLE_LOGIN_LIMIT="3 per 15 minutes")
    add_staff(live.services)
    for _ in range(3):
        console_login(page, live.url, ADMIN[0], "wrong password!")
        assert page.locator(".flash.error").inner_text() == "Wrong phone number or password."
    console_login(page, live.url, *ADMIN)  # the right password, but the account is locked now
    assert "/console/login" in page.url
    assert "locked" in page.locator(".flash.error").inner_text()
    page.goto(f"{live.url}/console/")
    assert "/console/login" in page.url


COORD = ("+254712000099", "coordinator password")  # Joseph Otieno in the demo: UPENDO, region Kisumu


def _group_id(services: Services, code: str) -> int:
    from sqlalchemy import select

    from groups.models import Group

    with services.db.transaction() as s:
        return s.scalars(select(Group.id).where(Group.code == code)).one()


def _members(services: Services, gid: int) -> int:
    from sqlalchemy import func, select

    from groups.models import Membership

    with services.db.transaction() as s:
        return s.scalars(select(func.count(Membership.id)).where(Membership.group_id == gid)).one()


def _seed_demo(services: Services) -> None:
    from demo.groups import seed_demo

    with services.db.transaction() as s:
        seed_demo(s)


def test_a_coordinator_cannot_open_another_coordinators_group(live_server: LiveServer, page: Page) -> None:
    live = live_server()
    _seed_demo(live.services)
    add_staff(live.services, *COORD, role="coordinator", name="Joseph Otieno")
    console_login(page, live.url, *COORD)
    page.click("nav >> text=Groups")
    assert page.locator("#groups-table tbody tr").count() == 1
    assert "UPENDO" in page.locator("#groups-table").inner_text()
    response = page.goto(f"{live.url}/console/groups/{_group_id(live.services, 'BERDE1')}")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    response = page.goto(f"{live.url}/console/groups/{_group_id(live.services, 'UPENDO')}")
    assert response is not None and response.status == 200 and "Upendo Women Group" in page.locator("#group-name").inner_text()


def test_a_form_posted_without_its_csrf_token_is_refused(live_server: LiveServer, page: Page) -> None:
    live = live_server()
    _seed_demo(live.services)
    add_staff(live.services)
    console_login(page, live.url, *ADMIN)
    gid = _group_id(live.services, "UPENDO")
    before = _members(live.services, gid)
    page.goto(f"{live.url}/console/groups/{gid}")
    page.fill("#m-phone", "+254712000444")
    page.fill("#m-name", "Tokenless")
    page.eval_on_selector("#add-member input[name=csrf_token]", "el => el.remove()")
    with page.expect_navigation() as nav:
        page.click("#add-member-button")
    assert nav.value.status == 400
    assert page.locator("h1").inner_text() == "The form has expired"
    assert _members(live.services, gid) == before


def test_a_group_created_in_the_console_is_dialled_at_once_over_ussd(
        live_server: LiveServer, page: Page) -> None:
    live = live_server()
    add_staff(live.services)
    console_login(page, live.url, *ADMIN)
    page.goto(f"{live.url}/console/groups/new")
    page.fill("#f-code", "TUMAINI")
    page.fill("#f-name", "Tumaini Savings Group")
    page.select_option("#f-kind", "vsla")
    page.fill("#f-currency", "KES")
    page.fill("#f-country", "KE")
    page.select_option("#f-language", "sw")
    page.fill("#f-timezone", "Africa/Nairobi")
    page.fill("#f-share_value", "100")
    with page.expect_navigation():
        page.click("#save-group")
    assert "TUMAINI" in page.locator("#group-name").inner_text()
    page.fill("#m-phone", "0712000456")
    page.fill("#m-name", "Rehema Atieno")
    page.select_option("#m-role", "treasurer")
    with page.expect_navigation():
        page.click("#add-member-button")
    assert "Rehema Atieno" in page.locator("#members-table").inner_text()
    reply = page.request.post(f"{live.url}/ussd/africastalking", form={
        "sessionId": "console-1", "phoneNumber": "+254712000456", "serviceCode": "*384*123#", "text": ""})
    text = reply.text()
    assert reply.status == 200 and text.startswith("CON "), text
    # her home menu, a treasurer's, in the group's language (Swahili) that she was given
    assert "Akiba yangu" in text and "Mkutano wa leo" in text, text


def test_a_csv_with_one_bad_row_is_previewed_and_refused(
        live_server: LiveServer, page: Page, tmp_path: Path) -> None:
    live = live_server()
    _seed_demo(live.services)
    add_staff(live.services)
    gid = _group_id(live.services, "UPENDO")
    before = _members(live.services, gid)
    path = tmp_path / "members.csv"
    path.write_text("phone,name,role\n0712000601,Zawadi,member\n0712000602,Imani,member\n"
                    "07120,Broken Number,member\n0712000603,Subira,chair\n", encoding="utf-8")
    console_login(page, live.url, *ADMIN)
    page.goto(f"{live.url}/console/groups/{gid}")
    page.click("#import-members")
    page.set_input_files("#file", str(path))
    with page.expect_navigation():
        page.click("#preview")
    assert page.locator("#import-summary").inner_text() == "3 good rows, 1 bad rows. Nothing has been written yet."
    bad = page.locator("#bad-rows tbody tr")
    assert bad.count() == 1
    assert "4" in bad.locator("td").first.inner_text() and "Broken Number" in bad.inner_text()
    assert "Bad phone number 07120" in bad.inner_text()
    assert _members(live.services, gid) == before
    with page.expect_navigation():
        page.click("#confirm-import")  # all or nothing (the default)
    assert "Nothing was imported: 1 rows are bad" in page.locator(".flash.error").inner_text()
    assert _members(live.services, gid) == before


def test_an_export_downloads_and_opens(live_server: LiveServer, page: Page) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    live = live_server()
    _seed_demo(live.services)
    add_staff(live.services)
    console_login(page, live.url, *ADMIN)
    page.goto(f"{live.url}/console/groups/{_group_id(live.services, 'BERDE1')}")
    with page.expect_download() as got:
        page.click("a.export[data-format=csv] >> nth=0")
    download = got.value
    assert download.suggested_filename.startswith("kassa-members-") and download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["No.", "Name", "Phone"]
    assert [r[1] for r in rows[1:]] == ["Aygün Məmmədova", "Səbinə Əliyeva", "Nərmin Hüseynova",
                                        "Günay Quliyeva", "Lalə Rəhimova"]
    with page.expect_download() as got:
        page.click("a.export[data-format=xlsx] >> nth=0")
    sheet = load_workbook(io.BytesIO(got.value.path().read_bytes())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("No.", "Name", "Phone") and len(values) == 6
    assert values[1][2] == "+994501110001"


def test_the_group_search_updates_as_she_types(live_server: LiveServer, page: Page) -> None:
    live = live_server()
    _seed_demo(live.services)
    add_staff(live.services)
    console_login(page, live.url, *ADMIN)
    page.goto(f"{live.url}/console/groups")
    assert page.locator("#groups-table tbody tr").count() == 3
    assert page.evaluate("typeof htmx") == "object"  # served by Kassa from its vendored copy
    page.fill("#q", "upen")  # no submit: htmx asks for the results alone
    page.wait_for_selector("#groups-table tbody tr >> nth=1", state="detached")
    assert page.locator("#groups-table tbody tr").count() == 1
    assert "UPENDO" in page.locator("#groups-table").inner_text()
    assert "q=upen" in page.url  # the address follows, so a reload or a shared link keeps the search
