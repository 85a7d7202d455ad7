"""Requests signed exactly as Slack signs them, sent through the real Bolt app.

``SlackDriver.command`` / ``.action`` / ``.submit`` / ``.event`` build Slack's payloads, sign them
with ``v0=HMAC-SHA256(secret, "v0:{ts}:{body}")`` and hand them to ``app.dispatch`` (in-process)
or POST them to a running server (``post``).

Each request carries a new ``trigger_id`` as Slack's do (an interaction's, a command's, a
submission's); with the fake Slack given (``fake=``), the fake issues it, so views.open takes it
once and within three seconds, as Slack does. ``last_trigger`` is the latest one sent.

Text goes in as a member types it and comes out as Slack sends it (``as_sent``): ``&``, ``<`` and
``>`` escaped in slash command text and in message text of events and message shortcuts, Slack's
markup kept (mentions as ``<@U123|name>``, channels, links). Values in a modal's submitted state
stay as typed, as Slack sends them.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from tests.support.fake_slack import FakeSlack
from tests.support.fake_slack_rules import ack_refusal, request_kind

TEAM = "T1"
# Slack makes every request unique (response_url, action_ts, view hash, event_id), and Ally
# refuses a signed body it has already seen (a replay), so the driver does the same.
_serial = itertools.count(1)


# What Slack's client turns into markup as the member types (autocomplete, auto-linking); in a
# test's text these pass through as markup, every other ``& < >`` is escaped.
# Source: https://api.slack.com/reference/surfaces/formatting and, for commands with
# ``should_escape: true``, https://api.slack.com/interactivity/slash-commands.
MARKUP = re.compile(
    r"<(?:@[UW][A-Z0-9]{1,30}|#C[A-Z0-9]{1,30}|![a-z^A-Z0-9]+|https?://[^\s<>|]+|mailto:[^\s<>|]+)"
    r"(?:\|[^<>]*)?>"
)


def slack_escape(text: str) -> str:
    """Slack's three escapes, as it applies them to the text it sends an app."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def as_sent(typed: str) -> str:
    """``typed`` as Slack sends it: ``& < >`` escaped, Slack markup kept, ``<@U1>`` as
    ``<@U1|u1>`` (a command with ``should_escape: true`` names the user)."""
    out: list[str] = []
    end = 0
    for match in MARKUP.finditer(typed):
        out.append(slack_escape(typed[end : match.start()]))
        token = match.group(0)
        target, bar, label = token[1:-1].partition("|")
        if target.startswith("@") and not bar:
            label, bar = target[1:].lower(), "|"
        # Inside a token Slack escapes ``&`` (a link's query string) like everywhere else.
        out.append(f"<{target.replace('&', '&amp;')}{bar}{slack_escape(label)}>")
        end = match.end()
    out.append(slack_escape(typed[end:]))
    return "".join(out)


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def command_body(
    text: str,
    *,
    user: str,
    team: str = TEAM,
    trigger_id: str = "trig-1",
    sent: bool = False,
    response_url: str | None = None,
) -> str:
    """A slash command's form body; ``text`` as the member typed it, or as Slack sends it
    (``sent=True``)."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": team,
            "team_domain": "acme",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/ally",
            "text": text if sent else as_sent(text),
            "api_app_id": "A1",
            "response_url": response_url or f"https://hooks.slack.invalid/commands/{next(_serial)}",
            "trigger_id": trigger_id,
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


@dataclass
class Reply:
    status: int
    body: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}

    @property
    def text(self) -> str:
        """Everything a member would read in the reply: text plus every block's text."""
        data = self.json if self.body.startswith("{") else {"text": self.body}
        return _all_text(data)


