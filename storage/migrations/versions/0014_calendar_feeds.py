"""calendar_feeds, interactions.source and calendar_key, contacts.emails: calendar capture

``calendar_feeds`` holds each member's secret iCal address, sealed with ``ALLY_ENCRYPTION_KEY``,
its host (all that is shown), how its syncs went, and up to three people met lately who are
not contacts yet (offered in the next weekly DM, then cleared). A catch-up logged from a calendar is an
ordinary interaction marked ``source = 'calendar'``, with ``calendar_key``, a digest of the
meeting's UID and its occurrence's original start, so that no occurrence is logged twice.
``contacts.emails`` keeps an imported outside contact's addresses, to recognise them in a
meeting.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('url_sealed', sa.Text(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('next_sync_at', sa.DateTime(), nullable=False),
    sa.Column('synced_until', sa.DateTime(), nullable=True),
    sa.Column('last_synced_at', sa.DateTime(), nullable=True),
    sa.Column('last_logged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('failing_since', sa.DateTime(), nullable=True),
    sa.Column('failure_reported_at', sa.DateTime(), nullable=True),
    sa.Column('offers', sa.Text(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_calendar_feeds_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feeds')),
    sa.UniqueConstraint('member_id', name=op.f('uq_calendar_feeds_member_id'))
    )
    op.create_index('ix_calendar_feeds_next_sync_at', 'calendar_feeds', ['next_sync_at'], unique=False)
    with op.batch_alter_table('interactions') as batch:
        batch.add_column(sa.Column('source', sa.String(length=12), nullable=True))
        batch.add_column(sa.Column('calendar_key', sa.String(length=64), nullable=True))
    op.create_index('ix_interactions_member_calendar_key', 'interactions', ['member_id', 'calendar_key'], unique=False)
    with op.batch_alter_table('contacts') as batch:
        batch.add_column(sa.Column('emails', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contacts') as batch:
        batch.drop_column('emails')
    op.drop_index('ix_interactions_member_calendar_key', table_name='interactions')
    with op.batch_alter_table('interactions') as batch:
        batch.drop_column('calendar_key')
        batch.drop_column('source')
    op.drop_index('ix_calendar_feeds_next_sync_at', table_name='calendar_feeds')
    op.drop_table('calendar_feeds')
