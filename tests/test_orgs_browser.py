"""Browser tests (Chromium via Playwright, tests/browser.py): a project page's targets against actual
figures, and the place-tree filter of the dashboard.

``KASSA_DOCS_SCREENSHOTS=1`` also writes the README's screenshot of the project page (docs/project.png).
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from console.accounts import create_staff
from demo.groups import seed_demo
from groups.models import Group
from groups.service import create_group
from orgs.models import PlaceLevel
from orgs.places import add_place, country_place, find_or_add, set_group_place
from orgs.service import (
    ProjectForm,
    enrol_groups,
    enrol_members,
    members_of_groups,
    save_organisation,
    save_project,
)
from tests.browser import console_login

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser import Live, LiveServer

ADMIN = ("+254700000001", "correct horse battery")
DOCS = Path(__file__).resolve().parent.parent / "docs"


def _seed(live: Live) -> dict[str, int]:
    """The demo groups; Kenya > Kisumu > Nyando (UPENDO) and Muhoroni (MUHO, new); Bərdə (BERDE1);
    a project over the two districts with a target of 4 groups formed, both groups enrolled."""
    with live.services.db.transaction() as s:
        seed_demo(s, history=False)
        create_staff(s, phone=ADMIN[0], password=ADMIN[1], role="admin", name="Amina Admin")
        ke = country_place(s, "KE")
        kisumu = find_or_add(s, "Kisumu", PlaceLevel.REGION, ke)
        nyando = add_place(s, "Nyando", PlaceLevel.DISTRICT, kisumu)
        muhoroni = add_place(s, "Muhoroni", PlaceLevel.DISTRICT, kisumu)
        berde = find_or_add(s, "Bərdə", PlaceLevel.REGION, country_place(s, "AZ"))
        upendo = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        set_group_place(s, upendo, nyando)
        set_group_place(s, s.scalars(select(Group).where(Group.code == "BERDE1")).one(), berde)
        muho = create_group(s, code="MUHO", name="Muhoroni Savers", kind="vsla", currency="KES", country="KE",
                            share_value=10000)
        set_group_place(s, muho, muhoroni)
        funder = save_organisation(s, "World Bank", "funder")
        ministry = save_organisation(s, "Ministry of Labour", "implementer")
        project = save_project(s, ProjectForm(
            code="SL-2025", name="Sustainable livelihoods", starts_on=dt.date(2020, 1, 1),
            ends_on=dt.date(2025, 12, 31), implementer_id=ministry.id, funder_ids=(funder.id,),
            place_ids=(nyando.id, muhoroni.id), targets={"groups_formed": 4}))
        enrol_groups(s, project, [upendo.id, muho.id])
        enrol_members(s, project, members_of_groups(s, [upendo.id, muho.id]))
        return {"project": project.id, "kisumu": kisumu.id, "nyando": nyando.id, "muhoroni": muhoroni.id}


def test_project_page_shows_targets_against_actuals(live_server: LiveServer, page: Page) -> None:
    live = live_server()
    ids = _seed(live)
    console_login(page, live.url, *ADMIN)
    page.click("nav >> text=Projects")
    page.click("text=Sustainable livelihoods")
    row = page.locator('#targets tr[data-metric="groups_formed"]')
    assert row.locator(".actual").inner_text() == "2"
    assert row.locator(".target").inner_text() == "4"
    assert "50.0%" in row.inner_text()
    assert page.locator("#rollup tr").count() == 3  # the header and the two districts
    if os.environ.get("KASSA_DOCS_SCREENSHOTS"):
        page.screenshot(path=str(DOCS / "project.png"), full_page=False)
    # The place filter: one district's actual.
    page.select_option("#filter-place", str(ids["muhoroni"]))
    with page.expect_navigation():
        page.click("#project-filters button")
    assert page.locator('#targets tr[data-metric="groups_formed"] .actual').inner_text() == "1"
    # A target changed on the edit page shows at once.
    page.click("text=Edit")
    page.fill("#target-groups_formed", "2")
    with page.expect_navigation():
        page.click("#save-project")
    row = page.locator('#targets tr[data-metric="groups_formed"]')
    assert row.locator(".target").inner_text() == "2" and "100.0%" in row.inner_text()


def test_dashboard_place_tree_filter_narrows_the_figures(live_server: LiveServer, page: Page) -> None:
    live = live_server()
    ids = _seed(live)
    console_login(page, live.url, *ADMIN)
    page.goto(f"{live.url}/console/")
    groups = page.locator("#fig-groups .value")
    assert groups.inner_text() == "4"
    members_all = page.locator("#fig-members .value").inner_text()
    options = page.locator("#filter-place option").all_inner_texts()
    assert [o.strip() for o in options[:2]] == ["All places", "Azerbaijan"]
    kisumu = next(o for o in options if o.strip() == "Kisumu")
    nyando = next(o for o in options if o.strip() == "Nyando")
    assert kisumu == "\u00a0" * 2 + "Kisumu" and nyando == "\u00a0" * 4 + "Nyando"  # indented by level
    page.select_option("#filter-place", str(ids["kisumu"]))
    with page.expect_navigation():
        page.click("#dashboard-filters button")
    assert groups.inner_text() == "2"
    page.select_option("#filter-place", str(ids["nyando"]))
    with page.expect_navigation():
        page.click("#dashboard-filters button")
    assert groups.inner_text() == "1"
    assert page.locator("#fig-members .value").inner_text() != members_all
    # The figure's link keeps the place: the groups list shows the subtree's group.
    page.click("#fig-groups")
    assert page.locator("#groups-table tbody tr").count() == 1
    assert "UPENDO" in page.locator("#groups-table").inner_text()
