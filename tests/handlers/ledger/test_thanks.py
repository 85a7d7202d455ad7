"""Say thanks: the button opens a pre-filled modal; submitting it DMs the ally and marks the
favour thanked. Driven through the real Bolt app against the fake Slack."""

from __future__ import annotations

from typing import Any

import pytest

from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Interaction
from tests.support.fake_slack import FakeSlack
from tests.support.messages import favour
from tests.support.slack_requests import Reply, SlackDriver


def words(text: str | None) -> dict[str, dict[str, Any]]:
    return {"message": {"message": {"type": "plain_text_input", "value": text}}}


def ledger(runtime: Runtime) -> list[tuple[str, str, str, bool]]:
    with transaction(runtime.sessions) as session:
        rows = session.query(Interaction).order_by(Interaction.id).all()
        return [(r.kind, r.contact.key, r.what, r.thanked_at is not None) for r in rows]


def test_say_thanks_opens_a_warm_prefilled_modal(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    favour_id = favour(slack, "thanks <@U2> for the custom report")
    assert slack.action("say_thanks", value=favour_id).status == 200
    [opened] = fake_slack.calls_to("views.open")
    assert opened["trigger_id"] == slack.last_trigger
    view = opened["view"]
    assert view["callback_id"] == "say_thanks_modal"
    assert view["private_metadata"] == favour_id
    [field] = [b for b in view["blocks"] if b["type"] == "input"]
    assert field["block_id"] == "message"
    assert "Thank you so much for the custom report" in field["element"]["initial_value"]
    assert "I'll send this to <@U2>" in str(view["blocks"])


def test_submitting_dms_the_ally_and_marks_the_favour_thanked(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    favour_id = favour(slack, "thanks <@U2> for the custom report")
    reply = slack.submit(
        "say_thanks_modal", words("You saved my week.\nThank you!"), private_metadata=favour_id
    )
    assert reply.status == 200
    assert reply.json["response_action"] == "update"
    assert "<@U2> got your thanks" in reply.text
    [opened] = fake_slack.calls_to("conversations.open")
    assert opened["users"] == "U2"
    [dm] = fake_slack.calls_to("chat.postMessage")
    assert dm["channel"] == "DU2"
    assert dm["text"] == "<@U1> wanted to say thanks for the custom report"
    assert dm["blocks"][1]["text"]["text"] == "> You saved my week.\n> Thank you!"
    assert ledger(runtime) == [
        ("favour_received", "U2", "the custom report", True),
        ("thanks", "U2", "You saved my week. Thank you!", False),
    ]
    # Once thanked, `who` says so and offers no more thanks for it.
    who = slack.command("who <@U2>")
    assert "thanked" in who.text and "you said thanks" in who.text
    assert "say_thanks" not in who.body


def test_thanks_for_an_introduction(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    favour_id = favour(slack, "intro <@U2> <@U3> at the offsite")
    slack.action("say_thanks", value=favour_id)
    initial = fake_slack.calls_to("views.open")[0]["view"]["blocks"][1]["element"]["initial_value"]
    assert "introducing me to Bob Chen" in initial
    slack.submit("say_thanks_modal", words(initial), private_metadata=favour_id)
    [dm] = fake_slack.calls_to("chat.postMessage")
    assert dm["text"] == "<@U1> wanted to say thanks for introducing them to Bob Chen"


@pytest.mark.parametrize(
    ("text", "error"), [("", "Write a few words"), ("   ", "Write a few words"), (None, "Write")]
)
def test_empty_message_is_a_field_error(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, text: str | None, error: str
) -> None:
    favour_id = favour(slack, "thanks <@U2> for the report")
    reply = slack.submit("say_thanks_modal", words(text), private_metadata=favour_id)
    assert reply.json["response_action"] == "errors"
    assert error in reply.json["errors"]["message"]
    assert fake_slack.calls_to("chat.postMessage") == []
    assert [row[3] for row in ledger(runtime)] == [False]


def test_overlong_message_is_a_field_error(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    favour_id = favour(slack, "thanks <@U2> for the report")
    reply = slack.submit("say_thanks_modal", words("x" * 1001), private_metadata=favour_id)
    assert "keep it under 1000" in reply.json["errors"]["message"]
    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_failed_dm_keeps_the_words_and_records_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    favour_id = favour(slack, "thanks <@U2> for the report")
    fake_slack.fail("chat.postMessage", status=200, error="channel_not_found", retry_after=None)
    reply = slack.submit("say_thanks_modal", words("Thanks!"), private_metadata=favour_id)
    assert reply.json["response_action"] == "errors"
    assert "press Send again" in reply.json["errors"]["message"]
    assert ledger(runtime) == [("favour_received", "U2", "the report", False)]


def test_outside_people_cannot_be_messaged(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    slack.command('thanks "Dana Lee" for the tip')
    with transaction(runtime.sessions) as session:
        favour_id = str(session.query(Interaction.id).scalar())
    hook = fake_slack.response_url("response_hook")
    slack.action("say_thanks", value=favour_id, extra={"response_url": hook})
    assert fake_slack.calls_to("views.open") == []
    [answer] = fake_slack.calls_to("response_hook")
    assert "isn't in this Slack workspace" in answer["text"]
    reply = slack.submit("say_thanks_modal", words("Thanks!"), private_metadata=favour_id)
    assert "isn't in this Slack workspace" in reply.json["errors"]["message"]
    assert fake_slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999", "1" * 40, "²"])
def test_forged_or_stale_ids_are_not_found(
    slack: SlackDriver, fake_slack: FakeSlack, value: str
) -> None:
    favour(slack, "thanks <@U2> for the report")
    reply: Reply = slack.action("say_thanks", value=value, extra={"channel": {"id": "C1"}})
    assert reply.status == 200
    assert fake_slack.calls_to("views.open") == []
    [answer] = fake_slack.calls_to("chat.postEphemeral")
    assert answer["user"] == "U1" and "can't find that favour" in answer["text"]
    submitted = slack.submit("say_thanks_modal", words("Thanks"), private_metadata=value)
    assert "can't find that favour" in submitted.json["errors"]["message"]


def test_an_ally_who_cannot_be_messaged_is_explained(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    favour_id = favour(slack, "thanks <@U2> for the report")
    fake_slack.fail("conversations.open", status=200, error="user_disabled", retry_after=None)
    reply = slack.submit("say_thanks_modal", words("Thanks!"), private_metadata=favour_id)
    assert "can't message Maria Lopez" in reply.json["errors"]["message"]
    assert fake_slack.calls_to("chat.postMessage") == []
    assert ledger(runtime) == [("favour_received", "U2", "the report", False)]
