"""Workspace tokens are sealed at rest: an OAuth install stores no token in plain text (bot, user
or refresh), everything that reads tokens (Bolt's requests, the weekly DM) still works, keys
rotate (newest first, older rows still read, ``ally-bot reseal``), ``ally-bot keygen`` prints a
usable key, and migration 0006 seals the plain rows an older release left (or stops, unchanged,
when it has no key)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import create_engine, text

from bot.nudges.delivery import send_due
from bot.platform import cli
from bot.platform.oauth import installation_store
from bot.platform.runtime import Runtime
from storage.migrate import upgrade
from storage.sealed import PREFIX, MissingKey
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.nudge_fixtures import add_member
from tests.support.runtime import MakeRuntime
from tests.support.settings import TEST_ENCRYPTION_KEY

CLIENT_ID = "1111.2222"
NEW_KEY = "Z3JY8Cj9jQeC1mJd3vO1e4L7bq3v9ZQk8nV0mC2pQ1s="
TOKENS = ("xoxb-bot-T2", "xoxe-1-bot-refresh-T2", "xoxp-user-T2", "xoxe-1-user-refresh-T2")


def installation(team: str = "T2") -> Installation:
    return Installation(
        app_id="A1",
        enterprise_id=None,
        team_id=team,
        bot_token=f"xoxb-bot-{team}",
        bot_refresh_token=f"xoxe-1-bot-refresh-{team}",
        bot_id="BBOT",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        user_id="UADMIN",
        user_token=f"xoxp-user-{team}",
        user_refresh_token=f"xoxe-1-user-refresh-{team}",
        installed_at=1_700_000_000.0,
    )


def oauth_runtime(make_runtime: MakeRuntime, url: str, keys: str) -> Runtime:
    return make_runtime(
        url,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET="client-secret",
        ALLY_ENCRYPTION_KEY=keys,
    )


@pytest.fixture
def runtime_old_key(make_runtime: MakeRuntime, db_url: str) -> Runtime:
    return oauth_runtime(make_runtime, db_url, TEST_ENCRYPTION_KEY)


def stored_text(runtime: Runtime) -> str:
    """Every value of every row of both installation tables, as the database holds them."""
    with runtime.engine.connect() as connection:
        rows = [
            *connection.execute(text("SELECT * FROM slack_installations")),
            *connection.execute(text("SELECT * FROM slack_bots")),
        ]
    return " ".join(str(value) for row in rows for value in row)


def test_no_token_is_stored_in_plain_text(runtime_old_key: Runtime) -> None:
    store = installation_store(runtime_old_key)
    store.save(installation())
    stored = stored_text(runtime_old_key)
    assert PREFIX in stored
    for token in TOKENS:
        assert token not in stored
    found = store.find_installation(enterprise_id=None, team_id="T2")
    assert found is not None
    assert (
        found.bot_token,
        found.bot_refresh_token,
        found.user_token,
        found.user_refresh_token,
    ) == TOKENS
    bot = store.find_bot(enterprise_id=None, team_id="T2")
    assert bot is not None and bot.bot_token == "xoxb-bot-T2"


def test_the_weekly_dm_reads_tokens_through_the_sealed_store(
    runtime_old_key: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    installation_store(runtime_old_key).save(installation())
    add_member(runtime_old_key, "U2", "Europe/London", team_id="T2")
    summary = send_due(runtime_old_key, clock.now)
    assert summary.sent == 1
    [posted] = fake_slack.calls_to("chat.postMessage")
    assert posted.headers["Authorization"] == "Bearer xoxb-bot-T2"


def test_the_command_line_sends_with_each_workspace_token(
    runtime_old_key: Runtime,
    fake_slack: FakeSlack,
    db_url: str,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """``ally-bot nudges send`` in OAuth mode: the token comes out of the sealed store."""
    installation_store(runtime_old_key).save(installation())
    # U1 lives in London (the fake's users.info), as the command line's real clock will ask.
    add_member(runtime_old_key, "U1", "Europe/London", team_id="T2")
    monkeypatch.chdir(tmp_path)  # no .env
    for name, value in {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": "client-secret",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": fake_slack.base_url,
        "DATABASE_URL": db_url,
        "ALLY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert cli.main(["nudges", "send", "--at", clock.now.isoformat()]) == 0
    [posted] = fake_slack.calls_to("chat.postMessage")
    assert posted.headers["Authorization"] == "Bearer xoxb-bot-T2"


def test_rotation_new_writes_use_the_newest_key_and_old_rows_still_read(
    runtime_old_key: Runtime, make_runtime: MakeRuntime, db_url: str
) -> None:
    installation_store(runtime_old_key).save(installation("T2"))
    rotated = oauth_runtime(make_runtime, db_url, f"{NEW_KEY},{TEST_ENCRYPTION_KEY}")
    try:
        store = installation_store(rotated)
        old = store.find_bot(enterprise_id=None, team_id="T2")
        assert old is not None and old.bot_token == "xoxb-bot-T2"
        store.save(installation("T3"))
        raw = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=rotated.engine)
        sealed = raw.find_bot(enterprise_id=None, team_id="T3")
        assert sealed is not None and sealed.bot_token is not None
        # Sealed with the new key alone: it opens without the old one.
        new_only = Fernet(NEW_KEY.encode())
        assert new_only.decrypt(sealed.bot_token[len(PREFIX) :].encode()) == b"xoxb-bot-T3"
    finally:
        rotated.close()


def test_reseal_moves_every_token_to_the_newest_key(
    runtime_old_key: Runtime,
    make_runtime: MakeRuntime,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    installation_store(runtime_old_key).save(installation("T2"))
    env = {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": "client-secret",
        "SLACK_SIGNING_SECRET": "s",
        "DATABASE_URL": db_url,
        "ALLY_ENCRYPTION_KEY": f"{NEW_KEY},{TEST_ENCRYPTION_KEY}",
    }
    monkeypatch.chdir(tmp_path)  # no .env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["reseal"]) == 0
    assert "6 stored token(s)" in out.getvalue()  # four on the installation, two on its bot
    # The old key can go now.
    new_only = oauth_runtime(make_runtime, db_url, NEW_KEY)
    try:
        found = installation_store(new_only).find_installation(enterprise_id=None, team_id="T2")
        assert found is not None and found.user_refresh_token == "xoxe-1-user-refresh-T2"
    finally:
        new_only.close()


def test_keygen_prints_a_fresh_usable_key() -> None:
    keys = []
    for _ in range(2):
        out = io.StringIO()
        with redirect_stdout(out):
            assert cli.main(["keygen"]) == 0
        keys.append(out.getvalue().strip())
    assert keys[0] != keys[1]
    for key in keys:
        Fernet(key.encode())  # raises on anything that is not a Fernet key


# -- migration 0006 ---------------------------------------------------------------------------


def plain_install(url: str) -> None:
    """What a release before 0006 stored: the SDK's own store, tokens in plain text."""
    engine = create_engine(url)
    SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=engine).save(installation())
    engine.dispose()


