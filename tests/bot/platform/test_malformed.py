"""Requests of a shape Slack never sends get 400 and one short log line, never a 500 or a
traceback: through Bolt's own dispatch (requests it can parse but would choke on) and over the
HTTP server (bodies it cannot even parse), signed or not."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest

from bot.platform.runtime import Runtime
from bot.platform.server import AllyWSGI
from tests.support.fake_slack import FakeSlack
from tests.support.settings import SECRET
from tests.support.slack_requests import command_body, sign, wsgi_post

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

PARSED_BUT_MALFORMED = {
    "event that is a list": (json.dumps({"type": "event_callback", "event": ["x"]}), JSON),
    "actions that is text": (
        urlencode({"payload": json.dumps({"type": "block_actions", "actions": "x"})}),
        FORM,
    ),
    "view that is text": (
        urlencode({"payload": json.dumps({"type": "view_submission", "view": "x"})}),
        FORM,
    ),
    "team that is a list": (json.dumps({"type": "event_callback", "team": [1]}), JSON),
}
UNPARSABLE = {
    "JSON array": ("[1, 2]", JSON),
    "JSON string": ('"x"', JSON),
    "broken JSON": ('{"type": ', JSON),
    "payload that is not JSON": ("payload=not-json", FORM),
    "payload that is an array": (urlencode({"payload": "[1]"}), FORM),
}


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "malformed request refused"]


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("name", list(PARSED_BUT_MALFORMED))
def test_bolt_dispatch_refuses_shapes_it_would_choke_on(
    app: App, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, name: str, signed: bool
) -> None:
    body, content_type = PARSED_BUT_MALFORMED[name]
    headers = {"content-type": content_type, **(sign(SECRET, body) if signed else {})}
    caplog.set_level(logging.DEBUG)
    response = app.dispatch(BoltRequest(body=body, headers=headers))
    assert response.status == 400
    [line] = refusals(caplog)
    assert not any(r.exc_info for r in caplog.records), "no traceback"
    assert fake_slack.calls == []
    assert line.ally_fields["status"] == 400  # type: ignore[attr-defined]


def test_a_non_numeric_timestamp_is_refused(app: App, caplog: pytest.LogCaptureFixture) -> None:
    body = command_body("help", user="U1")
    headers = {"content-type": FORM, "X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0"}
    caplog.set_level(logging.DEBUG)
    assert app.dispatch(BoltRequest(body=body, headers=headers)).status == 400
    assert len(refusals(caplog)) == 1
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize("name", list(UNPARSABLE) + list(PARSED_BUT_MALFORMED))
def test_the_http_server_refuses_them_all(
    app: App, runtime: Runtime, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    body, content_type = {**UNPARSABLE, **PARSED_BUT_MALFORMED}[name]
    caplog.set_level(logging.DEBUG)
    status, answer = wsgi_post(AllyWSGI(app, runtime), body, content_type, sign(SECRET, body))
    assert status == 400 and b"Traceback" not in answer
    assert len(refusals(caplog)) == 1
    assert not any(r.exc_info for r in caplog.records)
