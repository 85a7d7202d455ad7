"""``/ally calendar`` (a subcommand, in ``commands``) and the weekly DM's Add button for people
met in calendar meetings who are not in the member's network yet."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.calendar.service import add_offered
from bot.errors import AllyError
from bot.platform.runtime import Runtime
from handlers.kit.blocks import context as note
from handlers.kit.blocks import escape
from handlers.kit.members import home_changed
from handlers.kit.replies import pressed
from handlers.kit.slack_errors import explain

log = logging.getLogger(__name__)


def without_pressed(blocks: list[dict], value: str, done: str) -> list[dict]:
    """The DM's blocks with the pressed Add button taken out of its row (the row goes when
    it is empty) and ``done`` said just after it."""
    result: list[dict] = []
    for block in blocks:
        if block.get("block_id") != "calendar_met":
            result.append(block)
            continue
        left = [e for e in block.get("elements") or [] if e.get("value") != value]
        if left:
            result.append({**block, "elements": left})
        result.append({**note(done).to_dict(), "block_id": f"calendar_added_{len(result)}"})
    return result


def register(app: App, runtime: Runtime) -> None:
    def on_add(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        press = pressed(ack, body, context)
        if press is None:
            return
        member, value = press
        try:
            who = add_offered(runtime, client, member, value, runtime.clock())
        except AllyError as error:
            done = escape(error.message)
        except SlackApiError as error:
            done = explain(error)
        else:
            home_changed(context)
            done = f":white_check_mark: Added {who if who.startswith('<@') else escape(who)} "
            done += "to your network."
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        if channel and "ts" in message:
            client.chat_update(
                channel=channel,
                ts=message["ts"],
                text=message.get("text") or done,
                blocks=without_pressed(message.get("blocks") or [], value, done),
            )

    app.action(ids.CALENDAR_ADD)(on_add)
