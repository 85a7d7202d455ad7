"""Structured logs during a real run: one JSON line per Slack request with the workspace and
member ids, a refused one included, and never a token, the signing secret or a member's note
text, even at DEBUG."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

import handlers
from bot.ledger.people import MemberRef
from bot.platform import logs
from bot.platform.app import create_app
from bot.platform.runtime import Runtime
from bot.platform.server import AllyWSGI
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.member_data import give_data
from tests.support.runtime import MakeRuntime
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver, command_body, sign, wsgi_post
from tests.support.waiting import wait_for

BOT_TOKEN = "xoxb-1234-very-secret-bot-token"
SIGNING_SECRET = "signing-secret-never-logged"
NOTE = "leaving-in-spring: thinking about leaving in spring"


def capture(level: str) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    chatty = {name: logging.getLogger(name).level for name in logs.CHATTY}
    stream = io.StringIO()
    handler = logs.configure(level, stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(saved[0])
    for name, level in chatty.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    yield from capture("DEBUG")


@pytest.fixture
def captured_at_info() -> Iterator[io.StringIO]:
    """What a production process logs (LOG_LEVEL's default, INFO)."""
    yield from capture("INFO")


def test_a_run_logs_ids_but_no_secrets_and_no_notes(
    captured: io.StringIO,
    fake_slack: FakeSlack,
    make_runtime: MakeRuntime,
    sqlite_url: str,
    clock: FrozenClock,
) -> None:
    fake_slack.add_token(BOT_TOKEN, "T1")
    runtime = make_runtime(
        sqlite_url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET
    )
    try:
        give_data(runtime.sessions, MemberRef(team_id="T1", user_id="U1"), clock(), secret=NOTE)
        slack = SlackDriver(create_app(runtime, register=[handlers.register]), SIGNING_SECRET)
        assert "direct message" in slack.command("export", user="U1").text
        wait_for(lambda: fake_slack.calls_to("files.completeUploadExternal"))  # sent after
        slack.command("forget", user="U1")
        slack.action(
            "forget_confirm",
            user="U1",
            value="U1",
            extra={"response_url": fake_slack.response_url("respond")},
        )
        fake_slack.fail("conversations.open", status=200, error="account_inactive")
        slack.command("export", user="U1")
        # Typed text comes back in a reply ("I don't know `/ally leaving-in-spring:`"): Bolt's
        # DEBUG lines would print that reply, and the request body, if they were let through.
        assert "leaving-in-spring" in slack.command(NOTE, user="U1").text
        slack.event({"type": "app_uninstalled"})
        slack.app.listener_runner.listener_executor.shutdown(wait=True)
    finally:
        runtime.close()

    # The export really carried the note to Slack, so the logs had the chance to leak it.
    assert any(NOTE in upload["content"] for upload in fake_slack.calls_to("upload"))
    text = captured.getvalue()
    assert BOT_TOKEN not in text and "xoxb-1234" not in text
    assert SIGNING_SECRET not in text
    assert "leaving-in-spring" not in text and "thinking about leaving" not in text

    lines = [json.loads(line) for line in text.splitlines()]
    requests = [line for line in lines if line["event"] == "slack request"]
    assert [(r["kind"], r["name"]) for r in requests] == [
        ("command", "/ally"),
        ("command", "/ally"),
        ("action", "forget_confirm"),
        ("command", "/ally"),
        ("command", "/ally"),
        ("event", "app_uninstalled"),
    ]
    assert all(r["team"] == "T1" and r["status"] == 200 for r in requests)
    assert all(r["user"] == "U1" for r in requests[:5])
    erased = next(line for line in lines if line["event"] == "member data erased")
    assert erased["user"] == "U1" and erased["contacts"] == 2


def test_tokens_are_masked_whatever_logs_them(captured: io.StringIO) -> None:
    logging.getLogger("somewhere").warning("token was %s", BOT_TOKEN)
    line = json.loads(captured.getvalue().splitlines()[-1])
    assert BOT_TOKEN not in line["event"] and line["event"].startswith("token was xoxb-")


def test_each_refused_request_logs_one_line_at_info(
    captured_at_info: io.StringIO, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    server = AllyWSGI(create_app(runtime, register=[handlers.register]), runtime)
    form = "application/x-www-form-urlencoded"
    command = command_body("thanks <@U2|maria> for the intro", user="U1")
    refused = [
        (command, sign("not-the-signing-secret", command)),  # a bad signature
        (command, sign(SECRET, command, int(time.time()) - 400)),  # over five minutes old
        (urlencode({"text": "no signature at all"}), {}),
    ]
    for body, headers in refused:
        assert wsgi_post(server, body, form, headers)[0] == 401

    lines = [json.loads(line) for line in captured_at_info.getvalue().splitlines()]
    assert [(line["logger"], line["level"], line["event"]) for line in lines] == [
        ("ally.requests", "INFO", "slack request")
    ] * 3
    assert [(line["kind"], line.get("name"), line["status"]) for line in lines] == [
        ("command", "/ally", 401),
        ("command", "/ally", 401),
        ("unknown", None, 401),
    ]
    assert all(line["mode"] == "http" and line["ms"] >= 0 for line in lines)
    assert "the intro" not in captured_at_info.getvalue()
    assert fake_slack.calls == []
