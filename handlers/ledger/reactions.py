"""Reaction capture: react with your emoji (default :pray:) to log a message's author.

``reaction_added`` -> an ephemeral offer in that channel with a [Log it] button
(``log_reaction_favour``) -> a favour received, with the message's permalink. Your own messages,
bots' messages and other emoji are ignored. ``/ally react :emoji:`` changes the emoji.
"""

from __future__ import annotations

import json
import logging

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.errors import AllyError
from bot.ledger import reactions
from bot.ledger.people import MemberRef
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, actions, button, escape, say, section
from handlers.kit.members import home_changed, member_of
from handlers.kit.replies import on_press

log = logging.getLogger(__name__)


def offer(author: str, author_id: str, emoji: str, link: str | None) -> Reply:
    """The ephemeral offer after a reaction."""
    where = f" for <{link}|this message>" if link else " for this message"
    value = json.dumps({"u": author_id, "e": emoji, "l": link}, separators=(",", ":"))
    return Reply(
        text=f"Log {escape(author)} as having helped you?",
        blocks=[
            section(
                f":{emoji}: Log *{escape(author)}* as having helped you{where}? "
                "Only you will see it."
            ),
            actions(button("Log it", ids.LOG_REACTION_FAVOUR, value=value, style="primary")),
        ],
    )


def logged(author: str, link: str | None, interaction_id: int) -> Reply:
    what = f"<{link}|their message>" if link else "their message"
    return Reply(
        text=f"Logged: {escape(author)} helped you.",
        blocks=[
            section(f":white_check_mark: Logged: *{escape(author)}* helped you ({what})."),
            actions(button("Say thanks", ids.SAY_THANKS, value=str(interaction_id))),
        ],
    )


def react(command: Command) -> Reply:
    """``/ally react [:emoji:]``: show or change the emoji that offers to log a favour."""
    emoji = reactions.react(command.runtime.unit_of_work, command.member, command.args, command.now)
    command.home_changed(emoji.home_changed)
    if not emoji.home_changed:
        return say(
            f"React with :{emoji.name}: to someone's message to log that they helped you. "
            "Change it with `/ally react :emoji:`."
        )
    return say(f"Done: react with :{emoji.name}: to log that someone helped you.")


SUBCOMMANDS = {
    "react": Subcommand(
        react, "/ally react [:emoji:]", "the emoji that logs a message's author as a help"
    )
}


def register(app: App, runtime: Runtime) -> None:
    @app.event("reaction_added")
    def on_reaction(event: dict, context: BoltContext, client: WebClient) -> None:
        member = member_of(context)
        item = event.get("item") or {}
        author_id = event.get("item_user")
        reactor = event.get("user")
        if member is None or item.get("type") != "message" or not author_id:
            return
        if author_id == reactor or not item.get("channel") or not item.get("ts"):
            return
        found = reactions.reaction_offer(
            runtime.unit_of_work,
            client,
            member,
            author_id,
            event.get("reaction") or "",
            runtime.clock(),
        )
        if found is None:
            return
        try:
            link = client.chat_getPermalink(channel=item["channel"], message_ts=item["ts"]).get(
                "permalink"
            )
        except SlackApiError as error:
            log.warning("chat.getPermalink failed: %s", error.response.get("error"))
            link = None
        reply = offer(found.author, author_id, found.emoji, link)
        try:
            client.chat_postEphemeral(
                channel=item["channel"], user=member.user_id, **reply.as_kwargs()
            )
        except SlackApiError as error:
            # e.g. a channel Ally is not in: there is nowhere to show the offer; nothing is lost.
            log.warning("reaction offer not shown: %s", error.response.get("error"))

    def on_log_it(
        member: MemberRef,
        raw: str,
        _body: dict,
        context: BoltContext,
        client: WebClient,
        respond: Respond,
    ) -> None:
        try:
            value = json.loads(raw)
            author_id, emoji, link = str(value["u"]), str(value["e"]), value.get("l")
        except (ValueError, KeyError, TypeError):
            respond(replace_original=True, text="That button is out of date: nothing was logged.")
            return
        try:
            recorded = reactions.log_reaction(
                runtime.unit_of_work, client, member, author_id, emoji, link, runtime.clock()
            )
        except AllyError as error:
            respond(replace_original=True, text=f"Nothing was logged: {escape(error.message)}")
            return
        home_changed(context, recorded.home_changed)
        reply = logged(recorded.contact.label, link, recorded.lines[0].id)
        respond(replace_original=True, **reply.as_kwargs())

    app.action(ids.LOG_REACTION_FAVOUR)(on_press(on_log_it))
