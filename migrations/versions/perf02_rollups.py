"""reports: rollups per place subtree and per project; each group's place path, projects, last visit and quiet day

The dashboard's place and project filters summed every group's row of a country
or a project at request time (seconds on 300,000 groups); the count of groups
nobody visited lately scanned every group (0.1 s a view). This adds
``report_rollups`` / ``report_rollup_weeks`` / ``report_rollup_sms`` (the totals,
weeks and SMS per place subtree and per project, by region, kind and currency)
and, on ``report_groups``, where each group is counted (``place_path``,
``projects``) and ``last_visit`` / ``quiet_on`` with indexes (the unvisited
count is an index range). All are filled here from what is already kept, with
the same statements as ``reports.rollups_sql`` (copied: a migration does not
import the application); the commit hooks keep them from then on.

Revision ID: perf02_rollups
Revises: perf01_outbox_group
Create Date: 2026-11-30 18:50:00
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = 'perf02_rollups'
down_revision = 'perf01_outbox_group'
branch_labels = None
depends_on = None

FIGURES = ["groups", "members", "savings", "social_fund", "cash_box", "bank", "service_charges", "fines",
           "loans_outstanding", "active_loans", "overdue_loans", "par_base", "par30", "due_so_far",
           "paid_on_time", "meetings"]



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



def _rollup_table(name: str, extra: list[sa.Column[Any]], figures: bool = True) -> None:
    key = ['dim', 'ref', 'region', 'kind', 'currency'] + [c.name for c in extra]
    op.create_table(
        name,
        sa.Column('dim', sa.String(length=8), nullable=False),
        sa.Column('ref', sa.Integer(), nullable=False),
        sa.Column('region', sa.String(length=80), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        *extra,
        *([sa.Column(c, sa.BigInteger(), server_default='0', nullable=False) for c in FIGURES] if figures else
          [sa.Column('sent', sa.BigInteger(), nullable=False), sa.Column('segments', sa.BigInteger(), nullable=False)]),
        sa.PrimaryKeyConstraint(*key, name=op.f(f'pk_{name}')),
    )


def upgrade() -> None:
    with op.batch_alter_table('report_groups') as batch:
        batch.add_column(sa.Column('last_visit', sa.Date(), nullable=True))
        batch.add_column(sa.Column('quiet_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('place_path', sa.String(length=400), server_default='', nullable=False))
        batch.add_column(sa.Column('projects', sa.Text(), server_default='', nullable=False))
    _rollup_table('report_rollups', [])
    _rollup_table('report_rollup_weeks', [sa.Column('week', sa.Date(), nullable=False)])
    _rollup_table('report_rollup_sms', [sa.Column('month', sa.Date(), nullable=False)], figures=False)
    bind = op.get_bind()
    for stmt in whereabouts(bind.dialect.name) + rollups():
        op.execute(stmt)
    op.create_index('ix_report_groups_quiet_on', 'report_groups', ['quiet_on'], unique=False)
    op.create_index('ix_report_groups_region_quiet_on', 'report_groups', ['region', 'quiet_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_report_groups_region_quiet_on', table_name='report_groups')
    op.drop_index('ix_report_groups_quiet_on', table_name='report_groups')
    op.drop_table('report_rollup_sms')
    op.drop_table('report_rollup_weeks')
    op.drop_table('report_rollups')
    with op.batch_alter_table('report_groups') as batch:
        batch.drop_column('projects')
        batch.drop_column('place_path')
        batch.drop_column('quiet_on')
        batch.drop_column('last_visit')
