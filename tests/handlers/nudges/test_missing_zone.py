"""Slack leaves ``tz`` out of some user objects (MISSING_TZ in tests/support/fake_slack_rules.py):
such a member keeps the zone Ally has on record, or UTC when it has none, in the command and in
the weekly send, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.nudges.delivery import Delivery
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Member
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.nudge_fixtures import add_member
from tests.support.slack_requests import SlackDriver


@pytest.fixture
def runtime(db_runtime: Runtime) -> Runtime:
    return db_runtime


def zone(runtime: Runtime, user_id: str) -> str:
    with runtime.sessions() as session:
        return session.scalars(select(Member.tz).where(Member.user_id == user_id)).one()


def test_a_new_member_without_a_zone_is_on_utc(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    fake_slack.without_tz("U2")
    reply = slack.command("nudges", user="U2")
    assert reply.status == 200
    assert "*on*: Mondays at 09:00 (UTC" in reply.text
    assert zone(runtime, "U2") == "UTC"
    # Changing the schedule works too.
    assert "Fridays at 16:30 (UTC" in slack.command("nudges friday 16:30", user="U2").text


def test_a_member_slack_stops_giving_a_zone_keeps_theirs(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U3", "Asia/Tokyo")
    with transaction(runtime.sessions) as session:
        session.execute(update(Member).values(tz_checked_at=clock.now - timedelta(days=8)))
    fake_slack.without_tz("U3")
    reply = slack.command("nudges", user="U3")
    assert reply.status == 200 and "(Asia/Tokyo" in reply.text
    assert [c["user"] for c in fake_slack.calls_to("users.info")][-1:] == ["U3"]
    assert zone(runtime, "U3") == "Asia/Tokyo"


def test_the_weekly_dm_goes_out_on_the_zone_on_record(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U2", "America/New_York")  # Monday 09:00 there is 14:00 UTC
    add_member(runtime, "U4", "UTC", checked=False)  # never had a zone from Slack
    with transaction(runtime.sessions) as session:
        session.execute(update(Member).values(tz_checked_at=clock.now - timedelta(days=8)))
    fake_slack.without_tz("U2")
    fake_slack.without_tz("U4")
    send = Delivery(runtime, web_client(runtime))
    # 09:00 UTC: U4's nudge (UTC) is due, U2's is not.
    first = send.run(datetime(2026, 11, 16, 9, tzinfo=UTC))
    assert (first.sent, first.failed) == (1, 0)
    assert "U4" in {c["user"] for c in fake_slack.calls_to("users.info")}
    assert [c["channel"] for c in fake_slack.calls_to("chat.postMessage")] == ["U4"]
    assert (zone(runtime, "U2"), zone(runtime, "U4")) == ("America/New_York", "UTC")
    # 14:00 UTC is 09:00 in New York: U2's zone on record, though Slack gave none.
    later = send.run(datetime(2026, 11, 16, 14, tzinfo=UTC))
    assert (later.sent, later.failed) == (1, 0)
    assert "U2" in {c["user"] for c in fake_slack.calls_to("users.info")}
    assert [c["channel"] for c in fake_slack.calls_to("chat.postMessage")] == ["U4", "U2"]
