"""``/ally people [filter]``, its page buttons, and the History button on each person."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot import ids
from bot.ledger import listing
from bot.ledger.people import MemberRef
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, say
from handlers.kit.mentions import mention
from handlers.kit.replies import answer_in_place, on_button
from handlers.ledger import views
from handlers.ledger.people_views import people_list, read_page_value

log = logging.getLogger(__name__)


def people_page(runtime: Runtime, member: MemberRef, words: str, page: int) -> Reply:
    """One page of the member's people matching the filter ``words``."""
    wanted = listing.parse_filter(words)
    found = listing.people_page(runtime.unit_of_work, member, wanted, page, runtime.clock())
    return people_list(found)


def people(command: Command) -> Reply:
    return people_page(command.runtime, command.member, command.args, 0)


SUBCOMMANDS: dict[str, Subcommand] = {
    "people": Subcommand(
        people,
        "/ally people [strategic|operational|developmental] [above|peer|below] "
        "[alliance|connection] [due|overdue|snoozed] [words]",
        "list your people, filtered by network, level, bond, who is due, or any word",
    ),
}


def register(app: App, runtime: Runtime) -> None:
    def page(member: MemberRef, value: str) -> Reply:
        try:
            words, number = read_page_value(value)
        except ValueError:
            return say("That list is out of date: type `/ally people` to see your people.")
        return people_page(runtime, member, words, number)

    def wake(member: MemberRef, key: str) -> tuple[Reply, bool]:
        woken = listing.wake(runtime.unit_of_work, member, key, runtime.clock())
        return say(
            f":alarm_clock: {mention(woken.person)} is awake: reminders about them are back."
        ), woken.home_changed

    def show(member: MemberRef, key: str) -> Reply:
        now = runtime.clock()
        found = listing.person_history(runtime.unit_of_work, member, key, now, views.LINES_SHOWN)
        return views.history(found)

    app.action(ids.PEOPLE_PAGE)(on_button(page, answer_in_place))
    app.action(ids.WAKE_CONTACT)(on_button(wake))
    app.action(ids.SHOW_PERSON)(on_button(show))
