"""The SQL that fills the rollups and each group's whereabouts from the per-group aggregates.

For ``flask reports rebuild``, the migration that added them (``perf02_rollups``,
which carries its own copy) and the national-scale seed: set-wise statements, the
same on SQLite and PostgreSQL except where a function differs (:func:`statements`).
"""
from __future__ import annotations

from reports.models import FIGURES

_SUMS = ", ".join(f"sum(r.{c})" for c in FIGURES)
_COLS = ", ".join(FIGURES)


def whereabouts(dialect: str) -> list[str]:
    """UPDATEs setting each ``report_groups`` row's place path, projects, last visit and quiet day."""
    if dialect == "postgresql":
        projects = ("SELECT ',' || string_agg(pg.project_id::text, ',' ORDER BY pg.project_id) || ',' "
                    "FROM project_groups pg WHERE pg.group_id = report_groups.group_id")
        formed = "(g.created_at AT TIME ZONE 'UTC')::date"
        later = "greatest"
    else:
        projects = ("SELECT ',' || group_concat(pg.project_id, ',') || ',' "
                    "FROM project_groups pg WHERE pg.group_id = report_groups.group_id")
        formed = "date(g.created_at)"
        later = "max"
    return [
        "UPDATE report_groups SET "
        "place_path = coalesce((SELECT p.path FROM groups g JOIN places p ON p.id = g.place_id "
        "WHERE g.id = report_groups.group_id), ''), "
        f"projects = coalesce(({projects}), ''), "
        "last_visit = (SELECT max(v.visited_on) FROM field_visits v WHERE v.group_id = report_groups.group_id)",
        "UPDATE report_groups SET quiet_on = ("
        f"SELECT CASE WHEN g.status = 'active' AND g.created_at IS NOT NULL "
        f"THEN {later}({formed}, coalesce(report_groups.last_visit, {formed})) END "
        "FROM groups g WHERE g.id = report_groups.group_id)",
    ]


def rollups() -> list[str]:
    """DELETE and INSERT … SELECT statements that recompute the rollups from the per-group tables
    (their ``place_path`` and ``projects`` as :func:`whereabouts` or the commit hooks left them)."""
    # The places above a group: its place path starts with theirs (the distinct paths first,
    # so the LIKE join is paths x places, not groups x places).
    ancestors = ("(SELECT d.place_path AS place_path, a.id AS ref FROM "
                 "(SELECT DISTINCT place_path FROM report_groups WHERE place_path <> '') d "
                 "JOIN places a ON d.place_path LIKE a.path || '%') anc")
    projects = "project_groups pg ON pg.group_id = r.group_id AND r.projects LIKE '%,' || pg.project_id || ',%'"
    out = ["DELETE FROM report_rollups", "DELETE FROM report_rollup_weeks", "DELETE FROM report_rollup_sms"]
    key = "r.region, r.kind, r.currency"
    for dim, join, ref in (("place", f"JOIN {ancestors} ON anc.place_path = r.place_path", "anc.ref"),
                           ("project", f"JOIN {projects}", "pg.project_id")):
        out.append(f"INSERT INTO report_rollups (dim, ref, region, kind, currency, {_COLS}) "
                   f"SELECT '{dim}', {ref}, {key}, {_SUMS} FROM report_groups r {join} "
                   f"GROUP BY {ref}, {key}")
        week_sums = ", ".join(f"sum(w.{c})" for c in FIGURES)
        out.append(f"INSERT INTO report_rollup_weeks (dim, ref, region, kind, currency, week, {_COLS}) "
                   f"SELECT '{dim}', {ref}, {key}, w.week, {week_sums} FROM report_group_weeks w "
                   f"JOIN report_groups r ON r.group_id = w.group_id {join} "
                   f"GROUP BY {ref}, {key}, w.week")
        out.append("INSERT INTO report_rollup_sms (dim, ref, region, kind, currency, month, sent, segments) "
                   f"SELECT '{dim}', {ref}, {key}, s.month, sum(s.sent), sum(s.segments) FROM report_sms s "
                   f"JOIN report_groups r ON r.group_id = s.group_id {join} "
                   f"GROUP BY {ref}, {key}, s.month")
    return out