def test_the_migration_seals_plain_rows(tmp_path: Path, make_runtime: MakeRuntime) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    plain_install(url)
    upgrade(url, encryption_keys=(TEST_ENCRYPTION_KEY,))
    runtime = oauth_runtime(make_runtime, url, TEST_ENCRYPTION_KEY)
    try:
        stored = stored_text(runtime)
        assert all(token not in stored for token in TOKENS)
        found = installation_store(runtime).find_installation(enterprise_id=None, team_id="T2")
        assert found is not None and found.user_token == "xoxp-user-T2"
    finally:
        runtime.close()


def test_the_migration_stops_unchanged_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALLY_ENCRYPTION_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    plain_install(url)
    with pytest.raises(MissingKey, match="ALLY_ENCRYPTION_KEY is not set"):
        upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        token = connection.execute(text("SELECT bot_token FROM slack_bots")).scalar()
    engine.dispose()
    assert revision == "0005" and token == "xoxb-bot-T2"


@pytest.mark.postgres
def test_the_migration_seals_plain_rows_on_postgresql(
    pg_url: str, make_runtime: MakeRuntime
) -> None:
    """PostgreSQL enforces the SDK's 200 characters: sealed tokens need the wider columns."""
    runtime = oauth_runtime(make_runtime, pg_url, TEST_ENCRYPTION_KEY)
    try:
        long = installation()
        long.bot_refresh_token = "xoxe-1-" + "r" * 180
        installation_store(runtime).save(long)
        found = installation_store(runtime).find_bot(enterprise_id=None, team_id="T2")
        assert found is not None and found.bot_refresh_token == long.bot_refresh_token
    finally:
        runtime.close()
