"""Structured logs: one JSON object per line (at most 4 KB), with the workspace and member ids of
each event.

Nothing secret goes out: one filter (``PrivateLines``) on Ally's handler masks Slack tokens in
every line whatever logged them and drops the request and response bodies that the Slack
libraries print (members' private notes travel in them); Bolt's line about a failed signature
check, which an unsigned caller could fill with a megabyte of body, is kept out of INFO. The
Slack SDK's DEBUG lines are held at INFO. Ally's own lines carry ids, names of actions and
counts, never what a member typed.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

FIELDS = "ally_fields"
# Bot, user, app-level, refresh and configuration tokens, whatever library prints them.
TOKEN = re.compile(r"\bx(?:ox[abeprs]|app)-[A-Za-z0-9-]+")
# Libraries whose DEBUG output includes request and response bodies.
CHATTY = ("slack_sdk", "slack_bolt", "ally.bolt", "ally.oauth", "urllib3")
# Where the Slack libraries' lines start to quote a body: "body: {...}", "Unhandled request
# ({...})", "payload: ...". Everything from there on is dropped.
BODY = re.compile(r"(?i)\b(?:request body|body|payload|json_body|body_params)\b\s*[:=]|\(\{|\{")
# slack_bolt's RequestVerification logs the whole body at INFO when a signature does not match
# (slack_bolt/middleware/request_verification/request_verification.py, ``_debug_log_error``).
SIGNATURE_FAILED = "Invalid request signature detected"
DETAIL = re.compile(r"(?m)^DETAIL:.*$")
# No event text is longer than this, whatever a caller sent...
MAX_EVENT_CHARS = 2000
# ...no field (an id, a name, a reason) longer than this...
MAX_FIELD_CHARS = 200
# ...and no whole line, in UTF-8 bytes, longer than this.
MAX_LINE_BYTES = 4096
CUT = " [cut]"

request_log = logging.getLogger("ally.requests")


def redact(text: str) -> str:
    """Mask anything that looks like a Slack token."""
    return TOKEN.sub(lambda m: m.group(0)[:5] + "[redacted]", text)


def _from_slack_library(name: str) -> bool:
    return name.split(".", 1)[0] in ("slack_sdk", "slack_bolt", "slack") or name.startswith(
        ("ally.bolt", "ally.oauth")
    )


class PrivateLines(logging.Filter):
    """The one filter on Ally's log handler: tokens masked and request bodies dropped.

    A line from the Slack libraries is cut where it starts quoting a body. Bolt's failed
    signature line becomes a short DEBUG line (no body, no signature) shown only when the log
    level is DEBUG; Ally's own ``slack request`` line already records the 401. Every line is
    capped at ``MAX_EVENT_CHARS``.
    """

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a caller's bad format string: keep the template, not the args
            message = str(record.msg)
        if _from_slack_library(record.name):
            if message.startswith(SIGNATURE_FAILED):
                record.levelno, record.levelname = logging.DEBUG, "DEBUG"
                if self.level > logging.DEBUG:
                    return False
                message = "slack request refused: invalid signature or timestamp"
            cut = BODY.search(message)
            if cut is not None:
                message = message[: cut.start()].rstrip(" ,:(") + " [body dropped]"
        if len(message) > MAX_EVENT_CHARS:
            message = message[:MAX_EVENT_CHARS] + " [cut]"
        record.msg, record.args = redact(message), None
        if record.exc_info:
            # PostgreSQL's DETAIL line quotes the values of a key it refused.
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(DETAIL.sub("DETAIL: [dropped]", text))
        return True


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "event", ...fields}`` on one line, tokens masked.

    Every line fits in ``MAX_LINE_BYTES`` of UTF-8 and stays one JSON object, whatever a request
    carried: a field longer than ``MAX_FIELD_CHARS`` is shortened, and if the line is still too
    long the longest values (the event text, a traceback) are shortened further. Each shortened
    value ends in `` [cut]`` and its name is listed under ``"cut"``; a traceback keeps its last
    lines, which name the error.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": _clip(redact(record.getMessage()), MAX_EVENT_CHARS),
        }
        extra = getattr(record, FIELDS, None)
        if isinstance(extra, Mapping):
            for key, value in extra.items():
                key = _clip(redact(str(key)), MAX_FIELD_CHARS)
                if key not in line and key != "cut":
                    line[key] = _field(value)
        if record.exc_text:
            line["error"] = redact(record.exc_text)
        elif record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info))
        return _within_limit(line)


def _clip(text: str, limit: int, *, keep_end: bool = False) -> str:
    if len(text) <= limit:
        return text
    keep = max(limit - len(CUT), 0)
    return CUT.strip() + " " + text[len(text) - keep :] if keep_end else text[:keep] + CUT


def _field(value: Any) -> Any:
    """A field's value as logged (redacted): numbers, booleans, None and short lists or objects
    as they are; text, or a list or object written out, shortened to ``MAX_FIELD_CHARS``."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _clip(redact(value), MAX_FIELD_CHARS)
    text = redact(json.dumps(value, default=str, ensure_ascii=False))
    if len(text) <= MAX_FIELD_CHARS:
        return json.loads(text)  # a short list or object stays one
    return _clip(text, MAX_FIELD_CHARS)


