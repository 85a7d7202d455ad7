"""The shortcuts end to end: **Record who helped you** (global) and **Log as a favour** (message),
which pre-fills the Record modal with the message's author, its text and a link to it."""

from __future__ import annotations

from typing import Any

from bot.ledger.people import SlackPerson
from bot.platform.runtime import Runtime
from handlers.ledger.shortcuts import composed_permalink
from tests.support.fake_slack import FakeSlack
from tests.support.modals import element, history_with, log_values, opened_view, wait_for_calls
from tests.support.slack_requests import SlackDriver

MESSAGE = {
    "user": "U2",
    "ts": "1700000123.004500",
    "text": "Here's the deck you asked for & my notes on <@U3>'s draft",
}


def test_the_global_shortcut_opens_the_modal_and_confirms_by_dm(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    assert slack.shortcut("log_favour", trigger_id="trig-g").status == 200
    view = opened_view(fake_slack, "trig-g")
    assert view["callback_id"] == "log_favour_modal"
    assert element(view, "when")["initial_date"] == "2026-11-16"

    values = log_values(who_user="U4", what="covered my on-call shift")
    reply = slack.submit("log_favour_modal", values, private_metadata=view["private_metadata"])
    assert reply.body == ""
    # No channel to answer in: the confirmation is a DM.
    (dm,) = wait_for_calls(fake_slack, "chat.postMessage")
    assert fake_slack.calls_to("conversations.open")[0]["users"] == "U1"
    assert dm["channel"] == "DU1"
    assert "Saved: <@U4> helped you" in dm["text"]
    assert history_with(runtime, SlackPerson("U4")).received[0].what == "covered my on-call shift"


def test_log_as_a_favour_prefills_author_text_and_link(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    fake_slack.add_channel("C9", "UBOT", "U1", "U2")  # a channel Ally is in
    reply = slack.message_shortcut("log_message_favour", MESSAGE, channel="C9", trigger_id="trig-m")
    assert reply.status == 200
    (permalink,) = fake_slack.calls_to("chat.getPermalink")
    assert (permalink["channel"], permalink["message_ts"]) == ("C9", "1700000123.004500")
    link = "https://acme.slack.com/archives/C9/p1700000123004500"

    view = opened_view(fake_slack, "trig-m")
    assert element(view, "who_user")["initial_user"] == "U2"
    assert element(view, "what")["initial_value"] == (
        "Here's the deck you asked for & my notes on <@U3>'s draft"
    )
    assert link in view["private_metadata"]
    assert link in str(view["blocks"][-1])

    values = log_values(who_user="U2", what="sent me the deck I needed")
    reply = slack.submit("log_favour_modal", values, private_metadata=view["private_metadata"])
    assert reply.body == ""
    (line,) = history_with(runtime, SlackPerson("U2")).received
    assert line.message_link == link
    # `/ally who` shows it, with the link to the message.
    who = slack.command("who <@U2>")
    assert "sent me the deck I needed" in who.text
    assert f"<{link}|message>" in who.text
    (notice,) = wait_for_calls(fake_slack, "chat.postEphemeral")
    assert notice["channel"] == "C9"
    assert fake_slack.calls_to("chat.postMessage") == []


def test_logged_from_a_channel_ally_is_not_in_the_confirmation_is_a_dm(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    # Slack refuses an ephemeral message where Ally is not a member (not_in_channel) or in an
    # archived channel (is_archived): the member is told in their DM with Ally instead.
    fake_slack.add_channel("C7", "U1", "U2")
    fake_slack.add_channel("C8", "UBOT", "U1", "U2")
    fake_slack.archive("C8")
    for n, channel in enumerate(("C7", "C8"), start=1):
        slack.message_shortcut("log_message_favour", MESSAGE, channel=channel, trigger_id=f"t{n}")
        view = opened_view(fake_slack, f"t{n}")
        values = log_values(who_user="U2", what=f"sent me deck {n}")
        reply = slack.submit("log_favour_modal", values, private_metadata=view["private_metadata"])
        assert reply.body == ""
        dms = wait_for_calls(fake_slack, "chat.postMessage", n)
        assert dms[-1]["channel"] == "DU1" and "Saved: <@U2> helped you" in dms[-1]["text"]
    assert [c["channel"] for c in fake_slack.calls_to("chat.postEphemeral")] == ["C7", "C8"]
    assert fake_slack.messages["DU1"][-1]["text"].startswith("Saved: <@U2> helped you")
    assert len(history_with(runtime, SlackPerson("U2")).received) == 2


def test_a_failed_permalink_lookup_falls_back_to_a_composed_link(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.getPermalink", status=429, retry_after=30)
    threaded = {**MESSAGE, "thread_ts": "1700000100.000100"}
    slack.message_shortcut("log_message_favour", threaded, channel="C9", trigger_id="trig-f")
    # One try only: a retry after Retry-After would miss the 3-second trigger window.
    assert len(fake_slack.calls_to("chat.getPermalink")) == 1
    view = opened_view(fake_slack, "trig-f")
    assert (
        "https://acme.slack.com/archives/C9/p1700000123004500"
        "?thread_ts=1700000100.000100&cid=C9" in view["private_metadata"]
    )


def test_on_your_own_message_you_pick_the_person(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    own: dict[str, Any] = {**MESSAGE, "user": "U1"}
    slack.message_shortcut("log_message_favour", own, trigger_id="trig-own")
    view = opened_view(fake_slack, "trig-own")
    assert "initial_user" not in element(view, "who_user")
    assert element(view, "what")["initial_value"].startswith("Here's the deck")


def test_a_long_message_is_cut_to_a_note_that_fits(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    long = {**MESSAGE, "text": "word " * 1000}
    slack.message_shortcut("log_message_favour", long, trigger_id="trig-long")
    note = element(opened_view(fake_slack, "trig-long"), "what")["initial_value"]
    assert len(note) == 300 and note.endswith("…")


def test_composed_permalink_without_a_domain() -> None:
    assert composed_permalink(None, "C1", "1.2", None) == "https://slack.com/archives/C1/p12"
