"""cycle end: share-out requests (preview, code, chair's hold), attendance, the group's loan rule at share-out

Revision ID: cyclea01
Revises: cycleb01
Create Date: 2026-11-30 12:42:09.320326
"""
from alembic import op
import sqlalchemy as sa


revision = 'cyclea01'
down_revision = 'cycleb01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['ledger_meetings.id'], name=op.f('fk_ledger_attendance_meeting_id_ledger_meetings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_ledger_attendance_member_id_members'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_attendance')),
    sa.UniqueConstraint('meeting_id', 'member_id', name=op.f('uq_ledger_attendance_meeting_id_member_id'))
    )
    with op.batch_alter_table('ledger_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_attendance_member_id'), ['member_id'], unique=False)

    op.create_table('ledger_shareout_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('held_by_id', sa.Integer(), nullable=True),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('txn_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['ledger_cycles.id'], name=op.f('fk_ledger_shareout_requests_cycle_id_ledger_cycles'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_ledger_shareout_requests_group_id_groups'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['held_by_id'], ['members.id'], name=op.f('fk_ledger_shareout_requests_held_by_id_members'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['started_by_id'], ['members.id'], name=op.f('fk_ledger_shareout_requests_started_by_id_members'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['txn_id'], ['ledger_txns.id'], name=op.f('fk_ledger_shareout_requests_txn_id_ledger_txns'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_shareout_requests'))
    )
    with op.batch_alter_table('ledger_shareout_requests', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_shareout_requests_group', ['group_id', 'id'], unique=False)

    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shareout_loans', sa.String(length=16), server_default='repay_first', nullable=False))
        batch_op.add_column(sa.Column('shareout_keep', sa.Integer(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_column('shareout_keep')
        batch_op.drop_column('shareout_loans')

    with op.batch_alter_table('ledger_shareout_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_shareout_requests_group')

    op.drop_table('ledger_shareout_requests')
    with op.batch_alter_table('ledger_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_attendance_member_id'))

    op.drop_table('ledger_attendance')
