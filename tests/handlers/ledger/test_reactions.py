"""Reaction capture end to end: react, get an ephemeral offer, log the author's help."""

from __future__ import annotations

import json

import pytest

from bot.errors import NotFound
from bot.ledger.people import MemberRef, SlackPerson
from bot.ledger.service import history
from bot.platform.runtime import Runtime
from storage.db import transaction
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack, Params
from tests.support.slack_requests import SlackDriver
from tests.support.waiting import wait_for

ANA = MemberRef("T1", "U1")
LINK = "https://acme.slack.com/archives/C7/p1700000001000100"


@pytest.fixture(autouse=True)
def channel(fake_slack: FakeSlack) -> None:
    """C7, where the reactions are, is a channel Ally is in (an ephemeral offer needs that)."""
    fake_slack.add_channel("C7", "UBOT", "U1", "U2")


def permalinks(fake: FakeSlack) -> None:
    def answer(params: Params) -> dict:
        ts = str(params["message_ts"]).replace(".", "")
        return {
            "ok": True,
            "permalink": f"https://acme.slack.com/archives/{params['channel']}/p{ts}",
        }

    fake.on("chat.getPermalink", answer)


def react(
    slack: SlackDriver,
    *,
    user: str = "U1",
    author: str | None = "U2",
    emoji: str = "pray",
    event_id: str = "Ev1",
) -> None:
    event = {
        "type": "reaction_added",
        "user": user,
        "reaction": emoji,
        "item": {"type": "message", "channel": "C7", "ts": "1700000001.000100"},
        "event_ts": "1700000002.000100",
    }
    if author is not None:
        event["item_user"] = author
    assert slack.event(event, event_id=event_id).status == 200


def test_reacting_offers_to_log_and_logging_records_the_favour(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    permalinks(fake_slack)
    # Home open in a window of its own, so the favour shows there once it is logged.
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    react(slack, emoji="pray::skin-tone-3")
    [offer] = fake_slack.calls_to("chat.postEphemeral")
    assert offer["channel"] == "C7" and offer["user"] == "U1"
    blocks = offer["blocks"]
    assert "Log *Maria Lopez* as having helped you" in json.dumps(blocks)
    assert LINK in json.dumps(blocks)
    button = blocks[-1]["elements"][0]
    assert button["action_id"] == "log_reaction_favour"

    reply = slack.action(
        "log_reaction_favour",
        value=button["value"],
        extra={
            "response_url": fake_slack.response_url("response_url"),
            "channel": {"id": "C7"},
            "container": {"type": "message", "is_ephemeral": True},
        },
    )
    assert reply.status == 200
    [answer] = fake_slack.calls_to("response_url")
    assert answer["replace_original"] is True
    assert "Logged: *Maria Lopez* helped you" in json.dumps(answer["blocks"])
    assert answer["blocks"][-1]["elements"][0]["action_id"] == "say_thanks"

    with transaction(runtime.sessions) as session:
        maria = history(session, ANA, SlackPerson("U2", "Maria Lopez"), clock())
    [favour] = maria.received
    assert favour.message_link == LINK
    assert ":pray:" in favour.what
    assert maria.balance == -1

    def favour_on_home() -> bool:
        views = [json.dumps(c["view"]) for c in fake_slack.calls_to("views.publish")]
        # Home names her as a mention in the favours it lists (Slack shows her current name).
        return any(
            "They helped you" in v and "<@U2>: Their message you reacted" in v for v in views
        )

    assert wait_for(favour_on_home)


def test_own_messages_bots_other_emoji_and_non_messages_are_ignored(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    permalinks(fake_slack)
    react(slack, author="U1", event_id="E1")  # your own message
    react(slack, author="UBOTX", event_id="E2")  # a bot's message
    react(slack, author="UGONE", event_id="E3")  # a deactivated author
    react(slack, emoji="tada", event_id="E4")  # another emoji
    react(slack, author=None, event_id="E5")  # no author (e.g. an app's message)
    slack.event(
        {
            "type": "reaction_added",
            "user": "U1",
            "reaction": "pray",
            "item_user": "U2",
            "item": {"type": "file", "file": "F1"},
        },
        event_id="E6",
    )
    assert fake_slack.calls_to("chat.postEphemeral") == []
    assert fake_slack.calls_to("views.publish") == []  # nothing written


def test_a_member_can_change_the_emoji(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    permalinks(fake_slack)
    assert "Done: react with :raised_hands:" in slack.command("react :Raised_Hands:").text
    react(slack, emoji="pray", event_id="E1")
    assert fake_slack.calls_to("chat.postEphemeral") == []
    react(slack, emoji="raised_hands", event_id="E2")
    assert len(fake_slack.calls_to("chat.postEphemeral")) == 1
    assert "Give one emoji" in slack.command("react <script>").text


def test_a_garbled_button_logs_nothing(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    slack.action(
        "log_reaction_favour",
        value="{not json",
        extra={"response_url": fake_slack.response_url("response_url")},
    )
    [answer] = fake_slack.calls_to("response_url")
    assert "nothing was logged" in answer["text"]


def test_without_a_permalink_the_offer_still_works(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.getPermalink", status=200, error="message_not_found", retry_after=None)
    react(slack)
    [offer] = fake_slack.calls_to("chat.postEphemeral")
    assert "for this message" in json.dumps(offer["blocks"])


def test_in_a_channel_ally_is_not_in_there_is_no_offer_and_no_error(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    # Slack refuses the ephemeral offer (not_in_channel): nothing to show, nothing logged.
    fake_slack.add_channel("C7", "U1", "U2")
    react(slack)
    wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))
    assert fake_slack.calls_to("chat.postMessage") == []
    with transaction(runtime.sessions) as session, pytest.raises(NotFound):
        history(session, ANA, SlackPerson("U2"), clock())
