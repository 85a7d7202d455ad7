"""The fake Slack refuses what real Slack refuses: unknown methods, and messages and views that
break Slack's limits (tests/support/fake_slack_rules.py cites each limit). Called through
slack_sdk's WebClient with plain dicts, which the SDK sends unchecked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View
from slack_sdk.webhook import WebhookClient

from tests.support.fake_slack import FakeSlack
from tests.support.fake_slack_limits import RateLimits
from tests.support.fake_slack_rules import KNOWN_METHODS
from tests.support.slack_requests import as_sent


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    fake.add_channel("C1", "UBOT", "U1")  # a channel Ally is in
    yield fake
    fake.stop()


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.base_url)


def section(text: str = "hi") -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def text_input(**element: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "b",
        "label": {"type": "plain_text", "text": "Label"},
        "element": {"type": "plain_text_input", "action_id": "a", **element},
    }


def modal(*blocks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Title"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": list(blocks),
        **extra,
    }


def refused(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    assert raised.value.response.status_code == 200
    return str(raised.value.response["error"])


def test_an_unknown_method_is_refused_like_slack(client: WebClient, fake: FakeSlack) -> None:
    assert refused(lambda: client.api_call("chat.postMesage", json={"channel": "C1"})) == (
        "unknown_method"
    )
    assert refused(lambda: client.api_call("reminders.list")) == "unknown_method"
    # A method a test teaches the fake is known from then on.
    fake.on("reminders.list", lambda params: {"ok": True, "reminders": []})
    assert client.api_call("reminders.list")["reminders"] == []
    assert "chat.postMessage" in KNOWN_METHODS and "reminders.list" not in KNOWN_METHODS


def test_the_known_methods_are_the_ones_the_fake_answers() -> None:
    # A new built-in handler (``_users_list`` for users.list) must be listed in KNOWN_METHODS.
    answered = {
        name[1:].replace("_", ".")
        for name in vars(FakeSlack)
        if name.startswith("_") and not name.startswith("__")
    }
    helpers = {"answer", "download", "hook", "upload", "view"}
    assert answered - helpers == KNOWN_METHODS


def test_messages_within_slacks_limits_are_accepted(client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="x" * 40_000, blocks=[section()] * 50)
    assert posted["ok"]
    assert client.chat_postMessage(channel="C1", text="hi", blocks=[section("x" * 3000)])["ok"]
    assert client.chat_postEphemeral(channel="C1", user="U1", text="hi")["ok"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"text": "hi", "blocks": [section()] * 51}, "invalid_blocks"),
        ({"text": "hi", "blocks": [section("x" * 3001)]}, "invalid_blocks"),
        ({"text": "hi", "blocks": [section("")]}, "invalid_blocks"),
        ({"text": "hi", "blocks": [{"type": "no_such_block"}]}, "invalid_blocks"),
        (
            {
                "text": "hi",
                "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            },
            "invalid_blocks",
        ),
        (
            {
                "text": "hi",
                "blocks": [
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "action_id": "a",
                                "text": {"type": "plain_text", "text": "Go"},
                                "value": "v" * 2001,
                            }
                        ],
                    }
                ],
            },
            "invalid_blocks",
        ),
    ],
)
def test_messages_over_slacks_limits_are_refused(
    client: WebClient, kwargs: dict[str, Any], error: str
) -> None:
    assert refused(lambda: client.chat_postMessage(channel="C1", **kwargs)) == error


def test_missing_arguments_are_refused(client: WebClient) -> None:
    assert refused(lambda: client.api_call("chat.postMessage", json={"text": "hi"})) == (
        "invalid_arguments"
    )
    assert refused(lambda: client.api_call("views.open", json={"view": modal()})) == (
        "invalid_arguments"
    )
    assert refused(lambda: client.api_call("views.open", json={"trigger_id": "t"})) == (
        "invalid_arguments"
    )
    assert refused(lambda: client.api_call("chat.postEphemeral", json={"channel": "C1"})) == (
        "invalid_arguments"
    )
    # chat.postMessage's own error for a message with no text, blocks or attachments.
    assert refused(lambda: client.api_call("chat.postMessage", json={"channel": "C1"})) == (
        "no_text"
    )


def test_views_within_slacks_limits_are_accepted(client: WebClient, fake: FakeSlack) -> None:
    opened = client.views_open(
        trigger_id=fake.issue_trigger(),
        view=modal(text_input(initial_value="x" * 3000, max_length=3000)),
    )
    assert opened["view"]["id"].startswith("V")
    # A View built with slack_sdk.models goes through the same checks.
    home = View(type="home", blocks=[SectionBlock(text="hi")] * 100)
    assert client.views_publish(user_id="U1", view=home)["ok"]


@pytest.mark.parametrize(
    ("view", "error"),
    [
        (modal(*[section()] * 101), "invalid_blocks"),
        (modal(text_input(initial_value="x" * 11, max_length=10)), "invalid_blocks"),
        (modal(text_input(max_length=0)), "invalid_blocks"),
        (modal(text_input(max_length=3001)), "invalid_blocks"),
        (modal(text_input(min_length=3001)), "invalid_blocks"),
        (modal(text_input(), submit=None), "invalid_arguments"),
        (modal(section(), title={"type": "plain_text", "text": "t" * 25}), "invalid_arguments"),
        (modal(section(), private_metadata="p" * 3001), "invalid_arguments"),
        ({"type": "modal", "blocks": [section()]}, "invalid_arguments"),
        (
            modal(
                {
                    "type": "input",
                    "label": {"type": "plain_text", "text": "Pick"},
                    "element": {
                        "type": "static_select",
                        "action_id": "a",
                        "options": [
                            {"text": {"type": "plain_text", "text": "o" * 76}, "value": "v"}
                        ],
                    },
                }
            ),
            "invalid_blocks",
        ),
    ],
)
def test_views_over_slacks_limits_are_refused(
    client: WebClient, view: dict[str, Any], error: str
) -> None:
    assert refused(lambda: client.views_open(trigger_id="t", view=view)) == error
    home = {**view, "type": "home"}
    if error == "invalid_blocks":
        assert refused(lambda: client.views_publish(user_id="U1", view=home)) == error


def test_a_trigger_id_opens_one_view_within_three_seconds(
    client: WebClient, fake: FakeSlack
) -> None:
    """https://api.slack.com/interactivity/handling#modal_responses: a trigger_id "expires in 3
    seconds" and is used once; views.open and views.push answer ``expired_trigger_id``,
    ``exchanged_trigger_id`` or ``invalid_trigger_id`` (their method pages)."""
    opened = fake.issue_trigger()
    assert client.views_open(trigger_id=opened, view=modal(section()))["ok"]
    assert refused(lambda: client.views_open(trigger_id=opened, view=modal(section()))) == (
        "exchanged_trigger_id"
    )
    pushed = fake.issue_trigger()
    assert client.views_push(trigger_id=pushed, view=modal(section()))["ok"]
    assert refused(lambda: client.views_push(trigger_id=pushed, view=modal(section()))) == (
        "exchanged_trigger_id"
    )
    assert refused(lambda: client.views_open(trigger_id="made-up", view=modal(section()))) == (
        "invalid_trigger_id"
    )
    # Three seconds on the fake's clock, where a compressed Retry-After wait counts in full.
    on_time, late = fake.issue_trigger(), fake.issue_trigger()
    fake.sleep(2.5)
    assert client.views_open(trigger_id=on_time, view=modal(section()))["ok"]
    fake.sleep(1)
    assert refused(lambda: client.views_push(trigger_id=late, view=modal(section()))) == (
        "expired_trigger_id"
    )
    assert fake.now() - fake.triggers[late] >= 3.5
    # Slack issues each trigger id once.
    with pytest.raises(ValueError, match="issued before"):
        fake.issue_trigger(opened)


def test_a_response_url_holds_messages_to_the_same_limits(fake: FakeSlack) -> None:
    # RESPONSE_URL: every post is a message with chat.postMessage's limits.
    hook = WebhookClient(fake.response_url("hook"))
    assert hook.send(text="hi", blocks=[section()] * 50).status_code == 200
    assert hook.send(text="hi", blocks=[section()] * 51).status_code == 400
    assert hook.send(text="hi", blocks=[section("x" * 3001)]).status_code == 400
    assert hook.send(text="x" * 40_001).status_code == 400
    refused = hook.send(text="hi", blocks=[{"type": "no_such_block"}])
    assert refused.status_code == 400 and "invalid_blocks" in refused.body
    # Only the accepted post is shown; the refused ones are kept apart with Slack's answer.
    assert len(fake.calls_to("hook")) == 1
    assert [e for _, e in fake.refused_posts] == ["invalid_blocks"] * 2 + [
        "msg_too_long",
        "invalid_blocks",
    ]


def test_a_response_url_takes_five_posts_within_thirty_minutes(fake: FakeSlack) -> None:
    # RESPONSE_URL: "up to 5 times within 30 minutes"; then Slack's 404 "Expired url".
    hook = WebhookClient(fake.response_url("hook"))
    assert [hook.send(text=f"post {n}").status_code for n in range(5)] == [200] * 5
    sixth = hook.send(text="post 6")
    assert (sixth.status_code, sixth.body) == (404, "Expired url")
    # Each request gets its own URL; one lives 30 minutes on the fake's clock.
    later = WebhookClient(fake.response_url("hook"))
    assert later.send(text="in time").status_code == 200
    fake.advance(30 * 60 + 1)
    late = later.send(text="too late")
    assert (late.status_code, late.body) == (404, "Expired url")
    # A URL Slack never issued is refused alike.
    made_up = WebhookClient(fake.response_url("hook") + "0")
    assert made_up.send(text="hi").status_code == 404
    assert [c["text"] for c, _ in fake.refused_posts] == ["post 6", "too late", "hi"]
    assert len(fake.calls_to("hook")) == 6


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("R&D budget <draft>", "R&amp;D budget &lt;draft&gt;"),
        ("thanks <@U3> & <@U2|maria>", "thanks <@U3|u3> &amp; <@U2|maria>"),
        ("in <#C1|general> <!here>", "in <#C1|general> <!here>"),
        ("see <https://x.io/?a=1&b=2|the doc>", "see <https://x.io/?a=1&amp;b=2|the doc>"),
        ("a <b> &amp; c", "a &lt;b&gt; &amp;amp; c"),
    ],
)
def test_request_builders_send_text_as_slack_does(typed: str, sent: str) -> None:
    assert as_sent(typed) == sent


def test_a_failure_after_the_work_posts_the_message_then_answers_500(
    client: WebClient, fake: FakeSlack
) -> None:
    # Slack: internal_error "It's possible some aspect of the operation succeeded".
    fake.add_user("U2", "Maria")
    fake.fail("chat.postMessage", status=500, error="internal_error", done_first=True)
    unretried = WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as refused:
        unretried.chat_postMessage(channel="U2", text="thanks!")
    assert refused.value.response.status_code == 500
    assert [m["text"] for m in fake.messages["DU2"]] == ["thanks!"]  # ...and yet it was posted
    client.chat_postMessage(channel="U2", text="again")  # the next call is answered as usual
    assert [m["text"] for m in fake.messages["DU2"]] == ["thanks!", "again"]


def test_a_file_download_without_the_right_token_gets_slacks_sign_in_page(
    fake: FakeSlack,
) -> None:
    import urllib.request

    fake.add_file("F1", "contacts.vcf", b"BEGIN:VCARD\r\nEND:VCARD\r\n")
    url = WebClient(token="xoxb-test", base_url=fake.base_url).files_info(file="F1")["file"][
        "url_private_download"
    ]

    def download(token: str | None) -> tuple[int, str, bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()

    assert download("xoxb-test") == (
        200,
        "application/octet-stream",
        b"BEGIN:VCARD\r\nEND:VCARD\r\n",
    )
    for token in (None, "xoxb-wrong"):
        status, content_type, body = download(token)
        # Not a 401: Slack answers 200 with its HTML sign-in page.
        assert status == 200 and content_type.startswith("text/html")
        assert body.startswith(b"<!DOCTYPE html>") and b"Sign in" in body
    fake.revoke("xoxb-test")
    assert download("xoxb-test")[1].startswith("text/html")


# -- auth.test: who a token is, and Slack's word that a token is gone (AUTH) -------------------


def test_auth_test_answers_for_each_token_its_own_workspace(fake: FakeSlack) -> None:
    fake.add_token("xoxb-for-T2", "T2")
    fake.add_token("xoxb-for-T5", "T5", enterprise_id="E1")
    answers = {
        token: WebClient(token=token, base_url=fake.base_url).auth_test()
        for token in ("xoxb-test", "xoxb-for-T2", "xoxb-for-T5")
    }
    assert {token: a["team_id"] for token, a in answers.items()} == {
        "xoxb-test": "T1",
        "xoxb-for-T2": "T2",
        "xoxb-for-T5": "T5",
    }
    assert answers["xoxb-for-T5"]["enterprise_id"] == "E1"
    assert "enterprise_id" not in answers["xoxb-for-T2"]
    assert answers["xoxb-test"]["bot_id"] and answers["xoxb-test"]["user_id"]


def test_auth_test_refuses_a_token_slack_never_issued_or_none(fake: FakeSlack) -> None:
    stranger = WebClient(token="xoxb-never-issued", base_url=fake.base_url)
    assert refused(stranger.auth_test) == "invalid_auth"
    assert refused(WebClient(base_url=fake.base_url).auth_test) == "not_authed"


def test_an_oauth_install_issues_a_token_for_the_installed_workspace(fake: FakeSlack) -> None:
    fake.oauth_codes["code-9"] = {
        "ok": True,
        "access_token": "xoxb-for-T9",
        "bot_user_id": "UBOT9",
        "team": {"id": "T9", "name": "Nine"},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    client = WebClient(base_url=fake.base_url)
    assert refused(WebClient(token="xoxb-for-T9", base_url=fake.base_url).auth_test) == (
        "invalid_auth"
    )
    client.oauth_v2_access(client_id="1", client_secret="s", code="code-9")
    issued = WebClient(token="xoxb-for-T9", base_url=fake.base_url).auth_test()
    assert issued["team_id"] == "T9" and issued["user_id"] == "UBOT9"


@pytest.mark.parametrize("error", ["token_revoked", "account_inactive", "invalid_auth"])
def test_a_revoked_token_gets_slacks_error_on_every_method(fake: FakeSlack, error: str) -> None:
    fake.add_token("xoxb-for-T2", "T2")
    fake.revoke("xoxb-for-T2", error)
    gone = WebClient(token="xoxb-for-T2", base_url=fake.base_url)
    assert refused(gone.auth_test) == error
    assert refused(lambda: gone.chat_postMessage(channel="C1", text="hi")) == error
    # Other workspaces' tokens are untouched.
    assert WebClient(token="xoxb-test", base_url=fake.base_url).auth_test()["team_id"] == "T1"


def test_a_token_is_refused_only_with_an_error_slack_answers(fake: FakeSlack) -> None:
    with pytest.raises(ValueError):
        fake.revoke("xoxb-test", "app_uninstalled")


def test_chat_delete_deletes_only_the_apps_own_messages(client: WebClient, fake: FakeSlack) -> None:
    """https://api.slack.com/methods/chat.delete: with a bot token, only the bot's own messages
    (``cant_delete_message`` otherwise); ``message_not_found`` for a ts that is not there."""
    fake.add_user("U1", "Member")
    mine = client.chat_postMessage(channel="DU1", text="from the app")["ts"]
    theirs = fake.post_as("U1", "DU1", "from a person")
    assert refused(lambda: client.chat_delete(channel="DU1", ts=theirs)) == "cant_delete_message"
    assert refused(lambda: client.chat_delete(channel="DU1", ts="1.000000")) == (
        "message_not_found"
    )
    assert client.chat_delete(channel="DU1", ts=mine)["ok"] is True
    assert refused(lambda: client.chat_delete(channel="DU1", ts=mine)) == "message_not_found"
    assert [m["ts"] for m in fake.messages["DU1"]] == [theirs]


# -- users as Slack shows them (fake_slack_rules: GUESTS, EMAIL_SCOPE, SLACKBOT, ...) ------------


def test_guests_carry_slacks_flags(client: WebClient, fake: FakeSlack) -> None:
    # GUESTS: a multi-channel guest is restricted; a single-channel guest is both.
    fake.add_user("U1", "Member")
    fake.add_user("U2", "Multi", is_restricted=True)
    fake.add_user("U3", "Single", is_ultra_restricted=True)
    fake.add_user("U4", "App user", is_app_user=True)
    flags = {
        user: {
            key: client.users_info(user=user)["user"][key]
            for key in ("is_restricted", "is_ultra_restricted", "is_app_user")
        }
        for user in ("U1", "U2", "U3", "U4")
    }
    assert flags == {
        "U1": {"is_restricted": False, "is_ultra_restricted": False, "is_app_user": False},
        "U2": {"is_restricted": True, "is_ultra_restricted": False, "is_app_user": False},
        "U3": {"is_restricted": True, "is_ultra_restricted": True, "is_app_user": False},
        "U4": {"is_restricted": False, "is_ultra_restricted": False, "is_app_user": True},
    }


def test_a_user_can_come_without_a_time_zone(client: WebClient, fake: FakeSlack) -> None:
    # MISSING_TZ: Slack leaves tz out of some user objects.
    fake.add_user("U1", "Member", tz="Europe/Lisbon")
    fake.add_user("U2", "No zone")
    fake.without_tz("U2")
    assert client.users_info(user="U1")["user"]["tz"] == "Europe/Lisbon"
    assert "tz" not in client.users_info(user="U2")["user"]
    listed = {u["id"]: u for u in client.users_list()["members"]}
    assert "tz" not in listed["U2"] and listed["U1"]["tz"] == "Europe/Lisbon"


def test_slackbot_is_in_every_workspace_and_is_not_marked_a_bot(client: WebClient) -> None:
    # SLACKBOT
    bot = client.users_info(user="USLACKBOT")["user"]
    assert bot["is_bot"] is False and bot["name"] == "slackbot"
    assert "email" not in bot["profile"]
    assert "USLACKBOT" in [u["id"] for u in client.users_list()["members"]]


def test_emails_are_shown_only_with_the_users_read_email_scope(
    client: WebClient, fake: FakeSlack
) -> None:
    # EMAIL_SCOPE: by default the fake has manifest.yml's scopes, users:read.email among them.
    fake.add_user("U1", "Member")
    fake.add_email("U1", "member@acme.test")

    def emails() -> tuple[object, object]:
        listed = {u["id"]: u["profile"].get("email") for u in client.users_list()["members"]}
        return client.users_info(user="U1")["user"]["profile"].get("email"), listed["U1"]

    assert emails() == ("member@acme.test", "member@acme.test")
    fake.scopes.discard("users:read.email")
    assert emails() == (None, None)
    assert client.users_info(user="U1")["user"]["profile"]["real_name"] == "Member"


def test_users_conversations_shows_what_the_bot_may_see(client: WebClient, fake: FakeSlack) -> None:
    # USERS_CONVERSATIONS: another user's public channels; private ones only with the bot in.
    fake.add_channel("C1", "U1", "U2")
    fake.add_channel("G1", "U1", private=True)
    fake.add_channel("G2", "U1", "UBOT", private=True)
    fake.add_channel("C2", "U2")

    def channels(user: str, **extra: Any) -> list[str]:
        answer = client.users_conversations(
            user=user, types="public_channel,private_channel", **extra
        )
        return [c["id"] for c in answer["channels"]]

    assert channels("U1") == ["C1", "G2"]
    assert channels("U2") == ["C1", "C2"]
    assert [c["id"] for c in client.users_conversations(user="U1")["channels"]] == ["C1"]
    first = client.users_conversations(user="U2", limit=1)
    assert [c["id"] for c in first["channels"]] == ["C1"]
    cursor = first["response_metadata"]["next_cursor"]
    assert channels("U2", limit=1, cursor=cursor) == ["C2"]
    fake.scopes.discard("groups:read")
    with pytest.raises(SlackApiError) as raised:
        channels("U1")
    assert raised.value.response["error"] == "missing_scope"


# -- where the app may post (fake_slack_rules: CHANNELS, CHAT_UPDATE, CONVERSATIONS_OPEN) -------


def test_messages_go_only_where_the_app_may_post(client: WebClient, fake: FakeSlack) -> None:
    fake.add_user("U2", "Maria")
    fake.add_channel("C2", "U1", "U2")  # Ally is not in it
    fake.add_channel("C3", "UBOT", "U1")
    fake.archive("C3")
    for post in (
        lambda channel: client.chat_postMessage(channel=channel, text="hi"),
        lambda channel: client.chat_postEphemeral(channel=channel, user="U1", text="hi"),
    ):
        assert post("C1")["ok"]
        assert refused(lambda post=post: post("C404")) == "channel_not_found"
        assert refused(lambda post=post: post("C2")) == "not_in_channel"
        assert refused(lambda post=post: post("C3")) == "is_archived"
        # The app's DM with a user Slack knows: by user id, or by the DM's id.
        assert post("U2")["ok"] and post("DU2")["ok"]
        assert refused(lambda post=post: post("DU404")) == "channel_not_found"
    # A DM opened with conversations.open is the app's own.
    opened = client.conversations_open(users="U2")["channel"]["id"]
    assert client.chat_postMessage(channel=opened, text="hi")["ok"]


def test_chat_update_changes_only_the_apps_own_messages_where_they_are(
    client: WebClient, fake: FakeSlack
) -> None:
    fake.add_user("U1", "Member")
    mine = client.chat_postMessage(channel="U1", text="first")["ts"]
    theirs = fake.post_as("U1", "DU1", "from a person")
    updated = client.chat_update(channel="DU1", ts=mine, text="second")
    assert updated["ok"] and [m["text"] for m in fake.messages["DU1"]] == [
        "second",
        "from a person",
    ]
    assert refused(lambda: client.chat_update(channel="DU1", ts=theirs, text="x")) == (
        "cant_update_message"
    )
    assert refused(lambda: client.chat_update(channel="DU1", ts="1.000000", text="x")) == (
        "message_not_found"
    )
    # An ephemeral message is never there to update.
    ephemeral = client.chat_postEphemeral(channel="C1", user="U1", text="hi")["message_ts"]
    assert refused(lambda: client.chat_update(channel="C1", ts=ephemeral, text="x")) == (
        "message_not_found"
    )
    # chat.update wants the DM's id, not the user's.
    assert refused(lambda: client.chat_update(channel="U1", ts=mine, text="x")) == (
        "channel_not_found"
    )
    in_general = client.chat_postMessage(channel="C1", text="hi")["ts"]
    fake.archive("C1")
    assert refused(lambda: client.chat_update(channel="C1", ts=in_general, text="x")) == (
        "is_inactive"
    )


def test_conversations_open_refuses_users_it_cannot_reach(
    client: WebClient, fake: FakeSlack
) -> None:
    fake.add_user("U1", "Member")
    fake.add_user("U2", "Gone", deleted=True)
    fake.add_user("U3", "Other organisation")
    fake.invisible.add("U3")
    assert client.conversations_open(users="U1")["channel"]["id"] == "DU1"
    assert refused(lambda: client.conversations_open(users="U404")) == "user_not_found"
    assert refused(lambda: client.conversations_open(users="U2")) == "user_disabled"
    assert refused(lambda: client.conversations_open(users="U3")) == "user_not_visible"


# -- rate limits of the file methods (fake_slack_limits: each method's tier) ---------------------


@pytest.mark.parametrize(
    ("method", "tier", "burst"),
    [
        ("files.info", 4, 100),  # docs.slack.dev/reference/methods/files.info: Tier 4
        ("files.delete", 3, 25),  # docs.slack.dev/reference/methods/files.delete: Tier 3
        ("files.getUploadURLExternal", 4, 100),
        ("files.completeUploadExternal", 4, 100),
    ],
)
def test_the_file_methods_are_rate_limited_by_their_tier(
    method: str, tier: int, burst: int
) -> None:
    limits = RateLimits(slack_minute=60.0)  # a Slack minute of real time: nothing refills
    assert limits.tier(method) == tier
    assert [limits.check(method, "xoxb-test") for _ in range(burst)] == [None] * burst
    wait = limits.check(method, "xoxb-test")
    assert wait is not None and wait >= 1
    # Per token: another workspace's calls are counted apart.
    assert limits.check(method, "xoxb-other") is None


# -- what an app answers in the HTTP ack (fake_slack_rules: ACK) -------------------------------


def test_the_driver_holds_an_apps_ack_to_slacks_rules(fake: FakeSlack) -> None:
    from slack_bolt import App

    from tests.support.slack_requests import SlackDriver

    app = App(
        signing_secret="secret",
        client=WebClient(token="xoxb-test", base_url=fake.base_url),
        token_verification_enabled=False,
    )
    answers: dict[str, Any] = {}

    @app.command("/ally")
    def command(ack: Any, command: dict[str, Any]) -> None:
        ack(**answers[command["text"]])

    @app.view("form")
    def submitted(ack: Any, body: dict[str, Any]) -> None:
        ack(**answers[body["view"]["private_metadata"]])

    driver = SlackDriver(app, "secret", fake=fake)
    answers["fine"] = {"text": "hi", "blocks": [section()] * 50}
    assert driver.command("fine").status == 200
    answers["errors"] = {"response_action": "errors", "errors": {"b": "Too long"}}
    assert driver.submit("form", {}, private_metadata="errors").status == 200
    answers["update"] = {"response_action": "update", "view": modal(section())}
    assert driver.submit("form", {}, private_metadata="update").status == 200

    answers["too_many"] = {"text": "hi", "blocks": [section()] * 51}
    answers["too_long"] = {"text": "hi", "blocks": [section("x" * 3001)]}
    for text in ("too_many", "too_long"):
        with pytest.raises(AssertionError, match="invalid_blocks"):
            driver.command(text)
    answers["bad_errors"] = {"response_action": "errors", "errors": {"b": ""}}
    answers["bad_view"] = {"response_action": "push", "view": modal(section(""))}
    answers["no_submit"] = {"response_action": "update", "view": modal(text_input(), submit=None)}
    for metadata in ("bad_errors", "bad_view", "no_submit"):
        with pytest.raises(AssertionError, match="Slack would refuse"):
            driver.submit("form", {}, private_metadata=metadata)
