"""Shortcuts: **Record who helped you** (global, ``log_favour``) and **Log as a favour**
(message, ``log_message_favour``), which opens the Record modal pre-filled from the message.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.platform.runtime import Runtime
from bot.slack_text import clean_text, typed
from handlers.kit.blocks import clip
from handlers.kit.members import member_of
from handlers.kit.replies import quick_client
from handlers.ledger.log_modal import could_not_open, open_log
from handlers.ledger.modal_views import PREFILL_TEXT_MAX

log = logging.getLogger(__name__)


def composed_permalink(domain: str | None, channel: str, ts: str, thread_ts: str | None) -> str:
    """A message link built the way Slack builds them, for when chat.getPermalink fails."""
    host = f"https://{domain}.slack.com" if domain else "https://slack.com"
    link = f"{host}/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link


def permalink(client: WebClient, body: dict[str, Any]) -> str | None:
    """The link to the message a message shortcut was used on.

    chat.getPermalink runs inside the 3-second trigger window: one quick try, then the link is
    composed from the payload instead.
    """
    channel = (body.get("channel") or {}).get("id")
    message = body.get("message") or {}
    ts = message.get("ts") or body.get("message_ts")
    if not channel or not ts:
        return None
    try:
        link = (
            quick_client(client).chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        )
        if isinstance(link, str) and link:
            return link
    except (SlackApiError, OSError) as error:
        log.info("chat.getPermalink failed (%s); composing the link", error)
    domain = (body.get("team") or {}).get("domain")
    return composed_permalink(domain, channel, ts, message.get("thread_ts"))


def plain(text: str) -> str:
    """Message text as its author typed it, whitespace collapsed."""
    return clean_text(typed(text))


def register(app: App, runtime: Runtime) -> None:
    def on_global(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        member = member_of(context)
        if member is None:
            return
        try:
            open_log(runtime, client, member, body["trigger_id"])
        except SlackApiError as error:
            log.warning("views.open failed for the log_favour shortcut: %s", error.response)
            could_not_open(client, member, None)

    def on_message(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        member = member_of(context)
        if member is None:
            return
        message = body.get("message") or {}
        author = message.get("user")
        channel = (body.get("channel") or {}).get("id")
        try:
            open_log(
                runtime,
                client,
                member,
                body["trigger_id"],
                # Your own message: you are not your own ally, so leave "who" for you to pick.
                who_user=author if author and author != member.user_id else None,
                what=clip(plain(str(message.get("text") or "")), PREFILL_TEXT_MAX),
                link=permalink(client, body),
                channel=channel,
            )
        except SlackApiError as error:
            log.warning("views.open failed for the log_message_favour shortcut: %s", error.response)
            could_not_open(client, member, channel)

    app.global_shortcut(ids.LOG_FAVOUR_SHORTCUT)(on_global)
    app.message_shortcut(ids.LOG_MESSAGE_FAVOUR_SHORTCUT)(on_message)
