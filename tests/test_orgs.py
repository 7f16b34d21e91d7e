"""Places, organisations, projects and centres: CSV import, the console pages, coordinator scope by
places, the place/project filters of the reports, and a project's targets against actuals."""
from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING, cast

import pytest
from sqlalchemy import func, select

from console.models import AuditEntry
from groups.models import Coordinator, CoordinatorGroup, Group
from orgs.models import CentrePlace, CoordinatorPlace, Place, PlaceLevel, Project, ProjectGroup, ProjectMember
from orgs.places import add_place, country_place, find_or_add, set_group_place
from tests.found import found
from tests.test_console import ADMIN, COORD, add_staff, login, post, token

if TYPE_CHECKING:
    from pathlib import Path

    from flask import Flask
    from flask.testing import FlaskClient, FlaskCliRunner
    from sqlalchemy.orm import Session

    from menus.engine import Ctx as MenuCtx
    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp

CSV = """country,region,district,commune,village,code
VN,Yên Bái,Văn Chấn,Tân Thịnh,Thôn 9,VN-T9
VN,Yên Bái,Văn Chấn,Tân Thịnh,Thôn 10,
VN,Yên Bái,Lục Yên,,,
Kenya,Kisumu,Nyando,,,KE-NY
"""


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app(CONSOLE_SECURE_COOKIES=False)


@pytest.fixture
def admin(client: FlaskClient, services: Services, demo: DemoPeople) -> FlaskClient:
    add_staff(services, *ADMIN, "admin", name="Amina Admin")
    assert login(client, *ADMIN).status_code == 303
    return client


def place_id(services: Services, *names: str) -> int:
    with services.db.transaction() as s:
        parent = None
        for name in names:
            same = Place.parent_id == parent if parent else Place.parent_id.is_(None)
            parent = s.scalars(select(Place.id).where(same, Place.name == name)).one()
            assert parent is not None, names
        assert parent is not None, names
        return parent


def tree_of(services: Services) -> list[tuple[int, str, str, str | None]]:
    with services.db.transaction() as s:
        return sorted((p.path.count("/") - 1, p.level.value, p.name, p.code) for p in s.scalars(select(Place)))


# -- CSV import ----------------------------------------------------------------------

def test_places_import_from_csv_is_idempotent(runner: FlaskCliRunner, services: Services,
                                              tmp_path: Path) -> None:
    f = tmp_path / "places.csv"
    f.write_text(CSV, encoding="utf-8")
    r = runner.invoke(args=["places", "import", str(f)])
    assert r.exit_code == 0, r.output
    assert "4 rows: 10 places added" in r.output
    first = tree_of(services)
    assert (5, "village", "Thôn 9", "VN-T9") in first and (1, "country", "Vietnam", "VN") in first
    assert (3, "district", "Nyando", "KE-NY") in first and (1, "country", "Kenya", "KE") in first
    assert (3, "district", "Lục Yên", None) in first
    r = runner.invoke(args=["places", "import", str(f)])
    assert r.exit_code == 0 and "0 places added" in r.output
    assert tree_of(services) == first
    listing = runner.invoke(args=["places", "list"]).output
    assert "        Thôn 9 (village" in listing


@pytest.mark.parametrize("bad, says", [
    ("country,region\nVN,Yên Bái\nXX,Nowhere\n", "Row 3: XX is not a country"),
    ("country,province\nVN,Yên Bái\n", "The first row must name the columns"),
    ("country,region,code\nVN,Yên Bái,A1\nVN,Lào Cai,A1\n", "Row 3: the code A1 belongs to another place"),
    ("country,region,district\nVN,Yên Bái,Văn Chấn\nVN,Văn Chấn\n", ""),  # a district and a region may share a name
])
def test_a_bad_row_imports_nothing_and_says_which(
        runner: FlaskCliRunner, services: Services, tmp_path: Path, bad: str, says: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(bad, encoding="utf-8")
    r = runner.invoke(args=["places", "import", str(f)])
    if not says:
        assert r.exit_code == 0, r.output
        return
    assert r.exit_code != 0 and says in r.output and "imported nothing" in r.output
    assert tree_of(services) == []


def test_console_upload_of_places_shows_errors_per_row(admin: FlaskClient, services: Services) -> None:
    bad = "country,region\nVN,Yên Bái\nZZ,Nowhere\n"
    before = tree_of(services)
    r = post(admin, "/console/places/import", {"file": (io.BytesIO(bad.encode()), "p.csv")},
             page="/console/places", content_type="multipart/form-data")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Nothing was imported" in html and "Row 3: ZZ is not a country" in html
    assert tree_of(services) == before
    r = post(admin, "/console/places/import", {"file": (io.BytesIO(CSV.encode()), "p.csv")},
             page="/console/places", content_type="multipart/form-data")
    assert r.status_code == 303
    html = admin.get("/console/places").get_data(as_text=True)
    assert "Thôn 9" in html and "Nyando" in html
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "place.import")) == 1


