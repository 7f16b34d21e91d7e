"""meeting changes (one meeting moved or cancelled); loan expiry and PIN-for-balance rules;
a coordinator may decide a loan

Revision ID: cycleb01
Revises: outbox2
Create Date: 2026-11-30 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'cycleb01'
down_revision = 'dash01_reports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'meeting_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('regular_on', sa.Date(), nullable=False),
        sa.Column('cancelled', sa.Boolean(), nullable=False),
        sa.Column('new_on', sa.Date(), nullable=True),
        sa.Column('new_time', sa.Time(), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['members.id'], name=op.f('fk_meeting_changes_actor_id_members'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_meeting_changes_group_id_groups'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_changes')),
        sa.UniqueConstraint('group_id', 'regular_on', name=op.f('uq_meeting_changes_group_id_regular_on')),
    )
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('loan_expiry_meetings', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('pin_for_balance', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('ledger_loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_by_coordinator_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ledger_loans_decided_by_coordinator_id_coordinators'),
                                    'coordinators', ['decided_by_coordinator_id'], ['id'], ondelete='RESTRICT')


def downgrade() -> None:
    with op.batch_alter_table('ledger_loans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_loans_decided_by_coordinator_id_coordinators'),
                                 type_='foreignkey')
        batch_op.drop_column('decided_by_coordinator_id')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_column('pin_for_balance')
        batch_op.drop_column('loan_expiry_meetings')
    op.drop_table('meeting_changes')
