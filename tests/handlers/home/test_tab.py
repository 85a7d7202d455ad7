"""The Home tab through the real Bolt app: opened, and republished after a write."""

from __future__ import annotations

import json
from datetime import timedelta

from slack_bolt import App

from bot.ledger.people import MemberRef, SlackPerson
from bot.ledger.service import ContactUpdate, record_favour, update_contact
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Bond, InteractionKind, Level, Network
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver
from tests.support.waiting import wait_for, wait_until_on_home

ANA = MemberRef("T1", "U1")


def home_opened(slack: SlackDriver, user: str = "U1", tab: str = "home") -> None:
    reply = slack.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": tab})
    assert reply.status == 200


def published(fake: FakeSlack, user: str = "U1") -> list[str]:
    return [
        json.dumps(call["view"], ensure_ascii=False)
        for call in fake.calls_to("views.publish")
        if call["user_id"] == user
    ]


def test_opening_home_publishes_the_members_view(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    home_opened(slack)
    views = published(fake_slack)
    assert len(views) == 1
    view = fake_slack.calls_to("views.publish")[0]["view"]
    assert view["type"] == "home"
    assert "0 people in your network" in views[0]


def test_messages_tab_publishes_nothing(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    home_opened(slack, tab="messages")
    assert fake_slack.calls_to("views.publish") == []


def test_home_shows_the_members_own_data_only(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    now = clock()
    with transaction(runtime.sessions) as session:
        update_contact(
            session,
            ANA,
            SlackPerson("U2", "Maria Lopez"),
            ContactUpdate(networks=int(Network.STRATEGIC), level=Level.ABOVE, bond=Bond.ALLIANCE),
            now,
        )
        record_favour(
            session,
            ANA,
            SlackPerson("U2", "Maria Lopez"),
            InteractionKind.FAVOUR_RECEIVED,
            "Reviewed my plan",
            now - timedelta(days=40),
            when=now - timedelta(days=40),
        )
    home_opened(slack)
    home_opened(slack, user="U3")
    mine, theirs = published(fake_slack, "U1")[0], published(fake_slack, "U3")[0]
    assert "<@U2>: due (10 days past the ideal)" in mine
    assert "This week's person:* <@U2>" in mine
    assert "Maria" not in theirs and "0 people" in theirs


def test_a_write_through_the_app_republishes_home(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    home_opened(slack)
    assert ":pray:" in published(fake_slack)[0]
    reply = slack.command("react :raised_hands:")
    assert "raised_hands" in reply.text
    views = wait_for(lambda: published(fake_slack)[1:])
    assert ":raised_hands: to someone's message" in views[-1]


def test_a_request_that_writes_nothing_does_not_republish(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    slack.command("react")  # shows the emoji, writes nothing
    slack.command("help")
    home_opened(slack)  # a marker: once it is recorded, anything earlier would be too
    assert len(fake_slack.calls_to("views.publish")) == 1


def test_writes_from_other_modules_republish_too(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    home_opened(slack)
    # `/ally focus` lives in handlers/questions/commands.py and knows nothing about Home.
    slack.command("focus pricing strategy")
    views = wait_for(lambda: published(fake_slack)[1:])
    assert "Focus of inquiry: *pricing strategy*" in views[-1]


def test_home_is_republished_only_while_the_member_may_be_looking_at_it(
    slack: SlackDriver, fake_slack: FakeSlack, app: App, clock: FrozenClock
) -> None:
    home_opened(slack)
    clock.advance(minutes=29)
    slack.command("focus pricing strategy")
    views = wait_for(lambda: published(fake_slack)[1:])
    assert "Focus of inquiry: *pricing strategy*" in views[-1]

    clock.advance(minutes=2)  # half an hour since they entered Home: they have moved on
    assert "hiring" in slack.command("focus hiring").text
    app.listener_runner.listener_executor.shutdown(wait=True)
    assert len(published(fake_slack)) == 2


def test_a_write_by_someone_who_never_opened_home_publishes_nothing_until_they_do(
    slack: SlackDriver, fake_slack: FakeSlack, app: App
) -> None:
    slack.command("focus pricing strategy")
    slack.command("react :raised_hands:")
    app.listener_runner.listener_executor.shutdown(wait=True)  # all work after the replies
    assert published(fake_slack) == []
    home_opened(slack)  # entering Home shows everything written before
    (view,) = published(fake_slack)
    assert "Focus of inquiry: *pricing strategy*" in view and ":raised_hands:" in view


def test_a_click_on_a_home_button_counts_as_being_on_home(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    home_opened(slack)
    clock.advance(hours=3)  # Home left open on screen all afternoon
    home = {"id": "VHOME", "type": "home"}
    slack.action("nudge_settings", extra={"view": home, "container": {"type": "view"}})
    wait_until_on_home(runtime, ANA)
    clock.advance(minutes=1)
    slack.command("focus pricing strategy")
    assert wait_for(
        lambda: any("Focus of inquiry: *pricing strategy*" in v for v in published(fake_slack))
    )
