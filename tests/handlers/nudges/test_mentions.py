"""The weekly DM and what its buttons say name a Slack user as a mention (``<@U…>``: Slack shows
their current name, clickable) and an outside person by their escaped name; the cached name
only in plain text (the notification)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.ledger.service import record_favour
from bot.nudges.delivery import Delivery
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import InteractionKind
from storage.repository import get_or_create_member
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.messages import button, press
from tests.support.slack_requests import SlackDriver

ANA = MemberRef(team_id="T1", user_id="U1")


def weekly_dm(runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, person: Any) -> dict:
    """Ana's weekly DM with ``person`` overdue (100 days since they helped her)."""
    with transaction(runtime.sessions) as session:
        member = get_or_create_member(session, "", "T1", "U1", clock.now)
        member.tz, member.tz_checked_at = "Europe/London", clock.now
        kind, when = InteractionKind.FAVOUR_RECEIVED, clock.now - timedelta(days=100)
        record_favour(session, ANA, person, kind, "a review", clock.now, when=when)
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    [message] = fake_slack.messages["DU1"]
    return message


def sections(message: dict) -> str:
    return "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")


def test_a_slack_user_is_a_mention_in_the_dm_and_in_what_its_buttons_say(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    dm = weekly_dm(runtime, fake_slack, clock, SlackPerson("U2", "Maria Lopez"))
    text = sections(dm)
    assert "*This week's person:* <@U2>" in text
    assert "*Next step:* Send <@U2> a two-line note today" in text
    assert "Maria Lopez" not in text and "Maria Lopez" in dm["text"]  # plain: the notification
    press(slack, dm, button(dm, "nudge_keep_person", "U2"))
    [update] = fake_slack.calls_to("chat.update")
    assert ":pushpin: <@U2> stays your person next week too." in str(update["blocks"])


def test_an_outside_name_is_escaped_in_the_dm_and_in_what_its_buttons_say(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    dm = weekly_dm(runtime, fake_slack, clock, OutsidePerson("Lee <b> & Co"))
    text = sections(dm)
    assert "*Next step:* Send Lee &lt;b&gt; &amp; Co a two-line note today" in text
    assert "Lee <b>" not in text
    press(slack, dm, button(dm, "nudge_snooze", "~lee <b> & co"))
    [update] = fake_slack.calls_to("chat.update")
    assert "Snoozed *Lee &lt;b&gt; &amp; Co* until" in str(update["blocks"])
