"""Configuration from the environment and ``.env``.

Missing or malformed settings stop start-up with one line that names the variable and the fix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from storage.sealed import BadKey, parse_keys

DEFAULT_DATABASE_URL = "sqlite:///data/ally.db"
DATABASES = ("sqlite", "postgresql", "postgres")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    bot_token: str | None
    signing_secret: str | None
    app_token: str | None
    client_id: str | None
    client_secret: str | None
    database_url: str
    slack_api_url: str | None
    port: int
    log_level: str
    scheduler: bool
    workers: int
    # ALLY_ENCRYPTION_KEY: Fernet keys, newest first, that seal the stored Slack tokens.
    encryption_keys: tuple[str, ...] = ()
    # ALLY_CALENDAR_ALLOW_HTTP_HOSTS, for tests only: hosts whose calendar feeds may be read
    # over plain HTTP and at a private address (a feed served on 127.0.0.1).
    calendar_http_hosts: frozenset[str] = frozenset()

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def oauth(self) -> bool:
        return self.client_id is not None

    @property
    def api_base_url(self) -> str:
        """The Web API base URL every client uses, with the trailing slash the SDK expects."""
        base = self.slack_api_url or "https://slack.com/api/"
        return base if base.endswith("/") else base + "/"


def load_environment(env_file: str | Path = ".env") -> dict[str, str]:
    """The process environment over the values in ``env_file`` (the environment wins)."""
    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    values.update(os.environ)
    return values


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _require_prefix(name: str, value: str | None, prefix: str, what: str) -> None:
    if value is not None and not value.startswith(prefix):
        raise ConfigError(
            f"{name} does not look like {what} (it should start with '{prefix}'): "
            f"copy it again from your app's settings at api.slack.com/apps."
        )


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number: set it to a whole number.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range: use a number from {low} to {high}.")
    return value


def _database_url(env: Mapping[str, str]) -> str:
    url = _get(env, "DATABASE_URL") or DEFAULT_DATABASE_URL
    fix = "use e.g. sqlite:///data/ally.db or postgresql://user@host:5432/dbname."
    try:
        backend = make_url(url).get_backend_name() if "://" in url else None
    except ArgumentError:
        backend = None
    if backend is None:
        raise ConfigError(f"DATABASE_URL={url!r} is not a database URL: {fix}")
    if backend not in DATABASES:
        raise ConfigError(f"DATABASE_URL uses {backend!r}, which Ally does not support: {fix}")
    return url


def settings_from_env(env: Mapping[str, str], *, for_serving: bool = True) -> Settings:
    """Read and check every setting. ``for_serving`` also requires the Slack credentials."""
    bot_token = _get(env, "SLACK_BOT_TOKEN")
    signing_secret = _get(env, "SLACK_SIGNING_SECRET")
    app_token = _get(env, "SLACK_APP_TOKEN")
    client_id = _get(env, "SLACK_CLIENT_ID")
    client_secret = _get(env, "SLACK_CLIENT_SECRET")

    _require_prefix("SLACK_BOT_TOKEN", bot_token, "xoxb-", "a bot token")
    _require_prefix("SLACK_APP_TOKEN", app_token, "xapp-", "an app-level token")

    if for_serving:
        if client_id is None and bot_token is None:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: add the Bot User OAuth Token (xoxb-...) from "
                "OAuth & Permissions to .env (or set SLACK_CLIENT_ID for multi-workspace OAuth)."
            )
        if app_token is None and signing_secret is None:
            alternative = (
                "OAuth installs are served over HTTP, where every request is verified with it"
                if client_id is not None
                else "or set SLACK_APP_TOKEN to use Socket Mode"
            )
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: copy the Signing Secret from Basic Information "
                f"into .env ({alternative})."
            )
        if client_id is not None and client_secret is None:
            raise ConfigError(
                "SLACK_CLIENT_SECRET is not set but SLACK_CLIENT_ID is: copy the Client Secret "
                "from Basic Information into .env."
            )
        if client_id is not None and app_token is not None:
            raise ConfigError(
                "SLACK_CLIENT_ID and SLACK_APP_TOKEN are both set: OAuth installs need HTTP mode; "
                "unset SLACK_APP_TOKEN (multi-workspace) or SLACK_CLIENT_ID (Socket Mode)."
            )

    slack_api_url = _get(env, "SLACK_API_URL")
    if slack_api_url is not None:
        parsed = urlparse(slack_api_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(
                f"SLACK_API_URL={slack_api_url!r} is not an http(s) URL: "
                "unset it for Slack itself, or give e.g. http://127.0.0.1:8080/api/."
            )

    log_level = (_get(env, "LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(
            f"LOG_LEVEL={log_level!r} is unknown: use one of {', '.join(LOG_LEVELS)}."
        )

    scheduler_raw = (_get(env, "ALLY_SCHEDULER") or "on").lower()
    if scheduler_raw not in ("on", "off"):
        raise ConfigError(f"ALLY_SCHEDULER={scheduler_raw!r} is not on/off: set it to on or off.")

    database_url = _database_url(env)
    encryption_keys = _encryption_keys(env, oauth=client_id is not None)

    return Settings(
        bot_token=bot_token,
        signing_secret=signing_secret,
        app_token=app_token,
        client_id=client_id,
        client_secret=client_secret,
        database_url=database_url,
        slack_api_url=slack_api_url,
        port=_int(env, "PORT", 3000, 1, 65535),
        log_level=log_level,
        scheduler=scheduler_raw == "on",
        workers=_int(env, "WEB_CONCURRENCY", 1, 1, 64),
        encryption_keys=encryption_keys,
        calendar_http_hosts=frozenset(
            host.strip().casefold()
            for host in (_get(env, "ALLY_CALENDAR_ALLOW_HTTP_HOSTS") or "").split(",")
            if host.strip()
        ),
    )


def _encryption_keys(env: Mapping[str, str], *, oauth: bool) -> tuple[str, ...]:
    """``ALLY_ENCRYPTION_KEY``: required with OAuth, where each workspace's token is stored."""
    try:
        keys = parse_keys(_get(env, "ALLY_ENCRYPTION_KEY"))
    except BadKey as error:
        raise ConfigError(
            f"ALLY_ENCRYPTION_KEY is malformed ({error}): run `ally-bot keygen` for a new key."
        ) from None
    if oauth and not keys:
        raise ConfigError(
            "ALLY_ENCRYPTION_KEY is not set but SLACK_CLIENT_ID is: workspace tokens are stored "
            "encrypted; run `ally-bot keygen` and put the key in .env."
        )
    return keys
