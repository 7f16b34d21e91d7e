"""outbox: an index on (group_id, id), so a group's page reads its latest SMS by a short index range

The console's group page showed the SMS to a group found among the outbox's
newest 20,000 rows only (a backward scan of up to 20,000 rows per page view,
and nothing at all for a group whose SMS are older than the last reminder
run). With this index it reads the group's ten newest rows directly, however
old they are and however large the outbox. The cost is one more index entry
per outbox row written (see BENCHMARKS.md, "Console ... group page").

On PostgreSQL the index is built CONCURRENTLY (outside the migration's
transaction), so a deployment with millions of outbox rows keeps writing
while it builds.

Revision ID: perf01_outbox_group
Revises: prog01_programmes
Create Date: 2026-11-30 15:45:00
"""
from alembic import op

revision = 'perf01_outbox_group'
down_revision = 'prog01_programmes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.create_index('ix_outbox_group_id_id', 'outbox', ['group_id', 'id'], unique=False,
                            postgresql_concurrently=True, if_not_exists=True)
    else:
        op.create_index('ix_outbox_group_id_id', 'outbox', ['group_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_group_id_id', table_name='outbox')
