"""``/ally export`` (a JSON file of everything Ally holds about you, sent by DM) and
``/ally forget`` (erase it all, after a confirmation only you can give)."""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.data_rights import service as data_rights
from bot.platform.logs import fields
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, actions, button, say, section
from handlers.kit.members import member_of
from handlers.kit.slack_errors import error_code, explain
from storage.db import transaction

log = logging.getLogger(__name__)


def export_file(command: Command) -> Reply:
    """Build the member's export and DM it to them as a JSON file (files upload v2)."""
    member = command.member
    with transaction(command.runtime.sessions) as session:
        data = data_rights.export(session, member, command.now)
    content = json.dumps(data, indent=2, ensure_ascii=False)
    filename = f"ally-export-{command.now.date().isoformat()}.json"
    try:
        channel = command.client.conversations_open(users=member.user_id)["channel"]["id"]
        command.client.files_upload_v2(
            channel=channel,
            content=content,
            filename=filename,
            title="Your Ally data",
            initial_comment=(
                "Here is everything Ally holds about you: your settings, contacts, "
                "ledger, suggested questions and weekly nudges."
            ),
        )
    except SlackApiError as error:
        log.warning(
            "export not delivered",
            extra=fields(team=member.team_id, user=member.user_id, slack_error=error_code(error)),
        )
        return say(f"I couldn't send your export. {explain(error)}")
    log.info(
        "export sent",
        extra=fields(
            team=member.team_id,
            user=member.user_id,
            contacts=len(data["contacts"]),
            interactions=len(data["interactions"]),
            bytes=len(content.encode()),
        ),
    )
    return say(f"I've sent you a direct message with your data as a JSON file (`{filename}`).")


def confirm_forget(command: Command) -> Reply:
    """Ask before erasing anything; the buttons carry who asked, so only they can confirm."""
    owner = command.member.user_id
    return Reply(
        text="Delete all your Ally data?",
        blocks=[
            section(
                "*Delete all your Ally data?*\nThis erases your contacts, your ledger of favours "
                "and introductions, your notes, suggested questions, weekly nudges and settings. "
                "It can't be undone. Use `/ally export` first if you want a copy."
            ),
            actions(
                button("Delete everything", ids.FORGET_CONFIRM, value=owner, style="danger"),
                button("Keep my data", ids.FORGET_CANCEL, value=owner),
                block_id="forget",
            ),
        ],
    )


SUBCOMMANDS: dict[str, Subcommand] = {
    "export": Subcommand(export_file, "/ally export", "DM you a file with all your data (JSON)"),
    "forget": Subcommand(
        confirm_forget, "/ally forget", "delete all your data, after a confirmation"
    ),
}


def _pressed_value(body: dict) -> str:
    pressed = (body.get("actions") or [{}])[0]
    return str(pressed.get("value") or "")


def _tell(respond: Respond, body: dict, text: str) -> None:
    """Replace the confirmation with ``text``; a lost response URL is logged, not raised."""
    if not body.get("response_url"):
        return
    try:
        respond(replace_original=True, response_type="ephemeral", **say(text).as_kwargs())
    except Exception as error:  # the erasure already happened; only the message is lost
        log.warning("could not update the forget message", extra=fields(error=repr(error)))


def register(app: App, runtime: Runtime) -> None:
    @app.action(ids.FORGET_CONFIRM)
    def on_confirm(ack: Ack, body: dict, context: BoltContext, respond: Respond) -> None:
        ack()
        member = member_of(context)
        if member is None or _pressed_value(body) != member.user_id:
            log.warning(
                "forget refused: pressed by someone else",
                extra=fields(team=context.team_id, user=context.user_id),
            )
            _tell(respond, body, "Only the person who asked can confirm deleting their data.")
            return
        with transaction(runtime.sessions) as session:
            erased = data_rights.forget(session, member)
        log.info(
            "member data erased",
            extra=fields(
                enterprise=member.enterprise_id,
                team=member.team_id,
                user=member.user_id,
                rows=erased.total,
                **erased.counts,
            ),
        )
        _tell(
            respond,
            body,
            "Done: all your Ally data is deleted "
            f"({erased.counts.get('contacts', 0)} contacts, "
            f"{erased.counts.get('interactions', 0)} ledger entries). "
            "If you use Ally again, you start from scratch.",
        )

    @app.action(ids.FORGET_CANCEL)
    def on_cancel(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        _tell(respond, body, "Nothing was deleted. Your data stays private to you.")
