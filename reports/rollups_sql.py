"""The SQL that fills the rollups and each group's whereabouts from the per-group aggregates.

For ``flask reports rebuild``, the migration that added them (``perf02_rollups``,
which carries its own copy) and the national-scale seed: set-wise statements, the
same on SQLite and PostgreSQL except where a function differs (:func:`statements`).
"""
from __future__ import annotations

from reports.models import FIGURES


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
    # The places above each place path: the path starts with the place's (distinct paths x places).
    ancestors = ("(SELECT d.place_path AS place_path, a.id AS ref FROM "
                 "(SELECT DISTINCT place_path FROM report_groups WHERE place_path <> '') d "
                 "JOIN places a ON d.place_path LIKE a.path || '%') anc")
    row = "r.place_path, r.projects, r.group_id, r.region, r.kind, r.currency"
    figures = list(FIGURES)
    # table -> (its extra key column, the per-group rows it sums, the columns summed)
    sources = {
        "report_rollups": ("", f"SELECT {row}, {', '.join(f'r.{c}' for c in figures)} FROM report_groups r",
                           figures),
        "report_rollup_weeks": ("week", f"SELECT {row}, w.week, {', '.join(f'w.{c}' for c in figures)} "
                                        "FROM report_group_weeks w JOIN report_groups r ON r.group_id = w.group_id",
                                figures),
        "report_rollup_sms": ("month", f"SELECT {row}, m.month, m.sent, m.segments FROM report_sms m "
                                       "JOIN report_groups r ON r.group_id = m.group_id", ["sent", "segments"]),
    }
    out = ["DELETE FROM report_rollups", "DELETE FROM report_rollup_weeks", "DELETE FROM report_rollup_sms"]
    for table, (extra, source, cols) in sources.items():
        key = "region, kind, currency" + (f", {extra}" if extra else "")
        s_key = ", ".join(f"s.{k}" for k in key.split(", "))
        t_key = ", ".join(f"t.{k}" for k in key.split(", "))
        names = ", ".join(cols)
        # places: the per-group rows summed per place path first (thousands of paths, not every
        # group), then each path's sums added to every place above it
        out.append(f"INSERT INTO {table} (dim, ref, {key}, {names}) "
                   f"SELECT 'place', anc.ref, {t_key}, {', '.join(f'sum(t.{c})' for c in cols)} "
                   f"FROM (SELECT s.place_path, {s_key}, {', '.join(f'sum(s.{c}) AS {c}' for c in cols)} "
                   f"FROM ({source}) s WHERE s.place_path <> '' GROUP BY s.place_path, {s_key}) t "
                   f"JOIN {ancestors} ON anc.place_path = t.place_path GROUP BY anc.ref, {t_key}")
        out.append(f"INSERT INTO {table} (dim, ref, {key}, {names}) "
                   f"SELECT 'project', pg.project_id, {s_key}, {', '.join(f'sum(s.{c})' for c in cols)} "
                   f"FROM ({source}) s JOIN project_groups pg ON pg.group_id = s.group_id "
                   "AND s.projects LIKE '%,' || pg.project_id || ',%' "
                   f"GROUP BY pg.project_id, {s_key}")
    return out
