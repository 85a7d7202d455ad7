"""habits: project alliances, meeting plans and the DMs about them

``projects`` and ``project_allies`` hold seed 001's alliance goal (one to three allies per
project, each met within 30 days); ``meeting_plans`` the week's person with a day and a what;
``plan_messages`` each reminder and "did you meet?" DM, keyed by (plan, step, day) and claimed
with a lease like ``nudges``, so each goes out once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _member_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ['member_id'], ['members.id'], name=op.f(f'fk_{table}_member_id_members'), ondelete='CASCADE'
    )


def upgrade() -> None:
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    _member_fk('projects'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('member_id', 'key', name=op.f('uq_projects_member_id_key'))
    )
    op.create_table('meeting_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('what', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('learned', sa.Text(), nullable=True),
    sa.Column('next_question', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_meeting_plans_contact_id_contacts'), ondelete='CASCADE'),
    _member_fk('meeting_plans'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_plans'))
    )
    op.create_index('ix_meeting_plans_status_day', 'meeting_plans', ['status', 'day'], unique=False)
    op.create_table('project_allies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_project_allies_contact_id_contacts'), ondelete='CASCADE'),
    _member_fk('project_allies'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_allies_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_allies')),
    sa.UniqueConstraint('project_id', 'contact_id', name=op.f('uq_project_allies_project_id_contact_id'))
    )
    op.create_table('plan_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=12), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    _member_fk('plan_messages'),
    sa.ForeignKeyConstraint(['plan_id'], ['meeting_plans.id'], name=op.f('fk_plan_messages_plan_id_meeting_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_messages')),
    sa.UniqueConstraint('plan_id', 'step', 'day', name=op.f('uq_plan_messages_plan_id_step_day'))
    )


def downgrade() -> None:
    op.drop_table('plan_messages')
    op.drop_table('project_allies')
    op.drop_index('ix_meeting_plans_status_day', table_name='meeting_plans')
    op.drop_table('meeting_plans')
    op.drop_table('projects')