def test_console_adds_and_renames_places_and_groups_follow(admin: FlaskClient, services: Services) -> None:
    # The demo's groups sit in their country and region already (as the migration put them).
    kenya, kisumu = place_id(services, "Kenya"), place_id(services, "Kenya", "Kisumu")
    with services.db.transaction() as s:
        assert s.get_one(Group, group_id(services, "UPENDO")).place_id == kisumu
        assert s.get_one(Place, kisumu).parent_id == kenya
    r = post(admin, "/console/places", {"name": "Uganda", "level": "country", "parent": ""}, page="/console/places")
    assert r.status_code == 303 and place_id(services, "Uganda")
    r = post(admin, "/console/places", {"name": "Kenya", "level": "country", "parent": ""}, page="/console/places",
             follow_redirects=True)
    assert "Kenya is already there." in r.get_data(as_text=True)
    post(admin, "/console/places", {"name": "Nyando", "level": "district", "parent": str(kisumu)},
         page="/console/places")
    nyando = place_id(services, "Kenya", "Kisumu", "Nyando")
    # A group is put in a place from its form; its region follows.
    gid = group_id(services, "UPENDO")
    form = admin.get(f"/console/groups/{gid}/edit").get_data(as_text=True)
    assert 'name="place"' in form
    fields = dict(re.findall(r'<input id="f-[^"]+" name="([^"]+)" type="[^"]+" value="([^"]*)"', form))
    fields.update(language="en", meeting_weekday="1", place=str(nyando), region="typed, ignored")
    r = post(admin, f"/console/groups/{gid}/edit", fields)
    assert r.status_code == 303, r.get_data(as_text=True)
    with services.db.transaction() as s:
        g = s.get_one(Group, gid)
        assert (g.place_id, g.region) == (nyando, "Kisumu")
    assert "Kenya › Kisumu › Nyando" in admin.get(f"/console/groups/{gid}").get_data(as_text=True)
    r = post(admin, f"/console/places/{kisumu}/rename", {"name": "Kisumu County"}, page="/console/places")
    assert r.status_code == 303
    with services.db.transaction() as s:
        assert s.get_one(Group, gid).region == "Kisumu County"
    r = post(admin, "/console/places", {"name": "Nyando", "level": "district", "parent": str(kisumu)},
             page="/console/places", follow_redirects=True)
    assert "Nyando is already there." in r.get_data(as_text=True)


def group_id(services: Services, code: str) -> int:
    with services.db.transaction() as s:
        return s.scalars(select(Group.id).where(Group.code == code)).one()


# -- coordinator scope by places -------------------------------------------------------

def _kenya_tree(services: Services) -> dict[str, int]:
    """Kenya > Kisumu > {Nyando (UPENDO), Muhoroni (a new group MUHO)}; Azerbaijan > Bərdə (BERDE1)."""
    from groups.service import create_group

    with services.db.transaction() as s:
        ke = country_place(s, "KE")
        kisumu = find_or_add(s, "Kisumu", PlaceLevel.REGION, ke)
        nyando = add_place(s, "Nyando", PlaceLevel.DISTRICT, kisumu)
        muhoroni = add_place(s, "Muhoroni", PlaceLevel.DISTRICT, kisumu)
        az = country_place(s, "AZ")
        berde = find_or_add(s, "Bərdə", PlaceLevel.REGION, az)
        set_group_place(s, s.scalars(select(Group).where(Group.code == "UPENDO")).one(), nyando)
        set_group_place(s, s.scalars(select(Group).where(Group.code == "BERDE1")).one(), berde)
        muho = create_group(s, code="MUHO", name="Muhoroni Savers", kind="vsla", currency="KES", country="KE",
                            share_value=10000)
        set_group_place(s, muho, muhoroni)
        return {"ke": ke.id, "kisumu": kisumu.id, "nyando": nyando.id, "muhoroni": muhoroni.id, "berde": berde.id}


