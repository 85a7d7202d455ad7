"""The real command line: bad configuration is one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from tests.support.cli import one_line_error
from tests.support.process import ALLY_BOT, ally_env, run_cli

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("command", [[ALLY_BOT], [sys.executable, "-m", "bot"]])
def test_run_with_no_configuration(command: list[str], tmp_path: Path) -> None:
    line = one_line_error(run_cli([*command, "run"], ally_env(), tmp_path))
    assert "SLACK_BOT_TOKEN is not set" in line
    assert ".env" in line


def test_a_malformed_value_names_the_variable(tmp_path: Path) -> None:
    env = ally_env(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", PORT="eighty")
    assert "PORT='eighty' is not a number" in one_line_error(
        run_cli([ALLY_BOT, "run"], env, tmp_path)
    )


def test_the_env_file_is_read_from_the_working_folder(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-1\nSLACK_SIGNING_SECRET=s\nLOG_LEVEL=chatty\n"
    )
    line = one_line_error(run_cli([ALLY_BOT, "run"], ally_env(), tmp_path))
    assert "LOG_LEVEL='CHATTY' is unknown" in line


def test_run_refuses_a_database_that_was_not_migrated(tmp_path: Path) -> None:
    env = ally_env(
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}",
    )
    line = one_line_error(run_cli([ALLY_BOT, "run"], env, tmp_path))
    assert "has no tables yet" in line
    assert "ally-bot migrate" in line


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = ally_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    line = one_line_error(run_cli([ALLY_BOT, "migrate"], env, tmp_path))
    assert "cannot use the database at DATABASE_URL" in line


def test_migrate_creates_the_schema_then_run_accepts_it(tmp_path: Path) -> None:
    # The default DATABASE_URL is relative: data/ally.db in the working folder.
    result = run_cli([ALLY_BOT, "migrate"], ally_env(), tmp_path)
    assert result.returncode == 0, result.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'ally.db'}")
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"alembic_version", "members", "contacts", "interactions"} <= tables
    # Migrating again is a no-op.
    assert run_cli([ALLY_BOT, "migrate"], ally_env(), tmp_path).returncode == 0


def test_check_reports_a_complete_configuration(tmp_path: Path) -> None:
    env = ally_env(SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1")
    result = run_cli([ALLY_BOT, "check"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "configuration is complete (Socket Mode)" in result.stdout
    missing = run_cli([ALLY_BOT, "check"], ally_env(SLACK_BOT_TOKEN="xoxb-1"), tmp_path)
    assert "SLACK_SIGNING_SECRET is not set" in one_line_error(missing)
