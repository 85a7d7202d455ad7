"""export_files: each /ally export, asked for once and sent once, and the file Slack stored

The export is built and uploaded after Slack has its answer; this row makes a command that
arrives twice one export, and keeps the uploaded file's id so that /ally forget and an uninstall
can delete the file from Slack as well.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('export_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('file_id', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_files')),
    sa.UniqueConstraint('enterprise_id', 'team_id', 'user_id', 'request_key', name=op.f('uq_export_files_enterprise_id_team_id_user_id_request_key'))
    )


def downgrade() -> None:
    op.drop_table('export_files')
