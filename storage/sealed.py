"""Slack tokens sealed at rest with Fernet (``cryptography``): AES-128-CBC and HMAC-SHA256.

``ALLY_ENCRYPTION_KEY`` holds one or more Fernet keys, comma separated, newest first. New
values are sealed with the newest key; a value sealed with any of the listed keys still opens,
so a key is rotated by putting the new one in front, running ``ally-bot reseal`` (every stored
token sealed again with the new key) and then dropping the old one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Engine

# Marks a sealed value in the database, so a plain one (written before sealing) is recognised.
PREFIX = "fernet:"
# The token columns of slack_sdk's installation store (slack_installations, slack_bots).
INSTALLATION_TOKENS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
BOT_TOKENS = ("bot_token", "bot_refresh_token")
TOKEN_TABLES = {"slack_installations": INSTALLATION_TOKENS, "slack_bots": BOT_TOKENS}


class BadKey(ValueError):
    """``ALLY_ENCRYPTION_KEY`` is not a list of Fernet keys."""


def new_key() -> str:
    """A fresh key for ``ALLY_ENCRYPTION_KEY`` (URL-safe base64 of 32 random bytes)."""
    return Fernet.generate_key().decode()


def parse_keys(raw: str | None) -> tuple[str, ...]:
    """The keys in ``raw`` (comma separated, newest first); raises BadKey on a bad one."""
    keys = tuple(part.strip() for part in (raw or "").split(",") if part.strip())
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise BadKey(
                f"key {position} of {len(keys)} is not a Fernet key "
                "(URL-safe base64 of 32 bytes, as `ally-bot keygen` prints)"
            ) from None
    return keys


class MissingKey(RuntimeError):
    """Tokens need sealing or opening and no key was given; the message says what to do."""


class Sealer:
    """Seals and opens token strings with the newest of ``keys`` first."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise BadKey("no key given")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def seal(self, value: str | None) -> str | None:
        """``value`` sealed with the newest key; None and already sealed values pass as they are."""
        if value is None or is_sealed(value):
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        """The plain token; a plain value (stored before sealing) is returned as it is."""
        if value is None or not is_sealed(value):
            return value
        try:
            return self._fernet.decrypt(value[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise BadKey(
                "a stored token was sealed with a key that is not in ALLY_ENCRYPTION_KEY: "
                "put the key it was sealed with back in the list (after the new one)"
            ) from None

    def reseal(self, value: str | None) -> str | None:
        """``value`` sealed with the newest key, whatever it was sealed with (or plain)."""
        return self.seal(self.open(value))


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def plain_values(values: Iterable[str | None]) -> int:
    """How many of ``values`` are tokens stored in plain text."""
    return sum(1 for value in values if value is not None and not is_sealed(value))


# Where ``storage.migrate`` hands the keys to a migration (Alembic's ``config.attributes``).
MIGRATION_KEYS = "ally.encryption_keys"


def tokens_key_from(attributes: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys a migration should use: those ``ally-bot migrate`` passed, else the
    ``ALLY_ENCRYPTION_KEY`` environment variable (Alembic run by hand)."""
    given = attributes.get(MIGRATION_KEYS)
    if given:
        return tuple(given)
    return parse_keys(os.environ.get("ALLY_ENCRYPTION_KEY"))


def reseal_tokens(engine: Engine, sealer: Sealer) -> int:
    """Seal every stored token (plain, or sealed with an older key) with the newest key, in
    one transaction; returns how many tokens were written."""
    from sqlalchemy import Integer, Text, column, select, table, update

    written = 0
    with engine.begin() as connection:
        for name, columns in (
            ("slack_installations", INSTALLATION_TOKENS),
            ("slack_bots", BOT_TOKENS),
        ):
            tokens = table(name, column("id", Integer), *(column(c, Text) for c in columns))
            for row in connection.execute(select(tokens)).mappings():
                values = {c: sealer.reseal(row[c]) for c in columns}
                written += sum(1 for c in columns if row[c] is not None)
                connection.execute(update(tokens).where(tokens.c.id == row["id"]).values(**values))
    return written
