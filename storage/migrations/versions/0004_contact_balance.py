"""contacts.balance: each contact's reciprocity balance, kept with every write

Favours and introductions given minus received, per contact. The ledger is append-only, so the
balance is kept up to date as each interaction is recorded (as ``last_touch_at`` is) and
reading it never sums the ledger: the weekly planning, the Home tab and ``/ally who`` read it
from the contact's row. This revision adds the column and fills it from the existing ledger.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The interaction kinds as of this revision: +1 given, -1 received, 0 for the rest.
GIVEN = ('favour_given', 'intro_made')
RECEIVED = ('favour_received', 'intro_received')


def upgrade() -> None:
    with op.batch_alter_table('contacts') as batch:
        batch.add_column(sa.Column('balance', sa.Integer(), nullable=False, server_default='0'))
    contacts = sa.table(
        'contacts',
        sa.column('id', sa.Integer),
        sa.column('member_id', sa.Integer),
        sa.column('balance', sa.Integer),
    )
    interactions = sa.table(
        'interactions',
        sa.column('member_id', sa.Integer),
        sa.column('contact_id', sa.Integer),
        sa.column('kind', sa.String),
    )
    weight = sa.case(
        (interactions.c.kind.in_(GIVEN), 1),
        (interactions.c.kind.in_(RECEIVED), -1),
        else_=0,
    )
    total = (
        sa.select(sa.func.coalesce(sa.func.sum(weight), 0))
        # By (member, contact): the ledger's index answers each contact with one seek.
        .where(
            interactions.c.member_id == contacts.c.member_id,
            interactions.c.contact_id == contacts.c.id,
        )
        .scalar_subquery()
    )
    op.execute(contacts.update().values(balance=total))


def downgrade() -> None:
    with op.batch_alter_table('contacts') as batch:
        batch.drop_column('balance')
