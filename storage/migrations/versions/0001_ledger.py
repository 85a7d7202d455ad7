"""ledger: members, contacts, interactions, questions, nudges

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('tz_checked_at', sa.DateTime(), nullable=True),
    sa.Column('focus', sa.String(length=300), nullable=True),
    sa.Column('nudges_enabled', sa.Boolean(), nullable=False),
    sa.Column('nudge_weekday', sa.Integer(), nullable=False),
    sa.Column('nudge_minute', sa.Integer(), nullable=False),
    sa.Column('nudges_paused_until', sa.Date(), nullable=True),
    sa.Column('reaction_emoji', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('enterprise_id', 'team_id', 'user_id', name=op.f('uq_members_enterprise_id_team_id_user_id'))
    )
    op.create_table('slack_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=True),
    sa.Column('is_bot', sa.Boolean(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slack_users')),
    sa.UniqueConstraint('enterprise_id', 'team_id', 'user_id', name=op.f('uq_slack_users_enterprise_id_team_id_user_id'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=201), nullable=False),
    sa.Column('slack_user_id', sa.String(length=32), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('networks', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=True),
    sa.Column('bond', sa.String(length=12), nullable=True),
    sa.Column('cadence_days', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('met_through_id', sa.Integer(), nullable=True),
    sa.Column('last_touch_at', sa.DateTime(), nullable=True),
    sa.Column('snoozed_until', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_contacts_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['met_through_id'], ['contacts.id'], name=op.f('fk_contacts_met_through_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('member_id', 'key', name=op.f('uq_contacts_member_id_key'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_member_last_touch', ['member_id', 'last_touch_at'], unique=False)

    op.create_table('questions_asked',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=201), nullable=False),
    sa.Column('question_id', sa.String(length=40), nullable=False),
    sa.Column('asked_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_questions_asked_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions_asked')),
    sa.UniqueConstraint('member_id', 'scope', 'question_id', name=op.f('uq_questions_asked_member_id_scope_question_id'))
    )
    op.create_table('interactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('what', sa.String(length=1000), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('message_link', sa.String(length=500), nullable=True),
    sa.Column('related_contact_id', sa.Integer(), nullable=True),
    sa.Column('thanked_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_interactions_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_interactions_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['related_contact_id'], ['contacts.id'], name=op.f('fk_interactions_related_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interactions'))
    )
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.create_index('ix_interactions_member_contact_time', ['member_id', 'contact_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_interactions_member_time', ['member_id', 'occurred_at'], unique=False)

    op.create_table('nudges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('planned_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.Column('person_contact_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_nudges_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_contact_id'], ['contacts.id'], name=op.f('fk_nudges_person_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nudges')),
    sa.UniqueConstraint('member_id', 'week', name=op.f('uq_nudges_member_id_week'))
    )


def downgrade() -> None:
    op.drop_table('nudges')
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_index('ix_interactions_member_time')
        batch_op.drop_index('ix_interactions_member_contact_time')

    op.drop_table('interactions')
    op.drop_table('questions_asked')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_member_last_touch')

    op.drop_table('contacts')
    op.drop_table('slack_users')
    op.drop_table('members')
