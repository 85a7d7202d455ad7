"""``/ally nudges``: show and change the weekly DM, with clear answers to bad values."""

from __future__ import annotations

from sqlalchemy import select

from bot.platform.runtime import Runtime
from storage.models import Member
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver


def member(runtime: Runtime, user_id: str = "U1") -> Member:
    with runtime.sessions() as session:
        return session.scalars(select(Member).where(Member.user_id == user_id)).one()


def test_shows_the_defaults_in_the_members_own_zone(slack: SlackDriver, runtime: Runtime) -> None:
    reply = slack.command("nudges", user="U2")
    assert reply.status == 200
    assert "*on*: Mondays at 09:00 (America/New_York" in reply.text
    # 10:00 UTC on Monday is 05:00 in New York: today's nudge is still ahead.
    assert "Next one: Monday 16 November at 09:00" in reply.text
    assert member(runtime, "U2").tz == "America/New_York"


def test_a_passed_slot_says_the_nudge_is_on_its_way(slack: SlackDriver) -> None:
    assert "This week's is on its way" in slack.command("nudges", user="U1").text


def test_off_and_on(slack: SlackDriver, runtime: Runtime) -> None:
    assert "Your weekly nudge is *off*" in slack.command("nudges off").text
    assert member(runtime).nudges_enabled is False
    assert "*on*" in slack.command("nudges ON").text
    assert member(runtime).nudges_enabled is True


def test_change_day_and_time(slack: SlackDriver, runtime: Runtime, clock: FrozenClock) -> None:
    reply = slack.command("nudges friday 16:30")
    assert "Fridays at 16:30 (Europe/London" in reply.text
    assert "Next one: Friday 20 November at 16:30" in reply.text
    assert (member(runtime).nudge_weekday, member(runtime).nudge_minute) == (4, 16 * 60 + 30)
    assert "Thursdays at 09:00" in slack.command("nudges thu").text
    assert "Wednesdays at 17:45" in slack.command("nudges Wed 5:45pm").text


def test_bad_values_get_a_clear_reply_and_change_nothing(
    slack: SlackDriver, runtime: Runtime
) -> None:
    slack.command("nudges")
    cases = {
        "nudges funday": "I don't know the day `funday`",
        "nudges t": "I don't know the day `t`",  # Tuesday or Thursday?
        "nudges monday 25:00": "is not a time of day",
        "nudges monday noonish": "I can't read the time `noonish`",
        "nudges monday 13pm": "the hour goes from 1 to 12",
        "nudges monday 9:00 and more": "Give a day and, if you like, a time",
    }
    for text, expected in cases.items():
        reply = slack.command(text)
        assert reply.status == 200
        assert expected in reply.text, text
        assert "Usage: `/ally nudges [on|off|<weekday> [HH:MM]]`" in reply.text
    assert (member(runtime).nudge_weekday, member(runtime).nudge_minute) == (0, 9 * 60)


def test_the_zone_follows_slack_at_most_once_a_day(
    slack: SlackDriver, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    assert "(Europe/London" in slack.command("nudges").text
    asked = len(fake_slack.calls_to("users.info"))
    fake_slack.users["U1"]["tz"] = "Asia/Tokyo"  # the member moved
    assert "(Europe/London" in slack.command("nudges friday").text
    assert len(fake_slack.calls_to("users.info")) == asked
    clock.advance(days=1)
    assert "Fridays at 09:00 (Asia/Tokyo" in slack.command("nudges").text
