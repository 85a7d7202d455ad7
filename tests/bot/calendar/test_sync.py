"""Syncing every due feed: ``ally-bot calendar sync [--at]`` and the scheduler's job, each feed
read by one process however many run, every 4 hours; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.calendar import service
from bot.ledger.people import MemberRef, SlackPerson
from bot.ledger.service import ContactUpdate, update_contact
from bot.platform.app import web_client
from bot.platform.cli import main
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import CalendarFeed, Interaction
from tests.support.calendar_feeds import FeedServer, feed_server, google
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.settings import SECRET, TEST_ENCRYPTION_KEY

MEMBERS = ("U1", "U4", "U5")


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


@pytest.fixture
def cal_runtime(make_runtime, db_url: str) -> Runtime:  # type: ignore[no-untyped-def]
    return make_runtime(db_url, ALLY_CALENDAR_ALLOW_HTTP_HOSTS="127.0.0.1")


def members_with_feeds(
    runtime: Runtime, fake: FakeSlack, feeds: FeedServer, clock: FrozenClock
) -> None:
    """Three members, each with Maria as a contact and the same Google feed (all the 1:1s
    of a shared calendar); connected 30 days after the clock's start, so that the weekly 1:1
    keeps ending after each sync."""
    fake.add_user("U2", "Maria Lopez")
    fake.add_email("U2", "maria@acme.test")
    for user in MEMBERS:
        fake.add_user(user, f"Member {user}")
        fake.add_email(user, "ana@acme.test" if user == "U1" else f"{user.lower()}@acme.test")
        ref = MemberRef("T1", user)
        with transaction(runtime.sessions) as session:
            update_contact(session, ref, SlackPerson("U2", "Maria Lopez"), ContactUpdate(), clock())
        done = service.connect(
            runtime, web_client(runtime), ref, feeds.serve(f"/{user}.ics", google()), clock()
        )
        assert done.error is None, done


def logged(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Interaction)
                .where(Interaction.source == "calendar")
            )
            or 0
        )


def test_cli_syncs_each_due_feed_once_and_every_4_hours(
    cal_runtime: Runtime,
    fake_slack: FakeSlack,
    feeds: FeedServer,
    clock: FrozenClock,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    members_with_feeds(cal_runtime, fake_slack, feeds, clock)
    # Three 1:1s each; the coffee Ana declined counts for the others (she is U1, not them).
    assert logged(cal_runtime) == 3 + 4 + 4
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in {
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "ALLY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "ALLY_CALENDAR_ALLOW_HTTP_HOSTS": "127.0.0.1",
    }.items():
        monkeypatch.setenv(name, value)

    def sync(at: str) -> str:
        assert main(["calendar", "sync", "--at", at]) == 0
        return capsys.readouterr().out

    # Not due yet: each was read when connected.
    assert "0 read, 0 failed, 0 catch-up(s) logged" in sync("2026-11-16T12:00:00+00:00")
    assert set(feeds.hits.values()) == {1}
    # Four hours on, all three are read once; Wednesday's 1:1 (18 Nov) is not over yet.
    assert "3 read, 0 failed, 0 catch-up(s) logged" in sync("2026-11-16T14:00:00+00:00")
    assert "0 read" in sync("2026-11-16T14:00:00+00:00")
    assert set(feeds.hits.values()) == {2}
    # After it, each member gets it once.
    assert "3 read, 0 failed, 3 catch-up(s) logged" in sync("2026-11-18T12:00:00+00:00")
    assert logged(cal_runtime) == 11 + 3
    # A feed that fails is recorded as failing; the others go on.
    feeds.serve("/U4.ics", b"", status=404)
    out = sync("2026-11-25T12:00:00+00:00")
    assert "2 read, 1 failed, 2 catch-up(s) logged" in out
    with cal_runtime.sessions() as session:
        failing = session.scalars(
            select(CalendarFeed).where(CalendarFeed.failing_since.is_not(None))
        ).all()
    assert [f.last_error and "HTTP 404" in f.last_error for f in failing] == [True]


def test_processes_syncing_at_once_read_each_feed_once(
    cal_runtime: Runtime, fake_slack: FakeSlack, feeds: FeedServer, clock: FrozenClock
) -> None:
    members_with_feeds(cal_runtime, fake_slack, feeds, clock)
    for user in MEMBERS:  # slow feeds, so that the runs overlap
        feeds.serve(f"/{user}.ics", google(), delay=0.3)
    later = clock() + timedelta(days=3)  # after Wednesday's 1:1
    results: list[dict[str, int]] = []

    def run() -> None:
        results.append(service.sync_due(cal_runtime, later))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r["synced"] for r in results) == 3
    assert sum(r["logged"] for r in results) == 3
    assert set(feeds.hits.values()) == {2}  # connected, then one sync
    assert logged(cal_runtime) == 11 + 3
