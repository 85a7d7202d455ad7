"""Finding things in a message Ally posted, as the fake Slack received it."""

from __future__ import annotations

from typing import Any

from tests.support.slack_requests import SlackDriver


def button(
    message: dict[str, Any],
    action_id: str,
    value: str | None = None,
    block_id: str | None = None,
) -> dict[str, Any]:
    for block in message["blocks"]:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        for element in block.get("elements", []):
            if element.get("action_id") == action_id and (
                value is None or element.get("value") == value
            ):
                return {**element, "block_id": block.get("block_id")}
    raise AssertionError(f"no {action_id} button")


def press(slack: SlackDriver, message: dict[str, Any], pressed: dict[str, Any]) -> None:
    reply = slack.action(
        pressed["action_id"],
        value=pressed.get("value"),
        extra={
            "actions": [
                {
                    "action_id": pressed["action_id"],
                    "block_id": pressed["block_id"],
                    "type": "button",
                    "value": pressed.get("value"),
                }
            ],
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": "DU1"},
            "channel": {"id": "DU1"},
            "message": {"ts": message["ts"], "text": message["text"], "blocks": message["blocks"]},
        },
    )
    assert reply.status == 200


def favour(slack: SlackDriver, text: str) -> str:
    """Run the command ``text`` (a favour received) and return its Say thanks button's value."""
    reply = slack.command(text)
    [value] = [
        element["value"]
        for block in reply.json["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "say_thanks"
    ]
    return str(value)
