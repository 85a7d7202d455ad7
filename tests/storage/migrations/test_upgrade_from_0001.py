"""``ally-bot migrate`` on a database made by the first release (revision 0001), with data in
it: every row comes through unchanged, on SQLite and on PostgreSQL; and the OAuth tables that
revision 0002 makes are exactly the ones slack_sdk's stores expect."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    Engine,
    MetaData,
    column,
    create_engine,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy import table as sql_table
from sqlalchemy.engine import make_url

from bot.ledger.people import MemberRef
from bot.platform.cli import main
from storage.db import make_engine, make_session_factory, normalise_url
from storage.migrate import alembic_config, upgrade
from storage.models import Base
from storage.sealed import TOKEN_TABLES
from tests.support.clock import START
from tests.support.member_data import give_data
from tests.support.settings import PG_ENV

# The first release's tables (seen_requests came with 0002, home_visits with 0005,
# export_files with 0007, projects and meeting plans with 0008, slack_deletions and sent_messages
# with 0012, calendar_feeds with 0014).
LATER = (
    "seen_requests",
    "home_visits",
    "export_files",
    "projects",
    "project_allies",
    "meeting_plans",
    "plan_messages",
    "slack_deletions",
    "sent_messages",
    "calendar_feeds",
)
DATA_TABLES = [t.name for t in Base.metadata.sorted_tables if t.name not in LATER]


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'first-release.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    name = f"ally_upgrade_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalise_url(base)).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def columns_of(engine: Engine) -> dict[str, list[str]]:
    found = inspect(engine)
    return {table: [c["name"] for c in found.get_columns(table)] for table in DATA_TABLES}


def snapshot(engine: Engine, columns: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Every row of every data table, over the given columns (those of the first release)."""
    with engine.connect() as connection:
        return {
            table: sorted(
                tuple(row)
                for row in connection.execute(
                    text(f'SELECT {", ".join(columns[table])} FROM "{table}"')
                )
            )
            for table in DATA_TABLES
        }


def write_first_release_data(engine: Engine, tmp_path: Path) -> None:
    """Members' data as today's code writes it, stored in the first release's columns.

    The data is made through the app's own functions in a scratch database at the current
    revision, then copied over the columns the first release had (``engine`` is at 0001).
    """
    scratch_url = f"sqlite:///{tmp_path / 'scratch.db'}"
    upgrade(scratch_url)
    scratch = make_engine(scratch_url)
    sessions = make_session_factory(scratch)
    for ref in (
        MemberRef(team_id="T1", user_id="U1"),
        MemberRef(team_id="T1", user_id="U3"),
        MemberRef(team_id="T2", user_id="U1", enterprise_id="E1"),
    ):
        give_data(sessions, ref, START, secret=f"note of {ref.user_id}")
    first_release = columns_of(engine)
    with scratch.connect() as source, engine.begin() as target:
        for table in Base.metadata.sorted_tables:
            if table.name not in first_release:
                continue
            names = first_release[table.name]
            rows = [dict(row._mapping) for row in source.execute(select(*table.c[*names]))]
            # The first release's table: those columns with today's types, no defaults.
            then = sql_table(table.name, *(column(name, table.c[name].type) for name in names))
            if rows:
                target.execute(insert(then), rows)
    scratch.dispose()


def test_migrate_upgrades_a_first_release_database_losing_nothing(
    empty_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    upgrade(empty_url, "0001")
    engine = make_engine(empty_url)
    try:
        write_first_release_data(engine, tmp_path)
        first_release = columns_of(engine)
        before = snapshot(engine, first_release)
        assert all(before[table] for table in DATA_TABLES)

        monkeypatch.chdir(tmp_path)  # no stray .env is read
        monkeypatch.setenv("DATABASE_URL", empty_url)
        assert main(["migrate"]) == 0

        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert (
                version.scalar_one()
                == ScriptDirectory.from_config(alembic_config(empty_url)).get_current_head()
            )
        assert snapshot(engine, first_release) == before
        with engine.connect() as connection:
            # 0003: no nudge of the first release asked to keep its person.
            kept = connection.execute(text("SELECT keep_person FROM nudges")).scalars().all()
            # 0004: each contact's kept balance is its ledger's sum.
            balances = dict(connection.execute(text("SELECT key, balance FROM contacts")).all())
        assert kept and not any(kept)
        # Per member: Maria did a favour, got one and introduced Dana (-1); nothing with Dana.
        assert balances == {"U2": -1, "~dana lee": 0}
        # 0005: the table of Home visits; 0008: projects and meeting plans.
        assert {
            "slack_installations",
            "slack_bots",
            "slack_oauth_states",
            "home_visits",
            "projects",
            "project_allies",
            "meeting_plans",
            "plan_messages",
        } <= set(inspect(engine).get_table_names())
        # 0009: no DM channel kept yet, no post of unknown outcome.
        with engine.connect() as connection:
            kept_dm = connection.execute(text("SELECT dm_channel_id FROM members")).scalars().all()
            unsure = connection.execute(text("SELECT post_started_at FROM nudges")).scalars().all()
        assert kept_dm and not any(kept_dm) and unsure and not any(unsure)
        # 0010: every member on Ally's default cadences.
        with engine.connect() as connection:
            defaults = connection.execute(
                text("SELECT alliance_cadence_days, connection_cadence_days FROM members")
            ).all()
        assert defaults and all(row == (None, None) for row in defaults)
        # 0012: the list of Ally's copies to delete in Slack, and its answers in DMs, empty.
        with engine.connect() as connection:
            for table in ("slack_deletions", "sent_messages"):
                found = connection.execute(text(f"SELECT count(*) FROM {table}"))
                assert found.scalar_one() == 0
        # Migrating again is a no-op.
        assert main(["migrate"]) == 0
        assert snapshot(engine, first_release) == before
    finally:
        engine.dispose()


SEALED = TOKEN_TABLES


def sdk_tables() -> MetaData:
    metadata = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(metadata, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states")
    return metadata


def test_the_oauth_tables_match_the_sdk(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        found = inspect(engine)
        for table in sdk_tables().sorted_tables:
            columns = {c["name"]: c for c in found.get_columns(table.name)}
            assert list(columns) == [c.name for c in table.columns], table.name
            for column in table.columns:
                got = columns[column.name]
                assert got["nullable"] == column.nullable, (table.name, column.name)
                expected = column.type.compile(dialect=engine.dialect)
                if column.name in SEALED.get(table.name, ()) and engine.dialect.name != "sqlite":
                    # Sealed tokens outgrow the SDK's 200 characters (migration 0006).
                    expected = "TEXT"
                assert got["type"].compile(dialect=engine.dialect) == expected, column.name
            indexes = {i["name"]: i["column_names"] for i in found.get_indexes(table.name)}
            for index in table.indexes:
                assert indexes[index.name] == [c.name for c in index.columns]
    finally:
        engine.dispose()