def test_a_coordinators_places_give_her_the_subtree(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    ids = _kenya_tree(services)
    add_staff(services, *COORD, "coordinator", name="Joseph Otieno")
    with services.db.transaction() as s:  # scope by places only: no linked group, no region names
        coord = s.scalars(select(Coordinator).where(Coordinator.phone == COORD[0])).one()
        coord.regions = []
        s.query(CoordinatorGroup).filter_by(coordinator_id=coord.id).delete()
        s.add(CoordinatorPlace(coordinator_id=coord.id, place_id=ids["kisumu"]))
    assert login(client, *COORD).status_code == 303
    html = client.get("/console/groups").get_data(as_text=True)
    assert "UPENDO" in html and "MUHO" in html and "BERDE1" not in html
    assert client.get(f"/console/groups/{group_id(services, 'BERDE1')}").status_code == 404
    board = client.get("/console/").get_data(as_text=True)
    assert re.search(r'id="fig-groups"[^>]*>\s*<span class="value">2<', board)
    # The SMS/USSD side serves the same groups.
    from menus.coordinator import groups_of

    class Ctx:  # the menu's context: who is dialling, and a session
        db: Session
        state: object

    with services.db.transaction() as s:
        coord = s.scalars(select(Coordinator).where(Coordinator.phone == COORD[0])).one()
        ctx = Ctx()
        ctx.db = s
        ctx.state = type("State", (), {"who": type("Who", (), {"coordinator_id": coord.id})()})()
        assert sorted(g.code for g in groups_of(cast("MenuCtx", ctx))) == ["MUHO", "UPENDO"]


def test_admin_sets_a_coordinators_places_on_her_page(admin: FlaskClient, services: Services) -> None:
    ids = _kenya_tree(services)
    staff_id = add_staff(services, *COORD, "coordinator", name="Joseph Otieno")
    page = f"/console/staff/{staff_id}"
    assert 'name="places"' in admin.get(page).get_data(as_text=True)
    r = post(admin, page, {"name": "Joseph Otieno", "role": "coordinator", "language": "en", "regions": "",
                           "groups": "", "places": [str(ids["berde"])], "active": "1"}, page=page)
    assert r.status_code == 303
    with services.db.transaction() as s:
        coord = s.scalars(select(Coordinator).where(Coordinator.phone == COORD[0])).one()
        assert list(s.scalars(select(CoordinatorPlace.place_id).where(
            CoordinatorPlace.coordinator_id == coord.id))) == [ids["berde"]]


# -- the reports' place and project filters --------------------------------------------

def _figure(html: str, name: str) -> str:
    return found(rf'id="fig-{name}"[^>]*>\s*<span class="value">([^<]+)<', html).group(1)


def test_dashboard_groups_list_and_export_filter_by_place_subtree_and_project(
        admin: FlaskClient, services: Services) -> None:
    ids = _kenya_tree(services)
    board = admin.get("/console/").get_data(as_text=True)
    assert _figure(board, "groups") == "4" and 'id="filter-place"' in board
    assert _figure(admin.get(f"/console/?place={ids['kisumu']}").get_data(as_text=True), "groups") == "2"
    assert _figure(admin.get(f"/console/?place={ids['nyando']}").get_data(as_text=True), "groups") == "1"
    assert _figure(admin.get(f"/console/?place={ids['ke']}&kind=vsla").get_data(as_text=True), "groups") == "1"
    members = _figure(admin.get(f"/console/?place={ids['nyando']}").get_data(as_text=True), "members")
    assert members == _figure(admin.get("/console/?kind=shg&region=Kisumu").get_data(as_text=True), "members")
    rows = admin.get(f"/console/dashboard/groups?figure=groups&place={ids['kisumu']}").get_data(as_text=True)
    assert "UPENDO" in rows and "MUHO" in rows and "BERDE1" not in rows
    listing = admin.get(f"/console/groups?place={ids['kisumu']}").get_data(as_text=True)
    assert "UPENDO" in listing and "MUHO" in listing and "BANPHO" not in listing
    export = admin.get(f"/console/export/groups.csv?place={ids['kisumu']}").get_data(as_text=True)
    assert sorted(r["Code"] for r in csv.DictReader(io.StringIO(export.lstrip("\ufeff")))) == ["MUHO", "UPENDO"]
    muho = group_id(services, "MUHO")
    with services.db.transaction() as s:
        project = Project(code="P1", name="Kisumu savings")
        s.add(project)
        s.flush()
        s.add(ProjectGroup(project_id=project.id, group_id=muho))
        pid = project.id
    assert _figure(admin.get(f"/console/?project={pid}").get_data(as_text=True), "groups") == "1"
    assert _figure(admin.get(f"/console/?project={pid}&place={ids['nyando']}").get_data(as_text=True), "groups") == "0"
    listing = admin.get(f"/console/groups?project={pid}").get_data(as_text=True)
    assert "MUHO" in listing and "UPENDO" not in listing


# -- organisations, projects, centres --------------------------------------------------

def test_project_with_two_districts_and_a_target_shows_the_actual(
        admin: FlaskClient, services: Services) -> None:
    """End to end through the console: organisations, a project over two districts with a target of
    groups formed, groups formed in those districts and enrolled; the project page shows the actual."""
    ids = _kenya_tree(services)
    for name, kind in (("World Bank", "funder"), ("Ministry of Labour", "implementer"), ("AzKİL", "partner")):
        assert post(admin, "/console/organisations", {"name": name, "kind": kind, "country": ""},
                    page="/console/organisations").status_code == 303
    r = post(admin, "/console/organisations", {"name": "world bank", "kind": "funder"}, page="/console/organisations")
    assert r.status_code == 400 and "There is already an organisation called world bank." in r.get_data(as_text=True)
    with services.db.transaction() as s:
        from orgs.models import Organisation

        org = dict(s.execute(select(Organisation.name, Organisation.id)).all())
    form = {"code": "SL-2025", "name": "Sustainable livelihoods", "starts_on": "2020-01-01", "ends_on": "2025-12-31",
            "implementer": str(org["Ministry of Labour"]), "funders": [str(org["World Bank"])],
            "partners": [str(org["AzKİL"])], "places": [str(ids["nyando"]), str(ids["muhoroni"])],
            "target_groups_formed": "4"}
    r = post(admin, "/console/projects/new", {**form, "ends_on": "2019-01-01"}, page="/console/projects/new")
    assert r.status_code == 400 and "The project cannot end before it starts." in r.get_data(as_text=True)
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Project)) == 0
    r = post(admin, "/console/projects/new", form, page="/console/projects/new")
    assert r.status_code == 303
    pid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    # Groups formed in the two districts, enrolled with their members (every group in the target areas).
    r = post(admin, f"/console/projects/{pid}/enrol", {"what": "groups", "codes": "", "in_areas": "1",
                                                       "with_members": "1"}, page=f"/console/projects/{pid}")
    assert r.status_code == 303
    with services.db.transaction() as s:
        assert sorted(s.scalars(select(Group.code).join(ProjectGroup).where(ProjectGroup.project_id == pid))) == [
            "MUHO", "UPENDO"]
        assert s.scalars(select(func.count()).select_from(ProjectMember).where(ProjectMember.project_id == pid)).one() > 0
    page = admin.get(f"/console/projects/{pid}").get_data(as_text=True)
    row = found(r'<tr data-metric="groups_formed">.*?</tr>', page, re.S).group(0)
    assert re.search(r'class="num actual">2<', row) and re.search(r'class="num target">4<', row) and "50.0%" in row
    assert "World Bank" in page and "Ministry of Labour" in page and "Kenya › Kisumu › Nyando" in page
    # The place filter narrows the actuals to a district; the roll-up shows each area.
    page = admin.get(f"/console/projects/{pid}?place={ids['nyando']}").get_data(as_text=True)
    row = found(r'<tr data-metric="groups_formed">.*?</tr>', page, re.S).group(0)
    assert re.search(r'class="num actual">1<', row)
    # A coordinator cannot see the project pages.
    out = admin.post("/console/logout", data={"csrf_token": token(admin, "/console/")})
    assert out.status_code in (302, 303)


