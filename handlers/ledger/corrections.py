"""Fixing mistakes in Slack: ``/ally undo``, ``/ally delete``, ``/ally merge``, ``/ally link``;
the menu on each ledger line of ``/ally who`` (edit in a form, delete after a confirmation); the
Delete contact button and its confirmation."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.errors import AllyError, InvalidInput
from bot.ledger import corrections
from bot.ledger.people import MemberRef
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, refusal, say
from handlers.kit.forms import FormErrors, picked_day, text_value
from handlers.kit.mentions import PersonToken, require_person, strip_word
from handlers.kit.replies import answer_in_place, on_button, on_form, on_press, tell
from handlers.ledger import correction_views as views
from handlers.ledger.commands import named, token_key

log = logging.getLogger(__name__)

# -- parsing (pure) -------------------------------------------------------------------------------


def parse_one(text: str, example: str) -> PersonToken:
    person, rest = require_person(text, example=example)
    if rest.strip():
        raise InvalidInput("who", "Name one person and nothing else.")
    return person


def parse_pair(text: str, filler: str, example: str) -> tuple[PersonToken, PersonToken]:
    """``<a> [filler] <b>``: two different people and nothing else."""
    first, rest = require_person(text, example=example)
    second, rest = require_person(strip_word(rest, filler), field="into", example=example)
    if rest.strip():
        raise InvalidInput("into", f"Name two people and nothing else, e.g. `{example}`.")
    if token_key(first) == token_key(second):
        raise InvalidInput("into", "Those are the same person: name two different contacts.")
    return first, second


# -- subcommands ----------------------------------------------------------------------------------


def undo(command: Command) -> Reply:
    if command.args:
        raise InvalidInput("undo", "`undo` takes no options: it removes your last entry.")
    done = corrections.undo_last(command.runtime.unit_of_work, command.member, command.now)
    command.home_changed(done.home_changed)
    return views.removed(done, undone=True)


def delete(command: Command) -> Reply:
    token = parse_one(command.args, '/ally delete "Dana Lee"')
    size = corrections.size_of(
        command.runtime.unit_of_work, command.member, token_key(token), command.now
    )
    return views.confirm_delete_contact(size)


def merge(command: Command) -> Reply:
    source, into = parse_pair(command.args, "into", '/ally merge "D. Lee" into "Dana Lee"')
    units, member, now = command.runtime.unit_of_work, command.member, command.now
    done = corrections.merge(units, member, token_key(source), token_key(into), now)
    command.home_changed(done.home_changed)
    return views.merged(done)


def link(command: Command) -> Reply:
    outside, user = parse_pair(command.args, "to", '/ally link "Dana Lee (Acme)" @dana')
    [person] = named(command, [(user, "into")])
    units, client, now = command.runtime.unit_of_work, command.client, command.now
    done = corrections.link(units, client, command.member, token_key(outside), person, now)
    command.home_changed(done.home_changed)
    return views.merged(done, linked=True)


SUBCOMMANDS: dict[str, Subcommand] = {
    "undo": Subcommand(undo, "/ally undo", "remove the last entry you logged"),
    "delete": Subcommand(
        delete, "/ally delete @person", "delete someone and their history (after you confirm)"
    ),
    "merge": Subcommand(
        merge, "/ally merge <person> into <person>", "two contacts are one person: merge them"
    ),
    "link": Subcommand(
        link, '/ally link "Outside Name" @person', "an outside contact joined Slack: link them"
    ),
}


# -- buttons and the edit form -------------------------------------------------------------------


def _entry_id(value: Any) -> int:
    text = str(value or "")
    if not text.isdecimal() or len(text) > 18:
        raise InvalidInput("entry", "I can't find that entry in your ledger any more.")
    return int(text)


def register(app: App, runtime: Runtime) -> None:
    units = runtime.unit_of_work

    def line_menu(
        member: MemberRef,
        chosen: str,
        body: dict,
        _context: BoltContext,
        client: WebClient,
        respond: Respond,
    ) -> None:
        """Edit (in a form) or delete (after a confirmation) the chosen ledger line."""
        what, _, raw = chosen.partition(":")
        try:
            line = corrections.read_entry(units, member, _entry_id(raw), runtime.clock())
        except AllyError as error:
            tell(client, body, respond, refusal(error))
            return
        if what == "delete":
            tell(client, body, respond, views.confirm_delete_entry(line))
        elif what == "edit":
            channel = (body.get("channel") or {}).get("id")
            try:
                client.views_open(
                    trigger_id=body["trigger_id"], view=views.edit_entry_view(line, channel)
                )
            except SlackApiError as error:
                log.warning("views.open failed for the edit-entry form: %s", error.response)
                tell(client, body, respond, say("Slack didn't open the form: please try again."))

    def on_cancel(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        answer_in_place(client, body, respond, views.kept())

    def save_edit(
        member: MemberRef, _client: WebClient, values: dict[str, Any], meta: dict[str, Any]
    ) -> tuple[Reply, bool]:
        try:
            day = picked_day(values, views.WHEN, "Pick the day it happened.")
            what = text_value(values, views.WHAT)
            done = corrections.change_entry(
                units, member, _entry_id(meta.get("id")), what, day, runtime.clock()
            )
        except InvalidInput as error:
            block = views.WHEN if error.field == views.WHEN else views.WHAT
            raise FormErrors({block: error.message}) from None
        except AllyError as error:
            raise FormErrors({views.WHAT: error.message}) from None
        return views.edited(done.line), done.home_changed

    def delete_entry(member: MemberRef, value: str) -> tuple[Reply, bool]:
        done = corrections.remove_entry(units, member, _entry_id(value), runtime.clock())
        return views.removed(done), done.home_changed

    def ask_delete_contact(member: MemberRef, key: str) -> Reply:
        return views.confirm_delete_contact(
            corrections.size_of(units, member, key, runtime.clock())
        )

    def delete_contact(member: MemberRef, key: str) -> tuple[Reply, bool]:
        done = corrections.remove_contact(units, member, key, runtime.clock())
        return views.contact_deleted(done), done.home_changed

    app.action(ids.LEDGER_LINE_MENU)(on_press(line_menu))
    app.action(ids.DELETE_ENTRY_CONFIRM)(on_button(delete_entry, answer_in_place))
    app.action(ids.DELETE_CONTACT)(on_button(ask_delete_contact))
    app.action(ids.DELETE_CONTACT_CONFIRM)(on_button(delete_contact, answer_in_place))
    app.action(ids.CORRECTION_CANCEL)(on_cancel)
    app.view(ids.EDIT_ENTRY_MODAL)(on_form(app, save_edit))
