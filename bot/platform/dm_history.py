"""Ally's own messages in a conversation, found by their metadata: how a post whose outcome Slack
left unknown (a 5xx, a dropped connection, a sender that died) is looked for before posting
again, so nobody gets the same message twice.

History comes newest first, at most 15 messages a page for apps outside the Slack Marketplace
(https://api.slack.com/methods/conversations.history), and each look reads a bounded number of
pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slack_sdk import WebClient

PAGE = 15  # conversations.history's page for apps outside the Marketplace


def tagged(
    client: WebClient, channel: str, event_type: str, *, pages: int
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Each message in ``channel`` whose metadata names ``event_type``, newest first, with its
    payload; at most ``pages`` pages of history are read."""
    cursor = None
    for _ in range(pages):
        page = client.conversations_history(
            channel=channel, limit=PAGE, include_all_metadata=True, cursor=cursor
        )
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == event_type:
                yield message, metadata.get("event_payload") or {}
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return
