"""``/ally export`` (a JSON file of everything Ally holds about you, sent by DM after Slack has
its answer, once per command) and ``/ally forget`` (erase it all, after a confirmation only you
can give, and delete Ally's DMs and export files from Slack)."""

from __future__ import annotations

import json
import logging
import uuid

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import ids
from bot.data_rights import deletions
from bot.data_rights import service as data_rights
from bot.platform.logs import fields
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, actions, button, say, section
from handlers.kit.members import home_changed
from handlers.kit.replies import pressed
from handlers.kit.slack_errors import error_code, explain

log = logging.getLogger(__name__)


def export_file(command: Command) -> Reply:
    """Answer at once and DM the export after: building and uploading it may take longer than
    Slack's 3 seconds. A command that arrives twice is one export (``request_export``)."""
    member = command.member
    key = data_rights.request_key(command.response_url or uuid.uuid4().hex)
    fresh = data_rights.ask_for_export(command.runtime.unit_of_work, member, key, command.now)
    if fresh:
        if command.later is not None:
            command.later(lambda: send_export(command, key))
        else:
            send_export(command, key)
    return say(
        "I'm putting your data together: it will arrive in a direct message from me in a moment, "
        "as a JSON file."
    )


def send_export(command: Command, key: str) -> None:
    """Build the member's export and DM it as a JSON file (files upload v2), once per request."""
    member = command.member
    runtime = command.runtime
    try:
        data = data_rights.take_export(runtime.unit_of_work, member, key, command.now)
        if data is None:
            return  # another process has it (or had it)
        content = json.dumps(data, indent=2, ensure_ascii=False)
        filename = f"ally-export-{command.now.date().isoformat()}.json"
        channel = command.client.conversations_open(users=member.user_id)["channel"]["id"]
        uploaded = command.client.files_upload_v2(
            channel=channel,
            content=content,
            filename=filename,
            title="Your Ally data",
            initial_comment=(
                "Here is everything Ally holds about you: your settings, contacts, ledger, "
                "suggested questions, weekly nudges, cached profile and Home visits."
            ),
        )
        file_id = (uploaded.get("file") or {}).get("id")
        data_rights.export_delivered(
            runtime.unit_of_work, member, key, channel, file_id, runtime.clock()
        )
    except SlackApiError as error:
        log.warning(
            "export not delivered",
            extra=fields(team=member.team_id, user=member.user_id, slack_error=error_code(error)),
        )
        _export_failed(command, key, f"I couldn't send your export. {explain(error)}")
        return
    except Exception:
        log.exception("export failed", extra=fields(team=member.team_id, user=member.user_id))
        _export_failed(command, key, "I couldn't send your export. Please try again in a moment.")
        return
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


def _export_failed(command: Command, key: str, text: str) -> None:
    """Record the failure and tell the member through the command's response URL."""
    try:
        data_rights.export_undelivered(command.runtime.unit_of_work, command.member, key)
    except Exception:
        log.exception("could not record a failed export")
    if not command.response_url:
        return
    try:
        WebhookClient(command.response_url, timeout=10).send(
            text=text, response_type="ephemeral", replace_original=False
        )
    except Exception as error:  # the member's DM and the response URL both failed
        log.warning(
            "could not tell the member about a failed export", extra=fields(error=repr(error))
        )


def confirm_forget(command: Command) -> Reply:
    """Ask before erasing anything; the buttons carry who asked, so only they can confirm."""
    owner = command.member.user_id
    return Reply(
        text="Delete all your Ally data?",
        blocks=[
            section(
                "*Delete all your Ally data?*\nThis erases your contacts, your ledger of favours "
                "and introductions, your notes, suggested questions, weekly nudges and settings, "
                "and deletes my DMs to you (weekly nudges, plan reminders and follow-ups) and your "
                "export files from Slack. "
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


def _tell(respond: Respond, body: dict, text: str) -> None:
    """Replace the confirmation with ``text``; a lost response URL is logged, not raised."""
    if not body.get("response_url"):
        return
    try:
        respond(replace_original=True, response_type="ephemeral", **say(text).as_kwargs())
    except Exception as error:  # the erasure already happened; only the message is lost
        log.warning("could not update the forget message", extra=fields(error=repr(error)))


def delete_copies_later(runtime: Runtime, enterprise_id: str, team_id: str | None) -> None:
    """Delete the workspace's listed DMs and files in Slack after the answer (a team of None:
    the whole organisation's); what Slack does not confirm stays listed for the scheduler's
    next run (bot.data_rights.deletions)."""
    try:
        deletions.delete_due(runtime, workspace=(enterprise_id, team_id))
    except Exception:
        log.exception(
            "could not delete Ally's copies in Slack; the next run retries",
            extra=fields(enterprise=enterprise_id, team=team_id),
        )


def register(app: App, runtime: Runtime) -> None:
    @app.action(ids.FORGET_CONFIRM)
    def on_confirm(ack: Ack, body: dict, context: BoltContext, respond: Respond) -> None:
        press = pressed(ack, body, context)
        if press is None or press[1] != press[0].user_id:
            log.warning(
                "forget refused: pressed by someone else",
                extra=fields(team=context.team_id, user=context.user_id),
            )
            _tell(respond, body, "Only the person who asked can confirm deleting their data.")
            return
        member = press[0]
        erased = data_rights.forget_member(runtime.unit_of_work, member, runtime.clock())
        home_changed(context, erased.home_changed)
        log.info(
            "member data erased",
            extra=fields(
                enterprise=member.enterprise_id,
                team=member.team_id,
                user=member.user_id,
                rows=erased.total,
                slack_copies=erased.copies,
                **erased.counts,
            ),
        )
        if erased.copies:
            app.listener_runner.listener_executor.submit(
                delete_copies_later, runtime, member.enterprise_id, member.team_id
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
