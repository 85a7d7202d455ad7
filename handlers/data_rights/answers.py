"""Ally's answers in a member's DM, kept so that forget (and an uninstall) deletes them from
Slack too (bot.data_rights.service.answer_sent).

A middleware wraps the request's Web API client: every message Ally posts with it in the acting
member's own DM with Ally (their user id as the channel, the DM the request came from, or the
DM ``conversations.open`` gave for them) is recorded once Slack has answered. A message posted
in anyone else's DM (a thank-you to a colleague) is not: it is the colleague's message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from bot.data_rights import service as data_rights
from bot.ledger.people import MemberRef
from bot.platform.logs import fields
from bot.platform.runtime import Runtime
from handlers.kit.members import member_of

log = logging.getLogger(__name__)


def _dm_of_request(body: dict[str, Any]) -> str | None:
    """The DM a request came from: a button in a DM, or a message in one (``D…`` ids only: an
    app receives those only for its own DM with the acting user)."""
    event = body.get("event") or {}
    candidates = (
        (body.get("channel") or {}).get("id"),
        (body.get("container") or {}).get("channel_id"),
        event.get("channel") if event.get("channel_type") == "im" else None,
    )
    for channel in candidates:
        if isinstance(channel, str) and channel.startswith("D"):
            return channel
    return None


def record_answers(client: WebClient, member: MemberRef, runtime: Runtime, body: dict) -> None:
    """Make ``client`` record the messages it posts in ``member``'s DM with Ally."""
    theirs = {member.user_id}
    dm = _dm_of_request(body)
    if dm is not None:
        theirs.add(dm)
    post: Callable[..., SlackResponse] = client.chat_postMessage
    open_dm: Callable[..., SlackResponse] = client.conversations_open

    def conversations_open(**kwargs: Any) -> SlackResponse:
        response = open_dm(**kwargs)
        if str(kwargs.get("users") or "") == member.user_id:
            channel = (response.get("channel") or {}).get("id")
            if channel:
                theirs.add(str(channel))
        return response

    def chat_post_message(**kwargs: Any) -> SlackResponse:
        response = post(**kwargs)
        if str(kwargs.get("channel") or "") in theirs and response.get("ts"):
            channel = str(response.get("channel") or kwargs["channel"])
            try:
                data_rights.answer_sent(
                    runtime.unit_of_work, member, channel, str(response["ts"]), runtime.clock()
                )
            except Exception:  # the answer went out; only its record for forget is missing
                log.exception(
                    "could not record Ally's answer in a DM",
                    extra=fields(team=member.team_id, user=member.user_id),
                )
        return response

    # The same client object is what the listener, ``say`` and any later work use.
    setattr(client, "conversations_open", conversations_open)  # noqa: B010
    setattr(client, "chat_postMessage", chat_post_message)  # noqa: B010


def register(app: App, runtime: Runtime) -> None:
    @app.middleware
    def answers_are_recorded(
        context: BoltContext, body: dict, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        member = member_of(context)
        client = context.get("client")
        if member is not None and isinstance(client, WebClient):
            record_answers(client, member, runtime, body)
        return next()
