"""Requests that cannot be from Slack, recognised by their shape before Bolt reads them.

Bolt parses a body as JSON or a form (with ``payload=`` holding JSON) and then reads it as a
dict of dicts; a JSON array, a ``payload`` that is not JSON, a non-numeric timestamp header or an
``event`` that is a list would make it raise, which the server turns into a 500 and a traceback.
Such a request gets 400 and one short log line instead. Nothing here trusts the body: it runs
before the signature check, so the reasons name what was wrong, never what was sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import parse_body
from slack_bolt.response import BoltResponse

from bot.platform.logs import fields

log = logging.getLogger("ally.requests")

# Keys Bolt's middleware and matchers read as objects (``body["view"]["callback_id"]``...).
OBJECTS = ("event", "view", "container", "message", "state")
# Keys that are an object or a plain id string, depending on the payload.
OBJECT_OR_ID = ("team", "user", "enterprise", "channel")
# Keys that are lists of objects.
LISTS_OF_OBJECTS = ("actions", "authorizations")


def body_problem(raw: str, content_type: str | None) -> str | None:
    """Why Bolt could not parse ``raw`` (None when it can): the HTTP server's check."""
    try:
        body = parse_body(raw, content_type)
    except (ValueError, TypeError):
        return "body is not JSON or a form"
    return _shape(body)


def request_problem(req: BoltRequest) -> str | None:
    """Why an already parsed request cannot be from Slack (None when its shape is fine)."""
    timestamps = req.headers.get("x-slack-request-timestamp") or []
    if timestamps and not str(timestamps[0]).isdigit():
        return "timestamp header is not a number"
    return _shape(req.body)


def _shape(body: Any) -> str | None:
    if not isinstance(body, Mapping):
        return f"body is a JSON {_kind(body)}, not an object"
    for key in OBJECTS:
        if body.get(key) is not None and not isinstance(body[key], Mapping):
            return f"{key!r} is a {_kind(body[key])}, not an object"
    for key in OBJECT_OR_ID:
        if body.get(key) is not None and not isinstance(body[key], Mapping | str):
            return f"{key!r} is a {_kind(body[key])}"
    for key in LISTS_OF_OBJECTS:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            return f"{key!r} is a {_kind(value)}, not a list"
        if not all(isinstance(item, Mapping) for item in value):
            return f"{key!r} holds something other than objects"
    return None


def _kind(value: Any) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        int: "number",
        float: "number",
        bool: "boolean",
    }.get(type(value), "null" if value is None else type(value).__name__)


def refuse(reason: str) -> BoltResponse:
    """400, with the one log line that says why (and nothing that was sent)."""
    log.warning("malformed request refused", extra=fields(reason=reason, status=400))
    return BoltResponse(status=400, body=json.dumps({"error": "malformed request"}))
