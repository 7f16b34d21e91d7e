"""The console dashboard's aggregates: figures per group, per week, rolled up by region, kind and currency; SMS per month.

Revision ID: dash01_reports
Revises: console01
Create Date: 2026-11-30 12:43:58.059739
"""
import sqlalchemy as sa
from alembic import op

revision = 'dash01_reports'
down_revision = 'console01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_group_weeks',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('groups', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('members', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('savings', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('social_fund', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cash_box', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('bank', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('service_charges', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('fines', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('loans_outstanding', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('active_loans', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('overdue_loans', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('par_base', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('par30', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('due_so_far', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('paid_on_time', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('meetings', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'week', name=op.f('pk_report_group_weeks'))
    )
    op.create_table('report_groups',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('refresh_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('groups', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('members', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('savings', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('social_fund', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cash_box', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('bank', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('service_charges', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('fines', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('loans_outstanding', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('active_loans', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('overdue_loans', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('par_base', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('par30', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('due_so_far', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('paid_on_time', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('meetings', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('group_id', name=op.f('pk_report_groups'))
    )
    with op.batch_alter_table('report_groups', schema=None) as batch_op:
        batch_op.create_index('ix_report_groups_key', ['region', 'kind', 'currency'], unique=False)
        batch_op.create_index('ix_report_groups_refresh_at', ['refresh_at'], unique=False)

    op.create_table('report_sms',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('sent', sa.BigInteger(), nullable=False),
    sa.Column('segments', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'month', name=op.f('pk_report_sms'))
    )
    op.create_table('report_sms_totals',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('sent', sa.BigInteger(), nullable=False),
    sa.Column('segments', sa.BigInteger(), nullable=False),
    sa.Column('region', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.PrimaryKeyConstraint('month', 'region', 'kind', 'currency', name=op.f('pk_report_sms_totals'))
    )
    op.create_table('report_totals',
    sa.Column('region', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('groups', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('members', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('savings', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('social_fund', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cash_box', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('bank', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('service_charges', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('fines', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('loans_outstanding', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('active_loans', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('overdue_loans', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('par_base', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('par30', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('due_so_far', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('paid_on_time', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('meetings', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('region', 'kind', 'currency', name=op.f('pk_report_totals'))
    )
    op.create_table('report_weeks',
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('region', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('groups', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('members', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('savings', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('social_fund', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cash_box', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('bank', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('service_charges', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('fines', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('loans_outstanding', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('active_loans', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('overdue_loans', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('par_base', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('par30', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('due_so_far', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('paid_on_time', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('meetings', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('week', 'region', 'kind', 'currency', name=op.f('pk_report_weeks'))
    )


def downgrade() -> None:
    op.drop_table('report_weeks')
    op.drop_table('report_totals')
    op.drop_table('report_sms_totals')
    op.drop_table('report_sms')
    with op.batch_alter_table('report_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_report_groups_refresh_at')
        batch_op.drop_index('ix_report_groups_key')

    op.drop_table('report_groups')
    op.drop_table('report_group_weeks')