def _all_text(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(
            _all_text(v) for k, v in value.items() if k not in ("action_id", "block_id")
        )
    if isinstance(value, list):
        return " ".join(_all_text(v) for v in value)
    return str(value) if isinstance(value, str) else ""


class SlackDriver:
    """Drive a Bolt app as Slack does: signed requests through ``app.dispatch``."""

    def __init__(
        self, app: App, secret: str, team: str = TEAM, *, fake: FakeSlack | None = None
    ) -> None:
        self.app = app
        self.secret = secret
        self.team = team
        self.fake = fake
        self.last_trigger = ""

    def trigger(self, trigger_id: str | None = None) -> str:
        """A new trigger id for one request (``trigger_id``: the name a test gives it), issued
        by the fake Slack when the driver has one."""
        if self.fake is not None:
            trigger_id = self.fake.issue_trigger(trigger_id)
        else:
            trigger_id = trigger_id or f"{next(_serial)}.trigger"
        self.last_trigger = trigger_id
        return trigger_id

    def send(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> Reply:
        """Dispatch a signed request; the answer Ally gives in the HTTP ack is held to the rules
        Slack holds it to (ACK in fake_slack_rules): a test fails on one Slack would refuse."""
        all_headers = {"Content-Type": content_type, **sign(self.secret, body), **(headers or {})}
        response: BoltResponse = self.app.dispatch(BoltRequest(body=body, headers=all_headers))
        reply = Reply(response.status, response.body)
        if response.status == 200:
            refused = ack_refusal(request_kind(body, content_type), reply.body)
            if refused is not None:
                raise AssertionError(f"Slack would refuse Ally's answer: {refused}: {reply.body}")
        return reply

    def response_url(self, name: str) -> str:
        """A new response_url for a request: the fake Slack's, else one that goes nowhere."""
        if self.fake is not None:
            return self.fake.response_url(name)
        return f"https://hooks.slack.invalid/{name}/{next(_serial)}"

    def command(
        self, text: str, *, user: str = "U1", trigger_id: str | None = None, sent: bool = False
    ) -> Reply:
        """``/ally <text>`` with ``text`` as the member typed it (``sent=True``: as Slack sends
        it, already escaped)."""
        trigger_id = self.trigger(trigger_id)
        body = command_body(
            text,
            user=user,
            team=self.team,
            trigger_id=trigger_id,
            sent=sent,
            response_url=self.response_url("command_response"),
        )
        return self.send(body, "application/x-www-form-urlencoded")

    def interactive(self, payload: dict[str, Any]) -> Reply:
        """An interaction's payload; its ``trigger_id`` (a test's name for it, else a new one)
        issued as it is sent."""
        payload = {**payload, "trigger_id": self.trigger(payload.get("trigger_id"))}
        return self.send(interactive_body(payload), "application/x-www-form-urlencoded")

    def action(
        self,
        action_id: str,
        *,
        user: str = "U1",
        value: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Reply:
        payload = {
            "type": "block_actions",
            "team": {"id": self.team, "domain": "acme"},
            "user": {"id": user, "team_id": self.team},
            "api_app_id": "A1",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b",
                    "type": "button",
                    "value": value,
                    "action_ts": f"{time.time():.6f}-{next(_serial)}",
                }
            ],
            **(extra or {}),
        }
        return self.interactive(payload)

    def shortcut(
        self, callback_id: str, *, user: str = "U1", trigger_id: str | None = None
    ) -> Reply:
        """A global shortcut, as Slack sends it from the shortcuts menu."""
        payload = {
            "type": "shortcut",
            "token": "legacy",
            "action_ts": f"{int(time.time())}.000001",
            "team": {"id": self.team, "domain": "acme"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id,
        }
        return self.interactive(payload)

    def message_shortcut(
        self,
        callback_id: str,
        message: dict[str, Any],
        *,
        user: str = "U1",
        channel: str = "C1",
        trigger_id: str | None = None,
    ) -> Reply:
        """A message shortcut used on ``message`` (``user``, ``ts``, ``text`` as typed) in
        ``channel``."""
        if isinstance(message.get("text"), str):
            message = {**message, "text": as_sent(message["text"])}
        payload = {
            "type": "message_action",
            "token": "legacy",
            "action_ts": f"{int(time.time())}.000001",
            "team": {"id": self.team, "domain": "acme"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team},
            "channel": {"id": channel, "name": "general"},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id,
            "message_ts": message.get("ts"),
            "message": {"type": "message", **message},
            "response_url": self.response_url("shortcut_response"),
        }
        return self.interactive(payload)

    def submit(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        user: str = "U1",
        private_metadata: str = "",
    ) -> Reply:
        """Submit a modal; ``values`` is ``{block_id: {action_id: value}}`` as Slack sends it."""
        payload = {
            "type": "view_submission",
            "team": {"id": self.team, "domain": "acme"},
            "user": {"id": user, "team_id": self.team},
            "api_app_id": "A1",
            "view": {
                "id": "V1",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": f"{int(time.time())}.{next(_serial)}",
            },
        }
        return self.interactive(payload)

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
        enterprise_id: str | None = None,
    ) -> Reply:
        """An Events API callback; message text in ``event`` is given as typed. With
        ``enterprise_id``, from a workspace of that Enterprise Grid organisation."""
        event_id = event_id or f"Ev{next(_serial)}"
        event = _event_as_sent(event)
        callback = {
            "token": "legacy",
            "team_id": self.team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
        if enterprise_id:
            callback["enterprise_id"] = enterprise_id
        body = json.dumps(callback)
        return self.send(body, "application/json", headers)


def _event_as_sent(event: dict[str, Any]) -> dict[str, Any]:
    """Message text in an event (``text``, and an edited message's ``message.text``) escaped."""
    out = dict(event)
    if isinstance(out.get("text"), str):
        out["text"] = as_sent(out["text"])
    inner = out.get("message")
    if isinstance(inner, dict) and isinstance(inner.get("text"), str):
        out["message"] = {**inner, "text": as_sent(inner["text"])}
    return out


def post(url: str, secret: str, body: str, content_type: str, **headers: str) -> Reply:
    """POST a signed request to a running server over HTTP."""
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={"Content-Type": content_type, **sign(secret, body), **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode())


def wsgi_post(
    wsgi: Any, body: str, content_type: str, headers: dict[str, str]
) -> tuple[int, bytes]:
    """POST ``body`` with exactly ``headers`` to a WSGI app's ``/slack/events``, in-process."""
    import io
    from wsgiref.util import setup_testing_defaults

    data = body.encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
    }
    for key, value in headers.items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    status: list[str] = []
    answer = b"".join(wsgi(environ, lambda s, h, exc=None: status.append(s)))
    return int(status[0].split()[0]), answer
