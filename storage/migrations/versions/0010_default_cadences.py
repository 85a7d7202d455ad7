"""members.alliance_cadence_days and members.connection_cadence_days: a member's own defaults

The Settings form sets how often a member wants to stay in touch with their alliances and with
their connections, for every contact of that bond without a cadence of its own. Empty (the
default) means Ally's cadence for the bond.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('alliance_cadence_days', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('connection_cadence_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.drop_column('connection_cadence_days')
        batch.drop_column('alliance_cadence_days')
