"""ledger.invalidation: installed on a process's sessions at start, not on every Session at import."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from db import Database
from groups.models import Group
from ledger.invalidation import GEN_KEY, install, touch

if TYPE_CHECKING:
    from services import Services
    from tests.fixture_types import DemoPeople


def _generation(services: Services, group_id: int) -> int:
    return int(services.redis.get(GEN_KEY.format(group_id)) or 0)


def _rename(db: Database, group_id: int, name: str) -> None:
    with db.transaction() as s:
        s.scalars(select(Group).where(Group.id == group_id)).one().name = name


def test_the_app_installs_it_and_a_commit_moves_the_generation(services: Services, demo: DemoPeople) -> None:
    gid = _any_group(services)
    before = _generation(services, gid)
    _rename(services.db, gid, "Renamed once")
    assert _generation(services, gid) == before + 1


def test_a_rolled_back_transaction_or_a_savepoint_moves_nothing(services: Services, demo: DemoPeople) -> None:
    gid = _any_group(services)
    before = _generation(services, gid)
    try:
        with services.db.transaction() as s:
            touch(s, gid)
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    with services.db.transaction() as s:
        with s.begin_nested():
            touch(s, gid)
        assert _generation(services, gid) == before  # the savepoint released: not yet
    assert _generation(services, gid) == before + 1


def test_sessions_it_was_not_installed_on_drop_nothing_and_installing_twice_counts_once(services: Services, demo: DemoPeople) -> None:
    gid = _any_group(services)
    other = Database(services.config.DATABASE_URL)  # a bare Database: seeding scripts, tools
    try:
        before = _generation(services, gid)
        _rename(other, gid, "Renamed by a tool")
        assert _generation(services, gid) == before  # no global hook
        install(other.sessionmaker, lambda: services.redis)
        install(other.sessionmaker, lambda: services.redis)
        _rename(other, gid, "Renamed again")
        assert _generation(services, gid) == before + 1
    finally:
        other.dispose()


def _any_group(services: Services) -> int:
    with services.db.transaction() as s:
        return s.scalars(select(Group.id).order_by(Group.id).limit(1)).one()
