"""Migrations run on SQLite with foreign keys off, so rebuilding a table (how SQLite alters one)
does not cascade-delete the rows that point at it; and a migration that leaves a broken foreign
key fails instead of committing it (``PRAGMA foreign_key_check``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select, text

from bot.ledger.people import MemberRef
from storage.db import make_engine, make_session_factory
from storage.migrate import MIGRATIONS, ForeignKeyViolation, alembic_config, upgrade
from storage.models import Interaction
from tests.support.clock import START
from tests.support.member_data import give_data

REBUILD_CONTACTS = '''
"""a future change to contacts, made the way 0003 changed nudges

Revision ID: 9001
Revises: {head}
"""
from alembic import op
import sqlalchemy as sa

revision = '9001'
down_revision = '{head}'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contacts', recreate='always') as batch:
        batch.add_column(sa.Column('nickname', sa.String(50), nullable=True))
'''

ORPHAN = '''
"""a broken data migration: a ledger line for a contact that does not exist

Revision ID: 9002
Revises: 9001
"""
from alembic import op

revision = '9002'
down_revision = '9001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO interactions (member_id, contact_id, kind, what, occurred_at, created_at) "
        "SELECT member_id, 999999, kind, what, occurred_at, created_at FROM interactions LIMIT 1"
    )
'''


def migrations_with(tmp_path: Path, *scripts: str) -> Path:
    """A copy of Ally's migrations with ``scripts`` added after the newest one."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    for number, script in enumerate(scripts, start=1):
        (location / "versions" / f"900{number}_test.py").write_text(script.format(head=head))
    return location


def ledger_size(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Interaction)) or 0)
    finally:
        engine.dispose()


@pytest.fixture
def url_with_data(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ally.db'}"
    upgrade(url)
    engine = make_engine(url)
    give_data(make_session_factory(engine), MemberRef(team_id="T1", user_id="U1"), START)
    engine.dispose()
    return url


def test_rebuilding_contacts_keeps_the_ledger(url_with_data: str, tmp_path: Path) -> None:
    before = ledger_size(url_with_data)
    assert before == 4
    location = migrations_with(tmp_path, REBUILD_CONTACTS)
    command.upgrade(alembic_config(url_with_data, location), "head")
    assert ledger_size(url_with_data) == before
    engine = make_engine(url_with_data)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1, "back on for the app"
    engine.dispose()


def test_a_migration_that_breaks_a_foreign_key_fails(url_with_data: str, tmp_path: Path) -> None:
    location = migrations_with(tmp_path, REBUILD_CONTACTS, ORPHAN)
    with pytest.raises(ForeignKeyViolation, match="interactions -> contacts"):
        command.upgrade(alembic_config(url_with_data, location), "head")
    assert ledger_size(url_with_data) == 4
