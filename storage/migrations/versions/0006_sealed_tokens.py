"""sealed tokens: Slack tokens in slack_installations and slack_bots encrypted at rest

Every bot, user and refresh token stored in plain text is sealed with the newest key of
ALLY_ENCRYPTION_KEY (storage.sealed, Fernet). The key comes from ``ally-bot migrate`` (which reads
.env and the environment) or, for Alembic run by hand, from the ALLY_ENCRYPTION_KEY environment
variable. When plain tokens exist and no key is given, the migration stops before changing
anything and says what to do: it never leaves a token in plain text silently, and never drops an
installation. With no stored tokens (single-workspace installs) no key is needed.

On PostgreSQL the token columns become TEXT: a sealed token is longer than the 200 characters
slack_sdk gives them (SQLite does not enforce those lengths).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import context, op
import sqlalchemy as sa

from storage.sealed import (
    TOKEN_TABLES, MissingKey, Sealer, is_sealed, plain_values, tokens_key_from
)


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLES = TOKEN_TABLES


def _table(name: str, columns: tuple[str, ...]) -> sa.TableClause:
    return sa.table(name, sa.column('id', sa.Integer), *(sa.column(c, sa.Text) for c in columns))


def _rows(name: str, columns: tuple[str, ...]) -> list:
    table = _table(name, columns)
    return list(op.get_bind().execute(sa.select(table)).mappings())


def _rewrite(name: str, columns: tuple[str, ...], change) -> None:
    table = _table(name, columns)
    bind = op.get_bind()
    for row in _rows(name, columns):
        values = {c: change(row[c]) for c in columns}
        if any(values[c] != row[c] for c in columns):
            bind.execute(sa.update(table).where(table.c.id == row['id']).values(**values))


def upgrade() -> None:
    plain = sum(
        plain_values(row[c] for c in columns)
        for name, columns in TABLES.items()
        for row in _rows(name, columns)
    )
    keys = tokens_key_from(context.config.attributes)
    if plain and not keys:
        raise MissingKey(
            f'{plain} Slack token(s) are stored in plain text and ALLY_ENCRYPTION_KEY is not set: '
            'run `ally-bot keygen`, put the key in .env and run `ally-bot migrate` again '
            '(nothing was changed).'
        )
    if op.get_bind().dialect.name == 'postgresql':
        for name, columns in TABLES.items():
            for column in columns:
                op.alter_column(name, column, type_=sa.Text(), existing_nullable=True)
    if plain:
        sealer = Sealer(keys)
        for name, columns in TABLES.items():
            _rewrite(name, columns, sealer.seal)


def downgrade() -> None:
    sealed = sum(
        1
        for name, columns in TABLES.items()
        for row in _rows(name, columns)
        for c in columns
        if row[c] is not None and is_sealed(row[c])
    )
    keys = tokens_key_from(context.config.attributes)
    if sealed and not keys:
        raise MissingKey(
            f'{sealed} Slack token(s) are sealed: set ALLY_ENCRYPTION_KEY to open them before '
            'going back to a release that stores them in plain text (nothing was changed).'
        )
    if sealed:
        sealer = Sealer(keys)
        for name, columns in TABLES.items():
            _rewrite(name, columns, sealer.open)
    if op.get_bind().dialect.name == 'postgresql':
        for name, columns in TABLES.items():
            for column in columns:
                op.alter_column(name, column, type_=sa.String(200), existing_nullable=True)
