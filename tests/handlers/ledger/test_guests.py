"""Ally never shows a guest more of the workspace than Slack does. A guest (``users.info``:
``is_restricted``, a multi-channel guest, or ``is_ultra_restricted``, a single-channel guest)
names only people already in their network or people they share a channel with, is sent no
thanks on their behalf to anyone they share no channel with, and has address books matched by
name among their own contacts, never by email against the directory. Through the real Bolt
app against the fake Slack."""

from __future__ import annotations

from typing import Any

import pytest

from bot.platform.runtime import Runtime
from tests.support.address_books import confirm, confirmed_text, contacts, linkedin, share
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver

GUEST_KINDS = [{"is_restricted": True}, {"is_ultra_restricted": True}]
REFUSAL = "You're a guest in this workspace, so I only let you name people Slack shows you"


@pytest.fixture(params=GUEST_KINDS, ids=["multi-channel guest", "single-channel guest"])
def guest(request: pytest.FixtureRequest, fake_slack: FakeSlack) -> str:
    fake_slack.add_user("U9", "Gale Guest", **request.param)
    return "U9"


def test_a_guests_file_is_matched_by_name_never_by_email(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, guest: str
) -> None:
    fake_slack.add_email("U2", "cfo@company.test")
    fake_slack.add_email("U3", "bob@company.test")
    fake_slack.add_channel("C1", guest, "U3")
    assert "Noted" in slack.command("thanks <@U3> for the intro", user=guest).text
    file = linkedin(
        b"Casey,Fox,,cfo@company.test,Company,CFO,x", b"Bob,Chen,,bob@company.test,Company,Eng,x"
    )
    preview = share(slack, fake_slack, "Connections.csv", file, user=guest)
    text = str(preview["blocks"])
    assert "*2 people* new to your network" in text
    assert "found in Slack by email" not in text and "Maria" not in text
    assert fake_slack.calls_to("users.list") == []  # the directory is not even read
    assert "added 2 people" in confirmed_text(confirm(slack, fake_slack, preview, user=guest))
    assert contacts(runtime) == {"U3": None, "~casey fox": "Company", "~bob chen": "Company"}
    # A full member's file is matched by email, as before.
    member = share(slack, fake_slack, "Connections.csv", file, user="U1")
    assert "(2 of them found in Slack by email)" in str(member["blocks"])


def test_a_guest_names_only_people_they_share_a_channel_with(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, guest: str
) -> None:
    for command in (
        "add <@U2>",
        "add <@U2> strategic peer",
        "thanks <@U2> for the report",
        "who <@U2>",
        "intro <@U3> <@U2>",
        "add <@U404>",  # nobody: told the same, so a guest cannot tell who exists
    ):
        reply = slack.command(command, user=guest)
        assert REFUSAL in reply.text, (command, reply.text)
        assert "Maria" not in reply.body and "Bob" not in reply.body
    assert contacts(runtime) == {}
    assert fake_slack.calls_to("conversations.open") == []
    # Only the guest's own record was asked of Slack, once; nobody they named.
    assert [c["user"] for c in fake_slack.calls_to("users.info")] == [guest]
    # A private channel Ally is not in hides them too; one Ally is in shows them.
    fake_slack.add_channel("G1", guest, "U2", private=True)
    assert REFUSAL in slack.command("thanks <@U2> for the report", user=guest).text
    fake_slack.add_channel("G1", guest, "U2", "UBOT", private=True)
    assert "Noted" in slack.command("thanks <@U2> for the report", user=guest).text
    # Once in their network, they stay nameable after the channel is gone.
    fake_slack.channels.clear()
    assert "Your history with <@U2>" in slack.command("who <@U2>", user=guest).text


def thanks_button(reply: Any) -> str:
    return next(
        str(e["value"])
        for b in reply.json["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "say_thanks"
    )


def test_say_thanks_is_sent_for_a_guest_only_to_someone_in_a_shared_channel(
    slack: SlackDriver, fake_slack: FakeSlack, guest: str
) -> None:
    fake_slack.add_channel("C1", guest, "U2")
    favour = thanks_button(slack.command("thanks <@U2> for the report", user=guest))
    fake_slack.channels.clear()  # U2 left the only channel they shared
    assert slack.action("say_thanks", value=favour, user=guest).status == 200
    [told] = [c for c in fake_slack.calls_to("chat.postMessage") if c["channel"] == guest]
    assert "only send thanks on your behalf to people you share a channel with" in told["text"]
    assert fake_slack.calls_to("views.open") == []
    words = {"message": {"message": {"type": "plain_text_input", "value": "Thank you!"}}}
    reply = slack.submit("say_thanks_modal", words, user=guest, private_metadata=favour)
    assert reply.json["response_action"] == "errors"
    assert "share a channel with" in reply.json["errors"]["message"]
    assert fake_slack.calls_to("conversations.open") == []
    # Back in a channel together: the thanks goes out.
    fake_slack.add_channel("C1", guest, "U2")
    reply = slack.submit("say_thanks_modal", words, user=guest, private_metadata=favour)
    assert reply.json["response_action"] == "update"
    [dm] = [c for c in fake_slack.calls_to("chat.postMessage") if c["channel"] == "DU2"]
    assert dm["text"].startswith(f"<@{guest}> wanted to say thanks")


def test_a_full_member_names_anyone(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    assert "Noted" in slack.command("thanks <@U2> for the report").text
    assert fake_slack.calls_to("users.conversations") == []


def test_a_guest_is_refused_when_ally_lacks_the_channel_scopes(
    slack: SlackDriver, fake_slack: FakeSlack, guest: str
) -> None:
    # Installed before Ally asked for channels:read and groups:read: nobody can be checked,
    # so a guest names nobody new until an admin reinstalls.
    fake_slack.add_channel("C1", guest, "U2", "U3")
    assert "Noted" in slack.command("thanks <@U2> for the report", user=guest).text
    fake_slack.scopes -= {"channels:read", "groups:read"}
    assert REFUSAL in slack.command("thanks <@U3> for the review", user=guest).text
    # Someone already in their network is still theirs to log.
    assert "Noted" in slack.command("thanks <@U2> for the slides", user=guest).text


def test_a_member_made_a_guest_is_treated_as_one_from_slacks_user_change(
    slack: SlackDriver, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    assert "Noted" in slack.command("thanks <@U2> for the report").text  # U1 is cached
    fake_slack.add_user("U1", "Ana Silva", is_restricted=True)
    user = {**fake_slack.users["U1"], "team_id": "T1"}
    event = {"type": "user_change", "user": user, "event_ts": "1700000000.000100"}
    assert slack.event(event).status == 200
    asked = len(fake_slack.calls_to("users.info"))
    assert REFUSAL in slack.command("thanks <@U3> for the review").text
    # Known to be a guest, so U3 is not even looked up.
    assert fake_slack.calls_to("users.info")[asked:] == []
    # Slack's word is kept for a day at most: made a full member again, asked again after.
    fake_slack.add_user("U1", "Ana Silva")
    clock.advance(days=1)
    assert "Noted" in slack.command("thanks <@U3> for the review").text
