"""groups.share_out_on: the day a group plans its share-out (the end of its cycle)

Revision ID: firsthour01
Revises: outbox2
Create Date: 2026-11-30 13:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'firsthour01'
down_revision = 'delivery01_identity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share_out_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_column('share_out_on')
