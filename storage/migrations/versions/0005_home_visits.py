"""home_visits: when each Slack user last entered Ally's Home tab

Home is republished after a write only for someone who entered it recently and may still be
looking at it; everyone else gets a fresh Home from ``app_home_opened`` when they next open it.
Keyed by Slack identity, as ``slack_users`` is, because opening Home creates no member.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('home_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_visits')),
    sa.UniqueConstraint('enterprise_id', 'team_id', 'user_id', name=op.f('uq_home_visits_enterprise_id_team_id_user_id'))
    )


def downgrade() -> None:
    op.drop_table('home_visits')
