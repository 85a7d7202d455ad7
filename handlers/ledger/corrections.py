"""Fixing mistakes in Slack: ``/ally undo``, ``/ally delete``, ``/ally merge``, ``/ally link``;
the menu on each ledger line of ``/ally who`` (edit in a form, delete after a confirmation); the
Delete contact button and its confirmation."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot import ids
from bot.errors import AllyError, InvalidInput
from bot.ledger import corrections
from bot.ledger.people import MemberRef
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, say
from handlers.kit.members import member_of
from handlers.kit.mentions import PersonToken, require_person, strip_word
from handlers.kit.replies import answer_in_place, confirm_after_ack, on_button, tell
from handlers.ledger import correction_views as views
from handlers.ledger.commands import clean, resolve, token_key
from handlers.ledger.modal_views import date_value, text_value
from storage.db import transaction

log = logging.getLogger(__name__)
# A button's work on the member's ledger: (session, member, the button's value, now) -> reply.
Job = Callable[[Session, MemberRef, str, datetime], Reply]

# -- parsing (pure) -------------------------------------------------------------------------------


def parse_one(text: str, example: str) -> PersonToken:
    person, rest = require_person(clean(text), example=example)
    if rest.strip():
        raise InvalidInput("who", "Name one person and nothing else.")
    return person


def parse_pair(text: str, filler: str, example: str) -> tuple[PersonToken, PersonToken]:
    """``<a> [filler] <b>``: two different people and nothing else."""
    first, rest = require_person(clean(text), example=example)
    second, rest = require_person(strip_word(rest, filler), field="into", example=example)
    if rest.strip():
        raise InvalidInput("into", f"Name two people and nothing else, e.g. `{example}`.")
    if token_key(first) == token_key(second):
        raise InvalidInput("into", "Those are the same person: name two different contacts.")
    return first, second


# -- subcommands ----------------------------------------------------------------------------------


def undo(command: Command) -> Reply:
    if clean(command.args):
        raise InvalidInput("undo", "`undo` takes no options: it removes your last entry.")
    with transaction(command.runtime.sessions) as session:
        done = corrections.undo(session, command.member, command.now)
    return views.removed(done, undone=True)


def delete(command: Command) -> Reply:
    token = parse_one(command.args, '/ally delete "Dana Lee"')
    with transaction(command.runtime.sessions) as session:
        size = corrections.contact_size(session, command.member, token_key(token), command.now)
    return views.confirm_delete_contact(size)


def merge(command: Command) -> Reply:
    source, into = parse_pair(command.args, "into", '/ally merge "D. Lee" into "Dana Lee"')
    with transaction(command.runtime.sessions) as session:
        done = corrections.merge_contacts(
            session, command.member, token_key(source), token_key(into), command.now
        )
    return views.merged(done)


def link(command: Command) -> Reply:
    outside, user = parse_pair(command.args, "to", '/ally link "Dana Lee (Acme)" @dana')
    [person] = resolve(command, [(user, "into")])
    with transaction(command.runtime.sessions) as session:
        done = corrections.link_contact(
            session, command.member, token_key(outside), person, command.now
        )
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


def _action(body: dict[str, Any]) -> dict[str, Any]:
    return (body.get("actions") or [{}])[0]


def _entry_id(value: Any) -> int:
    text = str(value or "")
    if not text.isdecimal() or len(text) > 18:
        raise InvalidInput("entry", "I can't find that entry in your ledger any more.")
    return int(text)


def _new_when(old: datetime, picked: str | None) -> datetime:
    """The entry's instant on the picked day (its time of day kept)."""
    if not picked:
        raise InvalidInput("when", "Pick the day it happened.")
    try:
        day = date.fromisoformat(picked)
    except ValueError:
        raise InvalidInput("when", "Pick the day it happened.") from None
    return old if day == old.date() else datetime.combine(day, old.timetz())


def register(app: App, runtime: Runtime) -> None:
    def unit(job: Job) -> Callable[[MemberRef, str], Reply]:
        """A button's work in one transaction: ``job(session, member, value, now)``."""

        def work(member: MemberRef, value: str) -> Reply:
            with transaction(runtime.sessions) as session:
                return job(session, member, value, runtime.clock())

        return work

    def on_line_menu(
        ack: Ack, body: dict, context: BoltContext, client: WebClient, respond: Respond
    ) -> None:
        ack()
        member = member_of(context)
        if member is None:
            return
        chosen = str((_action(body).get("selected_option") or {}).get("value") or "")
        what, _, raw = chosen.partition(":")
        channel = (body.get("channel") or {}).get("id")
        try:
            entry_id = _entry_id(raw)
            with transaction(runtime.sessions) as session:
                line = corrections.entry_line(session, member, entry_id, runtime.clock())
        except AllyError as error:
            tell(client, body, respond, say(error.message))
            return
        if what == "edit":
            try:
                client.views_open(
                    trigger_id=body["trigger_id"], view=views.edit_entry_view(line, channel)
                )
            except SlackApiError as error:
                log.warning("views.open failed for the edit-entry form: %s", error.response)
                tell(client, body, respond, say("Slack didn't open the form: please try again."))
        elif what == "delete":
            tell(client, body, respond, views.confirm_delete_entry(line))

    def on_cancel(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        answer_in_place(client, body, respond, views.kept())

    def on_edit_submit(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        member = member_of(context)
        if member is None:
            ack()
            return
        view = body.get("view") or {}
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
        values = (view.get("state") or {}).get("values") or {}
        now = runtime.clock()
        try:
            entry_id = _entry_id(meta.get("id"))
            with transaction(runtime.sessions) as session:
                old = corrections.entry_line(session, member, entry_id, now)
                when = _new_when(old.occurred_at, date_value(values, views.WHEN))
                line = corrections.edit_entry(
                    session, member, entry_id, text_value(values, views.WHAT), when, now
                )
        except InvalidInput as error:
            block = views.WHEN if error.field == "when" else views.WHAT
            ack(response_action="errors", errors={block: error.message})
            return
        except AllyError as error:
            ack(response_action="errors", errors={views.WHAT: error.message})
            return
        ack()
        channel = meta.get("channel") if isinstance(meta.get("channel"), str) else None
        confirm_after_ack(app, client, member.user_id, channel, views.edited(line))

    app.action(ids.LEDGER_LINE_MENU)(on_line_menu)
    app.action(ids.DELETE_ENTRY_CONFIRM)(
        on_button(
            unit(
                lambda s, m, value, now: views.removed(
                    corrections.delete_entry(s, m, _entry_id(value), now)
                )
            ),
            answer_in_place,
        )
    )
    app.action(ids.DELETE_CONTACT)(
        on_button(
            unit(
                lambda s, m, key, now: views.confirm_delete_contact(
                    corrections.contact_size(s, m, key, now)
                )
            )
        )
    )
    app.action(ids.DELETE_CONTACT_CONFIRM)(
        on_button(
            unit(
                lambda s, m, key, now: views.contact_deleted(
                    corrections.delete_contact(s, m, key, now)
                )
            ),
            answer_in_place,
        )
    )
    app.action(ids.CORRECTION_CANCEL)(on_cancel)
    app.view(ids.EDIT_ENTRY_MODAL)(on_edit_submit)
