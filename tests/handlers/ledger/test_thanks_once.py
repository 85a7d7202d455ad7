"""The thank-you reaches the ally once, whatever Slack answers. Slack may post a message and
still answer 500 or drop the connection ("It's possible some aspect of the operation
succeeded", its internal_error): Ally then tells the member it is not sure, and the next Send
reads the ally's DM before posting anything. Through the real Bolt app and the fake Slack."""

from __future__ import annotations

from typing import Any

import pytest

from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Interaction
from tests.support.clock import FrozenClock
from tests.support.fake_slack import DropConnection, FakeSlack, Params
from tests.support.messages import favour
from tests.support.slack_requests import Reply, SlackDriver


def send(slack: SlackDriver, favour_id: str, text: str) -> Reply:
    values = {"message": {"message": {"type": "plain_text_input", "value": text}}}
    return slack.submit("say_thanks_modal", values, private_metadata=favour_id)


def thanks_to_maria(fake: FakeSlack) -> list[str]:
    """Every message the ally (U2) got from Ally, oldest first."""
    return [m["text"] for m in fake.messages.get("DU2", [])]


def ledger(runtime: Runtime) -> list[tuple[str, str, bool]]:
    with transaction(runtime.sessions) as session:
        rows = session.query(Interaction).order_by(Interaction.id).all()
        return [(r.kind, r.what, r.thanked_at is not None) for r in rows]


def not_sure(reply: Reply) -> bool:
    message = reply.json["errors"]["message"]
    return reply.json["response_action"] == "errors" and (
        "Slack didn't confirm that your thanks reached Maria Lopez" in message
        and "never get it twice" in message
    )


@pytest.mark.parametrize("failure", ["500 after posting", "connection dropped after posting"])
def test_a_thank_you_slack_posted_but_did_not_confirm_is_not_sent_twice(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, failure: str
) -> None:
    favour_id = favour(slack, "thanks <@U2> for the report")
    if failure == "500 after posting":
        fake_slack.fail("chat.postMessage", status=500, error="internal_error", done_first=True)
    else:

        def post_then_drop(params: Params) -> Any:
            fake_slack._chat_postMessage(params)
            fake_slack.on("chat.postMessage", fake_slack._chat_postMessage)
            raise DropConnection

        fake_slack.on("chat.postMessage", post_then_drop)

    first = send(slack, favour_id, "You saved my week.")
    assert not_sure(first)  # told honestly: it may have gone through
    assert thanks_to_maria(fake_slack) == ["<@U1> wanted to say thanks for the report"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # not retried blindly
    assert ledger(runtime) == [("favour_received", "the report", False)]

    again = send(slack, favour_id, "You saved my week.")
    assert again.json["response_action"] == "update"
    assert "<@U2> got your thanks" in again.text
    # Maria got exactly one thank-you; the second Send found it in her DM.
    assert thanks_to_maria(fake_slack) == ["<@U1> wanted to say thanks for the report"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    [history] = fake_slack.calls_to("conversations.history")
    assert history["channel"] == "DU2" and int(history["limit"]) <= 15
    assert ledger(runtime) == [
        ("favour_received", "the report", True),
        ("thanks", "You saved my week.", False),
    ]
    # A third Send is a new thank-you (thanking twice is the member's choice): posted once.
    send(slack, favour_id, "Really, thanks.")
    assert len(thanks_to_maria(fake_slack)) == 2


def test_a_500_before_posting_is_checked_then_sent_once(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    favour_id = favour(slack, "thanks <@U2> for the report")
    send(slack, favour_id, "Thanks!")  # an earlier thank-you for the same favour, delivered
    fake_slack.fail("chat.postMessage", status=503, error="service_unavailable")
    clock.advance(minutes=1)
    assert not_sure(send(slack, favour_id, "Thanks again!"))
    assert len(thanks_to_maria(fake_slack)) == 1
    clock.advance(minutes=1)
    again = send(slack, favour_id, "Thanks again!")
    assert again.json["response_action"] == "update"
    # Not there (the earlier thank-you is another one): posted now, once.
    assert len(thanks_to_maria(fake_slack)) == 2
    assert len(fake_slack.calls_to("conversations.history")) == 1
    assert [w for k, w, _ in ledger(runtime) if k == "thanks"] == ["Thanks!", "Thanks again!"]


def test_when_the_dm_cannot_be_checked_nothing_is_sent_and_the_member_is_told(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    favour_id = favour(slack, "thanks <@U2> for the report")
    fake_slack.fail("chat.postMessage", status=500, error="internal_error", done_first=True)
    assert not_sure(send(slack, favour_id, "Thanks!"))
    # conversations.history is Tier 1 outside the Marketplace: a minute's wait is not waited
    # out inside a form's 3 seconds.
    fake_slack.fail("conversations.history", status=429, retry_after=60)
    reply = send(slack, favour_id, "Thanks!")
    assert (
        "couldn't check yet whether your earlier thanks reached Maria Lopez"
        in (reply.json["errors"]["message"])
    )
    assert len(thanks_to_maria(fake_slack)) == 1
    assert send(slack, favour_id, "Thanks!").json["response_action"] == "update"
    assert len(thanks_to_maria(fake_slack)) == 1
    assert [k for k, _w, _t in ledger(runtime)] == ["favour_received", "thanks"]


def test_a_clear_refusal_is_sent_on_the_next_try_without_reading_the_dm(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    favour_id = favour(slack, "thanks <@U2> for the report")
    fake_slack.fail("chat.postMessage", status=200, error="channel_not_found", retry_after=None)
    assert "press Send again" in send(slack, favour_id, "Thanks!").json["errors"]["message"]
    assert send(slack, favour_id, "Thanks!").json["response_action"] == "update"
    assert len(thanks_to_maria(fake_slack)) == 1
    assert fake_slack.calls_to("conversations.history") == []


def test_two_sends_at_once_reach_the_ally_once(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    """A double submit: the second Send arrives while the first is opening the DM, after both
    read the favour. One posts; the other is told to check again, and posts nothing."""
    favour_id = favour(slack, "thanks <@U2> for the report")
    second: list[Reply] = []

    def open_and_send_again(params: Params) -> Any:
        fake_slack.on("conversations.open", fake_slack._conversations_open)
        second.append(send(slack, favour_id, "You saved my week."))
        return fake_slack._conversations_open(params)

    fake_slack.on("conversations.open", open_and_send_again)
    first = send(slack, favour_id, "You saved my week.")

    assert second[0].json["response_action"] == "update"  # it got there first, and posted
    assert first.json["response_action"] == "errors"
    assert "haven't sent it again" in first.json["errors"]["message"]
    assert thanks_to_maria(fake_slack) == ["<@U1> wanted to say thanks for the report"]
