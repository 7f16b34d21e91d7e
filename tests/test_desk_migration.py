"""Migration desk01_support_desk: open requests become 'new' and back (SQLite file; the chain's
PostgreSQL upgrade runs in every PostgreSQL test's setup)."""
from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import migrations

if TYPE_CHECKING:
    from pathlib import Path


def test_open_requests_become_new_and_back(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    url = f"sqlite:///{path}"
    migrations.upgrade(url, "orgs01")
    con = sqlite3.connect(path)
    con.execute("INSERT INTO groups (id, code, name, kind, currency, country, language, timezone, meeting_weekday, "
                "meeting_time, meeting_place, meeting_every_weeks, saving_amount, share_value, shares_min, "
                "shares_max, social_fund_amount, off_rule_contribution, fine_types, loan_limit_multiplier, "
                "service_charge_bp, max_active_loans, plain_letters, status) VALUES (1, 'UPENDO', 'Upendo', "
                "'shg', 'KES', 'KE', 'en', 'UTC', 1, '10:00:00', '', 1, 0, 100, 1, 5, 0, 'refuse', '{}', 3, "
                "1000, 1, 0, 'active')")
    con.execute("INSERT INTO members (id, phone, name, language, pin_failures, pin_locked, opted_out, status) "
                "VALUES (1, '+254712000003', 'Faith', 'en', 0, 0, 0, 'active')")
    con.execute("INSERT INTO support_requests (id, ref, member_id, group_id, category, status) "
                "VALUES (1, 'HAAAA', 1, 1, 'legal', 'open'), (2, 'HCCCC', 1, 1, 'other', 'closed')")
    con.execute("INSERT INTO memberships (id, group_id, member_id, number, role, status) "
                "VALUES (1, 1, 1, 1, 'member', 'active')")
    con.commit()
    con.close()
    migrations.upgrade(url, "desk01_support_desk")  # members is copied while others point at it
    con = sqlite3.connect(path)
    assert con.execute("SELECT ref, status FROM support_requests ORDER BY id").fetchall() == \
        [("HAAAA", "new"), ("HCCCC", "closed")]
    con.execute("INSERT INTO members (id, phone, name, language, pin_failures, pin_locked, opted_out, status) "
                "VALUES (2, NULL, 'Walk-in', 'sw', 0, 0, 0, 'active')")
    con.execute("INSERT INTO support_requests (id, ref, member_id, group_id, category, status) "
                "VALUES (3, 'HDDDD', 2, NULL, 'legal', 'assigned')")
    con.commit()
    con.close()
    migrations.downgrade(url, "orgs01")
    con = sqlite3.connect(path)
    assert con.execute("SELECT ref, status FROM support_requests ORDER BY id").fetchall() == \
        [("HAAAA", "open"), ("HCCCC", "closed")]
    assert con.execute("SELECT count(*) FROM members WHERE phone IS NULL").fetchone() == (0,)
    assert con.execute("SELECT member_id FROM memberships").fetchall() == [(1,)]  # nothing cascaded
    con.close()
