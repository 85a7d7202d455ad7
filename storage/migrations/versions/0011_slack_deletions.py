"""slack_deletions: Ally's messages and files to delete in Slack, kept until Slack confirms

Forgetting a member or erasing a workspace writes the (channel, ts) of every DM Ally sent them
and the id of every export file it uploaded here, in the same transaction that deletes their
rows; a worker deletes them in Slack and removes each row once Slack confirms, retrying after
failures and restarts. A row names only the workspace and the Slack object.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
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


def downgrade() -> None:
    op.drop_index('ix_slack_deletions_next_attempt_at', table_name='slack_deletions')
    op.drop_table('slack_deletions')
