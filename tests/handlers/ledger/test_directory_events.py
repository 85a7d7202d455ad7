"""``user_change`` through the real app: a member who moved is followed, nobody else changes."""

from __future__ import annotations

from sqlalchemy import select

from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Member
from storage.repository import get_or_create_member
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver


def test_a_member_who_moves_gets_their_new_zone_without_a_call_to_slack(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    with transaction(runtime.sessions) as session:
        for user in ("U2", "U3"):
            member = get_or_create_member(session, "", "T1", user, clock.now)
            member.tz = "Europe/London"
    reply = slack.event(
        {
            "type": "user_change",
            "user": {
                "id": "U2",
                "team_id": "T1",
                "tz": "America/New_York",
                "profile": {"display_name": "Maria Lopez"},
            },
            "cache_ts": 1700000000,
            "event_ts": "1700000000.000100",
        }
    )
    assert reply.status == 200
    with runtime.sessions() as session:
        rows = session.execute(select(Member.user_id, Member.tz, Member.tz_checked_at)).all()
    zones = {user: (tz, checked) for user, tz, checked in rows}
    assert zones["U2"] == ("America/New_York", clock.now)
    assert zones["U3"][0] == "Europe/London"
    assert fake_slack.calls_to("users.info") == []


def test_a_change_for_someone_who_is_not_a_member_changes_nothing(
    slack: SlackDriver, runtime: Runtime
) -> None:
    reply = slack.event({"type": "user_change", "user": {"id": "U9", "tz": "Asia/Tokyo"}})
    assert reply.status == 200
    with runtime.sessions() as session:
        assert session.scalars(select(Member)).all() == []
