"""``ally-bot check --live``: the token against Slack (auth.test) and the database, as a health
check: one line and exit 0 when both answer, one clear line and a non-zero exit when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.migrate import upgrade
from tests.support.cli import one_line_error
from tests.support.fake_slack import FakeSlack
from tests.support.private_pg import private_postgres
from tests.support.process import ALLY_BOT, ally_env, run_cli

pytestmark = pytest.mark.slow


def live_env(fake: FakeSlack, database_url: str) -> dict[str, str]:
    return ally_env(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=fake.base_url,
        DATABASE_URL=database_url,
    )


def test_live_check_passes_when_slack_and_the_database_answer(
    fake_slack: FakeSlack, sqlite_url: str, tmp_path: Path
) -> None:
    result = run_cli([ALLY_BOT, "check", "--live"], live_env(fake_slack, sqlite_url), tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        "ally-bot: live check passed (HTTP on port 3000; database migrated and answering; "
        "Slack accepts the token for team T1)"
    ]
    calls = fake_slack.calls_to("auth.test")
    assert len(calls) == 1
    assert calls[0].headers["Authorization"] == "Bearer xoxb-test"


def test_a_token_slack_refuses_is_one_line(
    fake_slack: FakeSlack, sqlite_url: str, tmp_path: Path
) -> None:
    fake_slack.fail("auth.test", status=200, error="invalid_auth", retry_after=None)
    result = run_cli([ALLY_BOT, "check", "--live"], live_env(fake_slack, sqlite_url), tmp_path)

    line = one_line_error(result, code=1)
    assert "SLACK_BOT_TOKEN was refused by Slack's auth.test (invalid_auth)" in line


def test_slack_unreachable_is_one_line(sqlite_url: str, tmp_path: Path) -> None:
    fake = FakeSlack().start()
    fake.stop()  # its port is closed now
    result = run_cli([ALLY_BOT, "check", "--live"], live_env(fake, sqlite_url), tmp_path)

    assert "cannot reach Slack" in one_line_error(result, code=1)


def test_a_database_nobody_listens_on_is_one_line(fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = live_env(fake_slack, "postgresql://postgres@127.0.0.1:1/ally")
    result = run_cli([ALLY_BOT, "check", "--live"], env, tmp_path)

    assert "cannot use the database at DATABASE_URL" in one_line_error(result)
    assert fake_slack.calls_to("auth.test") == []


def test_an_unmigrated_database_is_one_line(fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = live_env(fake_slack, f"sqlite:///{tmp_path / 'empty.db'}")
    result = run_cli([ALLY_BOT, "check", "--live"], env, tmp_path)

    assert "run `ally-bot migrate` first" in one_line_error(result)


def test_a_stopped_postgresql_fails_the_check(fake_slack: FakeSlack, tmp_path: Path) -> None:
    with private_postgres() as cluster:
        upgrade(cluster.url)
        env = live_env(fake_slack, cluster.url)
        up = run_cli([ALLY_BOT, "check", "--live"], env, tmp_path)
        assert up.returncode == 0, up.stderr

        cluster.stop()
        down = run_cli([ALLY_BOT, "check", "--live"], env, tmp_path)

    line = one_line_error(down)
    assert "cannot use the database at DATABASE_URL" in line
    assert "check the URL and that the database server is running" in line
