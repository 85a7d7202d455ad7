"""Structured logs: one JSON object per line, with the workspace and member ids of each event.

Nothing secret goes out: Slack tokens are masked in every line whatever logged them, and the
Slack SDK's DEBUG lines (which carry request bodies, and so members' private notes) are held at
INFO. Ally's own lines carry ids, names of actions and counts, never what a member typed.
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

request_log = logging.getLogger("ally.requests")


def redact(text: str) -> str:
    """Mask anything that looks like a Slack token."""
    return TOKEN.sub(lambda m: m.group(0)[:5] + "[redacted]", text)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "event", ...fields}`` on one line, tokens masked."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, Mapping):
            line.update({k: v for k, v in fields.items() if k not in line})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, default=str, ensure_ascii=False))


def configure(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as JSON lines; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
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
            name=name,
            enterprise=context.enterprise_id,
            team=context.team_id,
            user=context.user_id,
            status=resp.status,
            ms=round(elapsed_ms, 1),
            retry=retry,
            mode=req.mode,
        ),
    )