def test_projects_and_centres_from_the_command_line(
        runner: FlaskCliRunner, services: Services, demo: DemoPeople, tmp_path: Path) -> None:
    ids = _kenya_tree(services)
    assert runner.invoke(args=["orgs", "add", "We Effect", "--kind", "funder"]).exit_code == 0
    r = runner.invoke(args=["projects", "add", "WE1", "Savings in Kisumu", "--funder", "We Effect",
                            "--place", "Kenya/Kisumu/Nyando", "--place", str(ids["muhoroni"]),
                            "--target", "groups_formed=3"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["projects", "enrol", "WE1", "--group", "UPENDO"])
    assert r.exit_code == 0 and "1 groups" in r.output
    r = runner.invoke(args=["projects", "show", "WE1"])
    assert "Groups formed" in r.output and "1 / 3" in r.output
    r = runner.invoke(args=["projects", "show", "WE1", "--place", "Kenya/Kisumu/Muhoroni"])
    assert "0 / 3" in r.output
    r = runner.invoke(args=["projects", "add", "WE1", "x", "--target", "nonsense=1"])
    assert r.exit_code != 0 and "nonsense is not a figure Kassa counts" in r.output
    r = runner.invoke(args=["centres", "add", "Tərtər centre", "--at", "Azerbaijan/Bərdə",
                            "--covers", "Azerbaijan/Bərdə"])
    assert r.exit_code == 0, r.output
    with services.db.transaction() as s:
        assert list(s.scalars(select(CentrePlace.place_id))) == [ids["berde"]]


def test_centre_page_creates_a_centre_covering_districts(admin: FlaskClient, services: Services) -> None:
    ids = _kenya_tree(services)
    r = post(admin, "/console/centres", {"name": "Kisumu resource centre", "place": str(ids["kisumu"]),
                                         "covers": [str(ids["nyando"]), str(ids["muhoroni"])],
                                         "target_days": "5", "active": "1"}, page="/console/centres")
    assert r.status_code == 303
    html = admin.get("/console/centres").get_data(as_text=True)
    assert "Kisumu resource centre" in html and "Muhoroni, Nyando" in html
    r = post(admin, "/console/centres", {"name": "", "covers": [], "target_days": "5"}, page="/console/centres")
    assert r.status_code == 400


def test_org_pages_are_for_admins_only(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    add_staff(services, *COORD, "coordinator", name="Joseph Otieno")
    assert login(client, *COORD).status_code == 303
    for path in ("/console/places", "/console/projects", "/console/centres", "/console/organisations",
                 "/console/projects/new"):
        assert client.get(path).status_code == 404


def test_a_coordinators_places_are_her_broadcast_scope(services: Services, demo: DemoPeople) -> None:
    from outreach import broadcast as bc

    ids = _kenya_tree(services)
    with services.db.transaction() as s:
        coord = Coordinator(phone="+254712000777", name="Akinyi", organisation="", regions=[], all_groups=False)
        s.add(coord)
        s.flush()
        s.add(CoordinatorPlace(coordinator_id=coord.id, place_id=ids["nyando"]))
        s.flush()
        with pytest.raises(bc.BroadcastError) as err:
            bc.create_broadcast(s, coordinator=coord, target=bc.Target.parse("MUHO"), message="x", key="o1")
        assert err.value.code == "not_your_group"
        one = bc.create_broadcast(s, coordinator=coord, target=bc.Target.parse("UPENDO"), message="x", key="o2")
        every = bc.create_broadcast(s, coordinator=coord, target=bc.Target.parse("ALL"), message="x", key="o3")
        assert one.recipients == every.recipients == 4  # UPENDO's members: the one group under Nyando


def test_a_region_filter_reads_region_totals_only_when_the_names_are_exact(
        admin: FlaskClient, services: Services) -> None:
    from orgs.places import exact_region_names

    ids = _kenya_tree(services)
    with services.db.transaction() as s:
        assert exact_region_names(s, ids["kisumu"]) == ("Kisumu",)
        assert exact_region_names(s, ids["nyando"]) is None  # a district: its groups' own rows
        from groups.service import create_group

        create_group(s, code="UGK", name="Kisumu Road, Uganda", kind="vsla", currency="UGX", country="UG",
                     region="Kisumu")  # the same region name in another country
        assert exact_region_names(s, ids["kisumu"]) is None
    board = admin.get(f"/console/?place={ids['kisumu']}").get_data(as_text=True)
    assert _figure(board, "groups") == "2"  # Kenya's Kisumu only, read group by group
