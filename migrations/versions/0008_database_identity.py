"""database_identity: one random token per database, the prefix of its RQ job ids

Revision ID: delivery01_identity
Revises: outbox2
Create Date: 2026-11-30 13:00:00
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = 'delivery01_identity'
down_revision = 'cyclea01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'database_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_database_identity')),
    )
    op.bulk_insert(table, [{'id': 1, 'token': secrets.token_hex(4)}])


def downgrade() -> None:
    op.drop_table('database_identity')
