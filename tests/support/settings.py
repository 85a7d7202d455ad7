"""The settings the app runs with in tests: the fake Slack's URL, a test signing secret and
encryption key, the scheduler off; and the variables that point the tests at PostgreSQL."""

from __future__ import annotations

from bot.platform.config import Settings, settings_from_env
from tests.support.fake_slack import FakeSlack

SECRET = "test-signing-secret"
# A fixed Fernet key for ALLY_ENCRYPTION_KEY in tests (OAuth mode requires one).
TEST_ENCRYPTION_KEY = "q0Dq2mB7u0n3JQnq6y0Wm7jZ3J0xGQ9m8b0bS3wWd2E="
PG_ENV = "ALLY_TEST_DATABASE_URL"
BACKEND_ENV = "ALLY_TEST_BACKEND"


def make_settings(fake: FakeSlack, database_url: str, **extra: str) -> Settings:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "ALLY_SCHEDULER": "off",
        "ALLY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        **extra,
    }
    return settings_from_env(env)
