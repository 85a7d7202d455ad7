"""Shared fixtures: a fake Slack, a frozen clock, migrated SQLite and PostgreSQL databases,
and the real Bolt app wired to all three."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import Phase, settings
from slack_bolt import App
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

import handlers
from bot.platform.app import create_app
from bot.platform.clock import Clock
from bot.platform.runtime import Runtime
from storage.db import normalise_url
from storage.migrate import upgrade
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.runtime import MakeRuntime
from tests.support.settings import BACKEND_ENV, PG_ENV, SECRET, make_settings
from tests.support.slack_requests import SlackDriver

# make mutate (docs/testing.md): the same examples every run, and a failing example reported as
# found rather than shrunk, so that a mutant a property test catches costs one failure.
settings.register_profile(
    "mutation", derandomize=True, database=None, phases=[Phase.explicit, Phase.generate]
)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    fake.add_user("U1", "Ana Silva", tz="Europe/London")
    fake.add_user("U2", "Maria Lopez", tz="America/New_York")
    fake.add_user("U3", "Bob Chen", tz="Asia/Tokyo")
    fake.add_user("U4", "Kathy Ito", tz="Europe/Berlin")
    fake.add_user("UBOTX", "Reminder Bot", is_bot=True)
    fake.add_user("UGONE", "Former Colleague", deleted=True)
    # The channel SlackDriver's commands come from, with Ally in it (no one else, so no one
    # shares a channel with a guest unless a test says so).
    fake.add_channel("C1", "UBOT")
    yield fake
    fake.stop()


# -- databases --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per test session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "ally.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "ally.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated, dropped at the end."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)")
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    name = f"ally_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(base)).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """The session's PostgreSQL database, emptied after each test."""
    yield pg_database
    engine = create_engine(pg_database)
    # Every table the migrations made (the OAuth stores' too), except Alembic's own.
    names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
    tables = ", ".join(f'"{name}"' for name in names)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test on SQLite and on PostgreSQL."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_url")
    return request.getfixturevalue("sqlite_url")


# -- the app ----------------------------------------------------------------------------------


@pytest.fixture
def app_db_url(request: pytest.FixtureRequest) -> str:
    """The database the app fixtures run on: SQLite, or PostgreSQL with ALLY_TEST_BACKEND=postgres.

    CI runs the suite once each way, so every test through ``runtime``/``app``/``slack`` runs on
    both databases.
    """
    backend = os.environ.get(BACKEND_ENV, "sqlite")
    if backend not in ("sqlite", "postgres"):
        raise pytest.UsageError(f"{BACKEND_ENV}={backend!r}: use sqlite or postgres")
    return request.getfixturevalue("pg_url" if backend == "postgres" else "sqlite_url")


@pytest.fixture
def make_runtime(fake_slack: FakeSlack, clock: FrozenClock) -> Iterator[MakeRuntime]:
    """The one way tests start a runtime; every runtime it started is closed after the test."""
    started: list[Runtime] = []
    frozen = clock

    def make(
        url: str,
        *,
        clock: Clock = frozen,
        sleep: Callable[[float], None] = fake_slack.sleep,
        **env: str,
    ) -> Runtime:
        runtime = Runtime.start(make_settings(fake_slack, url, **env), clock=clock, sleep=sleep)
        started.append(runtime)
        return runtime

    yield make
    for runtime in reversed(started):
        runtime.close()


@pytest.fixture
def runtime(make_runtime: MakeRuntime, app_db_url: str) -> Runtime:
    return make_runtime(app_db_url)


@pytest.fixture
def db_runtime(make_runtime: MakeRuntime, db_url: str) -> Runtime:
    """A runtime on SQLite and on PostgreSQL (the test runs once on each)."""
    return make_runtime(db_url)


@pytest.fixture
def app(runtime: Runtime) -> Iterator[App]:
    bolt = create_app(runtime, register=[handlers.register])
    yield bolt
    # Let work Bolt runs after the response (Home republishes) finish while the fake Slack is up.
    bolt.listener_runner.listener_executor.shutdown(wait=True)


@pytest.fixture
def slack(app: App, fake_slack: FakeSlack) -> SlackDriver:
    return SlackDriver(app, SECRET, fake=fake_slack)
