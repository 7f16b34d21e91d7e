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
