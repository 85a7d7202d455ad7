"""``/ally people [filter]``, its page buttons, and the History button on each person."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.errors import AllyError
from bot.ledger import listing
from bot.ledger import service as ledger
from bot.ledger.people import MemberRef
from bot.nudges.settings import wake_contact
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, say
from handlers.kit.members import member_of
from handlers.kit.mentions import mention
from handlers.kit.replies import answer_in_place, on_button
from handlers.ledger import views
from handlers.ledger.people_views import people_list, read_page_value
from storage.db import transaction

log = logging.getLogger(__name__)


def people_page(runtime: Runtime, member: MemberRef, words: str, page: int) -> Reply:
    """One page of the member's people matching the filter ``words``."""
    wanted = listing.parse_filter(words)
    with transaction(runtime.sessions) as session:
        found = listing.people(session, member, runtime.clock(), wanted, page=page)
    return people_list(found)


def people(command: Command) -> Reply:
    return people_page(command.runtime, command.member, command.args, 0)


def person_history(runtime: Runtime, member: MemberRef, key: str) -> Reply:
    """``/ally who`` for a contact named by key (a person's History button)."""
    now = runtime.clock()
    with transaction(runtime.sessions) as session:
        card = ledger.contact_card(session, member, key, now)
        found = ledger.history(session, member, card.person, now, limit=views.LINES_SHOWN)
    return views.history(found)


SUBCOMMANDS: dict[str, Subcommand] = {
    "people": Subcommand(
        people,
        "/ally people [strategic|operational|developmental] [above|peer|below] "
        "[alliance|connection] [due|overdue|snoozed] [words]",
        "list your people, filtered by network, level, bond, who is due, or any word",
    ),
}


def register(app: App, runtime: Runtime) -> None:
    def on_page(
        ack: Ack, body: dict, context: BoltContext, client: WebClient, respond: Respond
    ) -> None:
        ack()
        member = member_of(context)
        if member is None:
            return
        action = (body.get("actions") or [{}])[0]
        try:
            words, page = read_page_value(action.get("value"))
            reply = people_page(runtime, member, words, page)
        except ValueError:
            reply = say("That list is out of date: type `/ally people` to see your people.")
        except AllyError as error:
            reply = say(error.message)
        answer_in_place(client, body, respond, reply)

    def wake(member: MemberRef, key: str) -> Reply:
        with transaction(runtime.sessions) as session:
            person = wake_contact(session, member, key, runtime.clock())
        return say(f":alarm_clock: {mention(person)} is awake: reminders about them are back.")

    app.action(ids.PEOPLE_PAGE)(on_page)
    app.action(ids.WAKE_CONTACT)(on_button(wake))
    app.action(ids.SHOW_PERSON)(on_button(lambda member, key: person_history(runtime, member, key)))
