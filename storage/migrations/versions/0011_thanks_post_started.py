"""interactions.thanks_post_started_at: a thank-you DM whose outcome Slack left unknown

Set right before Ally posts a thank-you to the ally, cleared once the DM is recorded or Slack
clearly refused it. Still set, it means Slack may have posted the DM (a 5xx, a timeout): the
next Send reads the ally's DM first and never posts the thank-you a second time.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('interactions') as batch:
        batch.add_column(sa.Column('thanks_post_started_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('interactions') as batch:
        batch.drop_column('thanks_post_started_at')
