"""Every configuration rule: a good setting is read, a bad one is one line naming it and the fix."""

from __future__ import annotations

import ast
import re
from dataclasses import asdict
from pathlib import Path

import pytest
from slack_bolt import App

from bot.platform.app import create_app
from bot.platform.config import ConfigError, load_environment, settings_from_env
from tests.support.fake_slack import FakeSlack
from tests.support.process import ALLY_VARIABLES
from tests.support.runtime import MakeRuntime

HTTP = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "secret"}
SOCKET = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
KEY = "q0Dq2mB7u0n3JQnq6y0Wm7jZ3J0xGQ9m8b0bS3wWd2E="
OAUTH = {
    "SLACK_CLIENT_ID": "123.456",
    "SLACK_CLIENT_SECRET": "cs",
    "SLACK_SIGNING_SECRET": "s",
    "ALLY_ENCRYPTION_KEY": KEY,
}


def refused(env: dict[str, str], *, for_serving: bool = True) -> str:
    with pytest.raises(ConfigError) as caught:
        settings_from_env(env, for_serving=for_serving)
    message = str(caught.value)
    assert "\n" not in message, "a configuration error is one line"
    return message


def test_defaults_for_http_mode() -> None:
    settings = settings_from_env(HTTP)
    assert asdict(settings) == {
        "bot_token": "xoxb-1",
        "signing_secret": "secret",
        "app_token": None,
        "client_id": None,
        "client_secret": None,
        "database_url": "sqlite:///data/ally.db",
        "slack_api_url": None,
        "port": 3000,
        "log_level": "INFO",
        "scheduler": True,
        "workers": 1,
        "encryption_keys": (),
        "calendar_http_hosts": frozenset(),
    }
    assert not settings.socket_mode
    assert not settings.oauth
    assert settings.api_base_url == "https://slack.com/api/"


def test_socket_mode_needs_no_signing_secret() -> None:
    settings = settings_from_env(SOCKET)
    assert settings.socket_mode
    assert settings.signing_secret is None


def test_oauth_needs_no_bot_token() -> None:
    settings = settings_from_env(OAUTH)
    assert settings.oauth
    assert settings.bot_token is None


def test_blank_and_padded_values() -> None:
    settings = settings_from_env({**HTTP, "SLACK_APP_TOKEN": "   ", "PORT": " 8080 "})
    assert settings.app_token is None
    assert settings.port == 8080


def test_every_setting_is_read() -> None:
    settings = settings_from_env(
        {
            **HTTP,
            "DATABASE_URL": "postgresql://ally@db:5432/ally",
            "SLACK_API_URL": "http://127.0.0.1:9999/api",
            "PORT": "8080",
            "LOG_LEVEL": "debug",
            "ALLY_SCHEDULER": "OFF",
            "WEB_CONCURRENCY": "4",
        }
    )
    assert settings.database_url == "postgresql://ally@db:5432/ally"
    # The SDK joins method names onto the base URL, so it must end with a slash.
    assert settings.api_base_url == "http://127.0.0.1:9999/api/"
    assert (settings.port, settings.log_level, settings.scheduler, settings.workers) == (
        8080,
        "DEBUG",
        False,
        4,
    )


def test_migrate_needs_no_slack_credentials() -> None:
    settings = settings_from_env({"DATABASE_URL": "sqlite:///x.db"}, for_serving=False)
    assert settings.database_url == "sqlite:///x.db"


def test_missing_bot_token() -> None:
    message = refused({"SLACK_SIGNING_SECRET": "s"})
    assert message.startswith("SLACK_BOT_TOKEN is not set")
    assert "OAuth & Permissions" in message


def test_missing_signing_secret_in_http_mode() -> None:
    message = refused({"SLACK_BOT_TOKEN": "xoxb-1"})
    assert message.startswith("SLACK_SIGNING_SECRET is not set")
    assert "SLACK_APP_TOKEN" in message


