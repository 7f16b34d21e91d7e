"""group_rule_changes: every change the chair makes to her group's rules (who, before, after, when);
a coordinator may hold the share-out of a group without a chair

Revision ID: cycle01_rules
Revises: field01_visits_referrals
Create Date: 2026-11-30 15:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'cycle01_rules'
down_revision = 'field01_visits_referrals'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'group_rule_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=40), nullable=False),
        sa.Column('before', sa.String(length=200), nullable=False),
        sa.Column('after', sa.String(length=200), nullable=False),
        sa.Column('effective', sa.String(length=16), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('cycle_number', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['members.id'], name=op.f('fk_group_rule_changes_actor_id_members'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_rule_changes_group_id_groups'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_group_rule_changes')),
    )
    with op.batch_alter_table('group_rule_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_rule_changes_group_id'), ['group_id'], unique=False)
    with op.batch_alter_table('ledger_shareout_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_by_coordinator_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ledger_shareout_requests_held_by_coordinator_id_coordinators'),
                                    'coordinators', ['held_by_coordinator_id'], ['id'], ondelete='RESTRICT')


def downgrade() -> None:
    with op.batch_alter_table('ledger_shareout_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_shareout_requests_held_by_coordinator_id_coordinators'),
                                 type_='foreignkey')
        batch_op.drop_column('held_by_coordinator_id')
    with op.batch_alter_table('group_rule_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_rule_changes_group_id'))
    op.drop_table('group_rule_changes')
