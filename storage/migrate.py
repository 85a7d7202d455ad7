"""Run Alembic migrations from code (``ally-bot migrate``, tests), no alembic.ini needed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config

from storage.db import normalise_url, prepare_sqlite_file
from storage.sealed import MIGRATION_KEYS

MIGRATIONS = Path(__file__).parent / "migrations"


class ForeignKeyViolation(RuntimeError):
    """A migration left rows that point at nothing (SQLite's ``PRAGMA foreign_key_check``)."""


def alembic_config(url: str, script_location: Path = MIGRATIONS) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    # Alembic's config is ConfigParser-based: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", encryption_keys: Sequence[str] = ()) -> None:
    """Bring the database at ``url`` up to ``revision`` (default: the newest).

    ``encryption_keys`` (ALLY_ENCRYPTION_KEY) seal the Slack tokens stored in plain text
    (revision 0006); without them the environment variable is read.
    """
    prepare_sqlite_file(url)
    command.upgrade(_with_keys(alembic_config(url), encryption_keys), revision)


def downgrade(url: str, revision: str, encryption_keys: Sequence[str] = ()) -> None:
    command.downgrade(_with_keys(alembic_config(url), encryption_keys), revision)


def _with_keys(config: Config, encryption_keys: Sequence[str]) -> Config:
    if encryption_keys:
        config.attributes[MIGRATION_KEYS] = tuple(encryption_keys)
    return config
