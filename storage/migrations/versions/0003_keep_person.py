"""nudges.keep_person: the member asked to keep this week's person for the week after

The weekly person is never the same two weeks running unless the member asks; the "Keep <name>
next week" button in the DM records that wish on the week's nudge row, where next week's
planning (and the Home tab) already read last week's person.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('nudges') as batch:
        batch.add_column(
            sa.Column('keep_person', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('nudges') as batch:
        batch.drop_column('keep_person')
