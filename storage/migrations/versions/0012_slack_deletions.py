"""slack_deletions: Ally's messages and files to delete in Slack, kept until Slack confirms;
sent_messages: Ally's answers in a member's DM

Forgetting a member or erasing a workspace writes the (channel, ts) of every DM Ally sent them
and the id of every export file it uploaded to slack_deletions, in the same transaction that
deletes their rows; a worker deletes them in Slack and removes each row once Slack confirms,
retrying after failures and restarts. A row names only the workspace and the Slack object.
sent_messages keeps the (channel, ts) of Ally's answers in a member's DM (to a file they shared,
a button they pressed), so that these are deleted too.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_deletions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.Column('file_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slack_deletions'))
    )
    op.create_index('ix_slack_deletions_next_attempt_at', 'slack_deletions', ['next_attempt_at'], unique=False)
    op.create_table('sent_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('message_ts', sa.String(length=32), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_messages'))
    )
    op.create_index('ix_sent_messages_enterprise_id', 'sent_messages', ['enterprise_id', 'team_id', 'user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sent_messages_enterprise_id', table_name='sent_messages')
    op.drop_table('sent_messages')
    op.drop_index('ix_slack_deletions_next_attempt_at', table_name='slack_deletions')
    op.drop_table('slack_deletions')
