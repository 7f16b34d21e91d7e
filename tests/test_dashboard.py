"""The console dashboard through Flask's test client: figures per scope, filters, links, charts, languages."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

import ledger
from console.models import Staff
from console.scope import visible_group_ids
from groups.models import Group, Membership, Role
from i18n import translator
from tests.found import found
from tests.ledger_fixtures import key
from tests.test_console import ADMIN, COORD, add_staff, client_from, login

if TYPE_CHECKING:
    from flask import Flask

    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app(CONSOLE_SECURE_COOKIES=False)


def _save_everyone(services: Services, code: str) -> int:
    """Every member of group ``code`` saves the rule; the group's savings."""
    with services.db.transaction() as s:
        g = s.scalars(select(Group).where(Group.code == code)).one()
        ms = list(s.scalars(select(Membership).where(Membership.group_id == g.id)))
        treasurer = next(m.member for m in ms if m.role == Role.TREASURER)
        for m in ms:
            ledger.record_saving(s, g, m.member, amount=g.saving_amount or None, key=key(), actor=treasurer)
        return ledger.group_summary(s, g).savings


def _cells(html: str, figure: str) -> list[str]:
    return re.findall(rf'data-figure="{figure}" href="[^"]*">([^<]+)</a>', html)


def test_admin_sees_every_group_per_currency(app: Flask, services: Services, demo: DemoPeople) -> None:
    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    client = client_from(app, "10.1.0.1")
    assert login(client, *ADMIN).status_code == 303
    _save_everyone(services, "UPENDO")
    with services.db.transaction() as s:
        groups = list(s.scalars(select(Group)))
        summary = ledger.group_summary(s, s.scalars(select(Group).where(Group.code == "UPENDO")).one())
    html = client.get("/console/").get_data(as_text=True)
    currencies = sorted({g.currency for g in groups})
    assert re.findall(r'<tr data-currency="(\w+)">', html) == currencies  # one line per currency
    t = translator("en")
    assert t.money(summary.savings, "KES") in _cells(html, "savings")
    assert html.count("<svg") == 3 + 2  # savings, loans, PAR30 in KES (the one currency with money); members; meetings
    assert "<script>" not in html.split("<main>")[1]  # the charts need no script
    # each figure links to the groups behind it
    kes_row = html.split('<tr data-currency="KES">')[1].split("</tr>")[0]
    link = found(r'data-figure="savings" href="([^"]+)"', kes_row).group(1).replace("&amp;", "&")
    rows = client.get(link).get_data(as_text=True)
    assert "UPENDO" in rows and "Savings" in rows
    # filters: a kind with no KES group leaves no KES line
    vsla = client.get("/console/?kind=vsla").get_data(as_text=True)
    kinds = {g.currency for g in groups if g.kind == "vsla"}
    assert set(re.findall(r'<tr data-currency="(\w+)">', vsla)) == kinds


def test_coordinator_sees_only_her_groups(app: Flask, services: Services, demo: DemoPeople) -> None:
    add_staff(services, *COORD, "coordinator", name="Joseph")  # linked to the demo coordinator by phone
    client = client_from(app, "10.1.0.2")
    assert login(client, *COORD).status_code == 303
    _save_everyone(services, "UPENDO")
    html = client.get("/console/").get_data(as_text=True)
    groups = int(found(r'id="fig-groups"[^>]*>\s*<span class="value">([\d,]+)', html).group(1))
    with services.db.transaction() as s:
        staff = s.scalars(select(Staff).where(Staff.phone == COORD[0])).one()
        mine = visible_group_ids(s, staff)
    assert mine is not None and groups == len(mine) < len(demo_codes(services))
    rows = client.get("/console/dashboard/groups?figure=groups").get_data(as_text=True)
    assert rows.count('href="/console/groups/') == len(mine)


def demo_codes(services: Services) -> list[str]:
    with services.db.transaction() as s:
        return list(s.scalars(select(Group.code)))


@pytest.mark.parametrize("lang", ["az", "ru", "vi", "sv", "sw", "hi", "ml"])
@pytest.mark.one_backend
def test_dashboard_words_in_every_language(app: Flask, services: Services, demo: DemoPeople,
                                           lang: str) -> None:
    add_staff(services, *ADMIN, "admin", name="Amina Admin", language=lang)
    client = client_from(app, "10.1.0.3")
    assert login(client, *ADMIN).status_code == 303
    html = client.get("/console/").get_data(as_text=True)
    t = translator(lang)
    for msgid in ("Meetings held in the last 4 weeks", "SMS sent this month", "Money, in each currency",
                  "Trends over 12 weeks"):
        assert t.gettext(msgid) != msgid and t.gettext(msgid) in html