def _size(line: Mapping[str, Any]) -> int:
    return len(json.dumps(line, default=str, ensure_ascii=False).encode("utf-8"))


def _within_limit(line: dict[str, Any]) -> str:
    """``line`` as JSON in at most ``MAX_LINE_BYTES``: the longest text values are cut (a
    traceback from its start, anything else from its end) until it fits."""
    cut = [key for key, value in line.items() if isinstance(value, str) and value.endswith(CUT)]
    if cut:
        line["cut"] = cut
    while (size := _size(line)) > MAX_LINE_BYTES:
        texts = [
            (len(value), key)
            for key, value in line.items()
            if isinstance(value, str) and key not in ("time", "level") and len(value) > 64
        ]
        if not texts:  # hundreds of short fields: keep what the line is, drop the fields
            kept = {key: line[key] for key in ("time", "level", "logger", "event")}
            line = kept | {"cut": ["every field"]}
            break
        length, key = max(texts)
        # Enough characters to lose the excess even if each of them is a single byte.
        target = max(length - (size - MAX_LINE_BYTES) - 16, 64)
        line[key] = _clip(line[key], target, keep_end=key == "error")
        if key not in line.setdefault("cut", []):
            line["cut"].append(key)
    return json.dumps(line, default=str, ensure_ascii=False)


def configure(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as JSON lines; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PrivateLines(logging.getLevelName(level)))
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old.formatter, JsonFormatter):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    floor = max(logging.getLevelName(level), logging.INFO)
    for name in CHATTY:
        logging.getLogger(name).setLevel(floor)
    return handler


def fields(**values: Any) -> dict[str, Any]:
    """``extra=`` for a structured line: ``log.info("event", extra=fields(team=...))``."""
    return {FIELDS: {k: v for k, v in values.items() if v not in (None, "")}}


def describe(body: Mapping[str, Any]) -> tuple[str, str]:
    """What a Slack request is, as (kind, name): ("command", "/ally"), ("action", "say_thanks")…"""
    kind = str(body.get("type") or "")
    if body.get("command"):
        return "command", str(body["command"])
    if kind == "event_callback":
        return "event", str((body.get("event") or {}).get("type", ""))
    if kind == "block_actions":
        ids = [str(a.get("action_id", "")) for a in body.get("actions") or []]
        return "action", ",".join(ids)
    if kind in ("view_submission", "view_closed"):
        return kind, str((body.get("view") or {}).get("callback_id", ""))
    if kind in ("shortcut", "message_action"):
        return kind, str(body.get("callback_id", ""))
    return kind or "unknown", ""


def log_request(req: BoltRequest, resp: BoltResponse, elapsed_ms: float) -> None:
    """The one line per Slack request: what it was, for whom, how it ended and how long it took."""
    kind, name = describe(req.body or {})
    context = req.context
    retries = req.headers.get("x-slack-retry-num") or []
    retry = retries[0] if retries else None
    request_log.info(
        "slack request",
        extra=fields(
            kind=kind,
            name=name[:100],
            enterprise=context.enterprise_id,
            team=context.team_id,
            user=context.user_id,
            status=resp.status,
            ms=round(elapsed_ms, 1),
            retry=retry,
            mode=req.mode,
        ),
    )
