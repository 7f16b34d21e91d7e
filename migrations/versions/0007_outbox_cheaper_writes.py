"""outbox: cheaper to write (no foreign keys, byte-compared dedupe keys, two fewer index entries a row)

The outbox is an append-only log that reminders and broadcasts write in bulk
(4.4 million rows when every group's reminder is due at once). Per row this
drops:

- the foreign keys to ``members`` and ``groups``: members and groups are never
  deleted in Kassa (they change status; no code path deletes either), so the
  RESTRICT they enforced never fired, yet each check was an index probe and a
  row lock on the member and the group, about a third of each insert;
- the index on ``member_id``: nothing reads the outbox by member;
- the index entry of ``provider_id`` while it is NULL (every pending row): the
  index is now partial, ``WHERE provider_id IS NOT NULL``, which still answers
  the delivery reports' ``provider_id = :id``;
- the collation of ``dedupe_key`` on PostgreSQL: ``COLLATE "C"`` compares bytes
  (SQLite's BINARY already does). Keys are ASCII, so their order, the range
  a broadcast's status reads, and every existing key stay the same.

Revision ID: outbox2
Revises: outreach1
Create Date: 2026-11-25 09:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'outbox2'
down_revision = 'outreach1'
branch_labels = None
depends_on = None

NOT_NULL = sa.text('provider_id IS NOT NULL')


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_member_id_members', type_='foreignkey')
        batch_op.drop_constraint('fk_outbox_group_id_groups', type_='foreignkey')
        batch_op.drop_index('ix_outbox_member_id')
        batch_op.drop_index('ix_outbox_provider_id')
        batch_op.create_index('ix_outbox_provider_id', ['provider_id'], unique=False,
                              postgresql_where=NOT_NULL, sqlite_where=NOT_NULL)
    if op.get_bind().dialect.name == 'postgresql':
        # the unique index is rebuilt with the column's new collation
        op.alter_column('outbox', 'dedupe_key', type_=sa.String(length=120, collation='C'),
                        existing_type=sa.String(length=120), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('outbox', 'dedupe_key', type_=sa.String(length=120),
                        existing_type=sa.String(length=120, collation='C'), existing_nullable=True)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_provider_id')
        batch_op.create_index('ix_outbox_provider_id', ['provider_id'], unique=False)
        batch_op.create_index('ix_outbox_member_id', ['member_id'], unique=False)
        batch_op.create_foreign_key('fk_outbox_group_id_groups', 'groups', ['group_id'], ['id'],
                                    ondelete='RESTRICT')
        batch_op.create_foreign_key('fk_outbox_member_id_members', 'members', ['member_id'], ['id'],
                                    ondelete='RESTRICT')
