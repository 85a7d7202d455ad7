"""The try mode's local Slack answers as Slack does where Ally would notice: block limits,
unknown methods, other tokens, a modal without a title; and it keeps what Ally showed whom."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tryout.local_slack import TOKEN, LocalSlack


@pytest.fixture
def local() -> Iterator[LocalSlack]:
    slack = LocalSlack().start()
    yield slack
    slack.stop()


def client(local: LocalSlack, token: str = TOKEN) -> WebClient:
    return WebClient(token=token, base_url=local.base_url)


def error_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as raised:
        call()
    return str(raised.value.response["error"])


def section(n: int) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"line {n}"}}


def test_a_message_holds_at_most_50_blocks_and_a_view_100(local: LocalSlack) -> None:
    web = client(local)
    posted = web.chat_postMessage(
        channel="U0BOB", text="hi", blocks=[section(n) for n in range(50)]
    )
    assert posted["channel"] == "DU0BOB"
    assert (
        error_of(
            lambda: web.chat_postMessage(
                channel="U0BOB", text="hi", blocks=[section(n) for n in range(51)]
            )
        )
        == "invalid_blocks"
    )
    home = {"type": "home", "blocks": [section(n) for n in range(101)]}
    assert error_of(lambda: web.views_publish(user_id="U0BOB", view=home)) == "invalid_blocks"
    assert error_of(lambda: web.chat_postMessage(channel="U0BOB", text="x" * 40_001)) == (
        "msg_too_long"
    )
    with pytest.warns(UserWarning):  # slack_sdk warns of a message without text, too
        assert error_of(lambda: web.chat_postMessage(channel="U0BOB", text="")) == "no_text"


def test_a_modal_needs_a_title_and_a_trigger_of_a_member(local: LocalSlack) -> None:
    web = client(local)
    untitled = {"type": "modal", "blocks": [section(1)]}
    assert error_of(lambda: web.views_open(trigger_id="U0BOB.1.x", view=untitled)) == (
        "invalid_arguments"
    )
    titled = {**untitled, "title": {"type": "plain_text", "text": "Hello"}}
    assert error_of(lambda: web.views_open(trigger_id="nobody", view=titled)) == (
        "invalid_trigger_id"
    )
    opened = web.views_open(trigger_id="U0BOB.1.x", view=titled)
    assert local.shown[-1].kind == "modal"
    assert local.shown[-1].user == "U0BOB"
    assert local.shown[-1].view_id == opened["view"]["id"]


def test_only_its_own_token_and_known_methods(local: LocalSlack) -> None:
    assert error_of(lambda: client(local, "xoxb-other").auth_test()) == "invalid_auth"
    assert error_of(lambda: client(local).api_call("chat.scheduleMessage")) == "unknown_method"
    assert client(local).auth_test()["team_id"] == "T0TRY"


def test_the_workspace_has_people_in_several_time_zones_and_a_guest(local: LocalSlack) -> None:
    members = client(local).users_list()["members"]
    assert len(members) == 6
    assert len({m["tz"] for m in members}) == 6
    assert [m["name"] for m in members if m["is_restricted"]] == ["gita"]
    assert error_of(lambda: client(local).users_info(user="U0NOBODY")) == "user_not_found"
