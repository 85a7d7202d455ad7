"""The one log filter (bot.platform.logs.PrivateLines): tokens masked, the bodies the Slack
libraries print dropped, Bolt's failed-signature line kept out of INFO (and short at DEBUG),
every line capped in length."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest

from bot.platform import logs

Configure = Callable[[str], io.StringIO]
BODY = "command=%2Fally&text=thanks+for+the+leaving-in-spring+plan"


@pytest.fixture
def configure() -> Iterator[Configure]:
    root = logging.getLogger()
    level = root.level
    chatty = {name: logging.getLogger(name).level for name in logs.CHATTY}
    handlers: list[logging.Handler] = []

    def at(level_name: str) -> io.StringIO:
        stream = io.StringIO()
        handlers.append(logs.configure(level_name, stream))
        return stream

    yield at
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, old in chatty.items():
        logging.getLogger(name).setLevel(old)


def bolt_signature_line() -> None:
    # What slack_bolt's RequestVerification logs when a signature does not match.
    logging.getLogger("slack_bolt.RequestVerification").info(
        "Invalid request signature detected "
        f"(signature: v0=abc, timestamp: 1700000000, body: {BODY})"
    )


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_failed_signature_line_is_kept_out_of_info(configure: Configure) -> None:
    stream = configure("INFO")
    bolt_signature_line()
    assert lines(stream) == []


def test_at_debug_it_is_one_short_line_without_the_body(configure: Configure) -> None:
    stream = configure("DEBUG")
    bolt_signature_line()
    [line] = lines(stream)
    assert line["level"] == "DEBUG"
    assert line["event"] == "slack request refused: invalid signature or timestamp"


def test_slack_library_bodies_are_dropped_and_tokens_masked(configure: Configure) -> None:
    stream = configure("DEBUG")
    logging.getLogger("slack_sdk.web.base_client").info(
        "Received the following response - status: 200, body: {'text': 'leaving-in-spring'}"
    )
    logging.getLogger("slack_bolt.App").warning("Unhandled request ({'text': 'leaving-in-spring'})")
    logging.getLogger("anything").warning("token xoxb-123-secret-token in a line")
    found = lines(stream)
    assert [line["event"] for line in found] == [
        "Received the following response - status: 200 [body dropped]",
        "Unhandled request [body dropped]",
        "token xoxb-[redacted] in a line",
    ]


def test_every_line_is_capped(configure: Configure) -> None:
    stream = configure("INFO")
    logging.getLogger("anything").warning("x" * 1_000_000)
    [line] = lines(stream)
    assert len(line["event"]) < logs.MAX_EVENT_CHARS + 10