def test_missing_signing_secret_with_oauth() -> None:
    message = refused({"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "cs"})
    assert message.startswith("SLACK_SIGNING_SECRET is not set")
    assert "OAuth" in message


def test_client_id_without_secret() -> None:
    message = refused({"SLACK_CLIENT_ID": "1", "SLACK_SIGNING_SECRET": "s"})
    assert message.startswith("SLACK_CLIENT_SECRET is not set")


def test_oauth_needs_an_encryption_key() -> None:
    without = {k: v for k, v in OAUTH.items() if k != "ALLY_ENCRYPTION_KEY"}
    message = refused(without)
    assert message.startswith("ALLY_ENCRYPTION_KEY is not set")
    assert "ally-bot keygen" in message
    # Every command that touches the stored tokens needs it, not only `run`.
    assert refused(without, for_serving=False).startswith("ALLY_ENCRYPTION_KEY is not set")


def test_encryption_keys_newest_first_and_malformed_ones() -> None:
    older = "Z3JY8Cj9jQeC1mJd3vO1e4L7bq3v9ZQk8nV0mC2pQ1s="
    settings = settings_from_env({**OAUTH, "ALLY_ENCRYPTION_KEY": f" {KEY} , {older} "})
    assert settings.encryption_keys == (KEY, older)
    message = refused({**OAUTH, "ALLY_ENCRYPTION_KEY": f"{KEY},not-a-key"})
    assert message.startswith("ALLY_ENCRYPTION_KEY is malformed (key 2 of 2")
    # Optional without OAuth, but checked when given.
    assert settings_from_env(HTTP).encryption_keys == ()
    assert refused({**HTTP, "ALLY_ENCRYPTION_KEY": "short"}).startswith("ALLY_ENCRYPTION_KEY")


def test_oauth_and_socket_mode_together() -> None:
    message = refused({**OAUTH, "SLACK_APP_TOKEN": "xapp-1"})
    assert "SLACK_CLIENT_ID and SLACK_APP_TOKEN are both set" in message


@pytest.mark.parametrize(
    ("name", "value", "prefix"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token", "xapp-"),
    ],
)
def test_token_with_the_wrong_prefix(name: str, value: str, prefix: str) -> None:
    message = refused({**HTTP, name: value})
    assert message.startswith(f"{name} does not look like")
    assert f"'{prefix}'" in message
    assert value not in message, "a secret is never echoed back"


def test_token_prefix_is_checked_even_for_migrate() -> None:
    assert refused({"SLACK_BOT_TOKEN": "oops"}, for_serving=False).startswith("SLACK_BOT_TOKEN")


@pytest.mark.parametrize("url", ["slack.com/api", "ftp://example.com/api/", "http://"])
def test_slack_api_url_must_be_http(url: str) -> None:
    assert refused({**HTTP, "SLACK_API_URL": url}).startswith("SLACK_API_URL=")


def test_log_level() -> None:
    message = refused({**HTTP, "LOG_LEVEL": "loud"})
    assert message.startswith("LOG_LEVEL='LOUD' is unknown")
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in message


def test_scheduler_switch() -> None:
    assert refused({**HTTP, "ALLY_SCHEDULER": "maybe"}).startswith("ALLY_SCHEDULER='maybe'")


@pytest.mark.parametrize("url", ["data/ally.db", "sqlite//x", "://nothing"])
def test_database_url_that_is_not_a_url(url: str) -> None:
    message = refused({**HTTP, "DATABASE_URL": url})
    assert message.startswith("DATABASE_URL=")
    assert "postgresql://" in message


@pytest.mark.parametrize("url", ["mysql://u@h/d", "oracle://u@h/d"])
def test_database_url_with_an_unsupported_backend(url: str) -> None:
    assert "which Ally does not support" in refused({**HTTP, "DATABASE_URL": url})


@pytest.mark.parametrize(
    "url", ["sqlite:///data/ally.db", "postgresql://u@h/d", "postgres://u@h/d", "sqlite://"]
)
def test_supported_database_urls(url: str) -> None:
    assert settings_from_env({**HTTP, "DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "http", "PORT='http' is not a number"),
        ("PORT", "0", "PORT=0 is out of range: use a number from 1 to 65535"),
        ("PORT", "70000", "PORT=70000 is out of range"),
        ("WEB_CONCURRENCY", "two", "WEB_CONCURRENCY='two' is not a number"),
        ("WEB_CONCURRENCY", "0", "WEB_CONCURRENCY=0 is out of range: use a number from 1 to 64"),
    ],
)
def test_numbers(name: str, value: str, expected: str) -> None:
    assert refused({**HTTP, name: value}).startswith(expected)


def test_environment_wins_over_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=4000\nLOG_LEVEL=DEBUG\n# a comment\nEMPTY=\n")
    monkeypatch.setenv("PORT", "5000")
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    values = load_environment(env_file)
    assert values["PORT"] == "5000"
    assert values["LOG_LEVEL"] == "DEBUG"


def test_a_missing_env_file_is_fine(tmp_path: Path) -> None:
    values = load_environment(tmp_path / "absent.env")
    assert "PATH" in values


def test_env_example_documents_every_variable() -> None:
    root = Path(__file__).resolve().parents[3]
    source = (root / "bot" / "platform" / "config.py").read_text()
    read = set(re.findall(r'_(?:get|int)\(env, "([A-Z_]+)"', source))
    assert "SLACK_BOT_TOKEN" in read, "the scan of bot/platform/config.py found nothing"
    lines = (root / ".env.example").read_text().splitlines()
    documented: set[str] = set()
    for number, line in enumerate(lines):
        match = re.match(r"#? ?([A-Z][A-Z0-9_]+)=", line)
        if match:
            documented.add(match.group(1))
            assert lines[number - 1].startswith("#"), f"{match.group(1)} has no comment above it"
    # The tests' own variables are documented too, for contributors.
    assert documented == read | {"ALLY_TEST_DATABASE_URL", "ALLY_TEST_BACKEND"}
    # So is the list the end-to-end tests keep out of the process under test.
    assert set(ALLY_VARIABLES) == read


def test_slack_api_url_is_the_base_of_the_apps_client(app: App, fake_slack: FakeSlack) -> None:
    assert app.client.base_url == fake_slack.base_url
    assert app.client.token == "xoxb-test"


def test_slack_api_url_is_the_base_of_the_oauth_flows_client(
    fake_slack: FakeSlack, make_runtime: MakeRuntime, sqlite_url: str
) -> None:
    runtime = make_runtime(sqlite_url, SLACK_BOT_TOKEN="", **OAUTH)
    app = create_app(runtime, register=[lambda app, runtime: None])
    assert app.oauth_flow is not None
    assert app.oauth_flow.client.base_url == fake_slack.base_url


def test_every_web_client_is_given_a_base_url() -> None:
    # A WebClient made without base_url would talk to slack.com whatever SLACK_API_URL says; each
    # must take it from the settings (bot.platform.app.web_client) or from a client that did.
    root = Path(__file__).resolve().parents[3]
    made: dict[str, bool] = {}
    for folder in ("bot", "handlers", "storage"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and _called_name(node) in CLIENTS:
                    keywords = {keyword.arg for keyword in node.keywords}
                    made[f"{path.relative_to(root)}:{node.lineno}"] = "base_url" in keywords
    assert any(where.startswith("bot/platform/app.py:") for where in made), made
    assert [where for where, has_base in made.items() if not has_base] == []


CLIENTS = ("WebClient", "AsyncWebClient")


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def test_calendar_http_hosts_are_a_comma_separated_list_empty_by_default(
    fake_slack: FakeSlack, sqlite_url: str
) -> None:
    from tests.support.settings import make_settings

    assert make_settings(fake_slack, sqlite_url).calendar_http_hosts == frozenset()
    given = make_settings(
        fake_slack, sqlite_url, ALLY_CALENDAR_ALLOW_HTTP_HOSTS=" 127.0.0.1, Feeds.Test ,"
    )
    assert given.calendar_http_hosts == {"127.0.0.1", "feeds.test"}
