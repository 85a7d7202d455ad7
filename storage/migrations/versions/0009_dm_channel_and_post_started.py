"""members.dm_channel_id and nudges.post_started_at: a weekly send at Slack's limits

``members.dm_channel_id`` keeps the app's DM with the member (it never changes), so a routine
week posts without asking Slack for it. ``nudges.post_started_at`` is set, under the claim,
right before the DM is posted and cleared once Slack's answer is known: a row that still has it
is a post whose outcome is unknown (5xx, a dropped connection, a crash), to be reconciled from
the DM's history, never posted blindly again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('dm_channel_id', sa.String(length=32), nullable=True))
    with op.batch_alter_table('nudges') as batch:
        batch.add_column(sa.Column('post_started_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('nudges') as batch:
        batch.drop_column('post_started_at')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('dm_channel_id')
