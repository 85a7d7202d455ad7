"""slack_users.guest and members' import bookkeeping: guests, and bounded imports

``slack_users.guest`` keeps whether ``users.info`` marked a user as a guest (``is_restricted``
or ``is_ultra_restricted``); empty means not known yet, so the next lookup asks Slack.
``members.import_started_at`` is set while one of the member's address books is being read
(at most one at a time, across processes), and ``members.import_day`` with
``members.imports_on_day`` count the files a member sent on one day, for the daily cap.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('slack_users') as batch:
        batch.add_column(sa.Column('guest', sa.Boolean(), nullable=True))
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('import_started_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('import_day', sa.Date(), nullable=True))
        batch.add_column(
            sa.Column('imports_on_day', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.drop_column('imports_on_day')
        batch.drop_column('import_day')
        batch.drop_column('import_started_at')
    with op.batch_alter_table('slack_users') as batch:
        batch.drop_column('guest')
