"""``/ally`` subcommands for the ledger: thanks, gave, intro, introduced, met, add, who, network.

Each subcommand is read in two steps: a pure ``parse_*`` function turns the text (cleaned once
by the dispatcher) into plain values, raising ``InvalidInput`` with a friendly message, then one
service call looks up the people named and writes or reads in its own unit of work. The dispatcher
in handlers/commands.py turns any ``AllyError`` into an ephemeral reply with the usage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.errors import InvalidInput
from bot.ledger import service as ledger
from bot.ledger.directory import Named, Wanted
from bot.ledger.people import MemberRef
from bot.ledger.referrals import log_met
from bot.ledger.service import ContactUpdate, check_cadence
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply
from handlers.kit.mentions import Mention, PersonToken, require_person, strip_word
from handlers.kit.replies import on_button
from handlers.ledger import views
from handlers.ledger.contact_modal import open_contact
from handlers.ledger.referrals import referral_offer
from storage.models import Bond, InteractionKind, Level, Network

log = logging.getLogger(__name__)


# -- parsing (pure) -------------------------------------------------------------------------------


class OnePerson(NamedTuple):
    """One person and what happened, as ``/ally thanks``, ``gave`` and ``met`` give them."""

    person: PersonToken
    text: str


class TwoPeople(NamedTuple):
    """Two people and a note, as ``/ally intro`` and ``introduced`` give them."""

    first: PersonToken
    second: PersonToken
    note: str


@dataclass(frozen=True)
class AddOptions:
    person: PersonToken
    networks: int | None = None
    level: Level | None = None
    bond: Bond | None = None
    cadence_days: int | None = None

    @property
    def empty(self) -> bool:
        return (self.networks, self.level, self.bond, self.cadence_days) == (None,) * 4


NETWORK_WORDS = {
    network_name: Network[network_name.upper()]
    for network_name in ("strategic", "operational", "developmental")
}
LEVEL_WORDS = {level.value: level for level in Level}
BOND_WORDS = {bond.value: bond for bond in Bond}
UNIT_DAYS = {"day": 1, "days": 1, "week": 7, "weeks": 7}
FILLERS = {"and", "&"}
ADD_OPTIONS = (
    "strategic, operational, developmental; above, peer, below; alliance, connection; "
    "every N days|weeks"
)


def parse_thanks(text: str) -> OnePerson:
    """``@person [for] <what>``: a favour the member received."""
    person, rest = require_person(text, example="/ally thanks @maria for the report")
    return OnePerson(person, strip_word(rest, "for"))


def parse_gave(text: str) -> OnePerson:
    """``@person <what>``: a favour the member gave."""
    person, rest = require_person(text, example="/ally gave @maria feedback on her talk")
    return OnePerson(person, rest.strip())


def parse_met(text: str) -> OnePerson:
    """``@person [note]``: a catch-up."""
    person, rest = require_person(text, example="/ally met @maria coffee about Q3")
    return OnePerson(person, rest.strip())


def parse_two(text: str, example: str) -> TwoPeople:
    """``@a [to|and] @b [note]``: two different people and an optional note."""
    first, rest = require_person(text, example=example)
    rest = strip_word(strip_word(rest, "to"), "and")
    second, rest = require_person(rest, field="introduced", example=example)
    if token_key(first) == token_key(second):
        raise InvalidInput("introduced", "Name two different people.")
    return TwoPeople(first, second, rest.strip())


def token_key(token: PersonToken) -> str:
    """The contact key a person token will have (a Slack user id or ``~name``)."""
    return token.user_id if isinstance(token, Mention) else token.key


def parse_intro(text: str) -> TwoPeople:
    return parse_two(text, "/ally intro @maria @bob")


def parse_introduced(text: str) -> TwoPeople:
    return parse_two(text, "/ally introduced @maria @bob")


def parse_cadence(words: Sequence[str]) -> tuple[int, int]:
    """``every N days|weeks`` (or ``every week``) at the start of ``words``: days, words used."""
    example = "Say how often as `every N days` or `every N weeks`, e.g. `every 3 weeks`."
    if not words:
        raise InvalidInput("cadence", example)
    count, used = 1, 1
    if words[0].isdecimal() and words[0].isascii():
        if len(words[0]) > 4 or len(words) < 2:
            raise InvalidInput("cadence", example)
        count, used = int(words[0]), 2
    unit = words[used - 1]
    if unit not in UNIT_DAYS:
        raise InvalidInput("cadence", example)
    return check_cadence(count * UNIT_DAYS[unit]), used


def parse_add(text: str) -> AddOptions:
    """``@person [networks...] [level] [bond] [every N days|weeks]``."""
    person, rest = require_person(text, example="/ally add @maria strategic above")
    words = rest.replace(",", " ").casefold().split()
    networks: int | None = None
    level: Level | None = None
    bond: Bond | None = None
    cadence: int | None = None
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word in FILLERS:
            continue
        if word in NETWORK_WORDS:
            networks = (networks or 0) | NETWORK_WORDS[word]
        elif word in LEVEL_WORDS:
            if level is not None and level != LEVEL_WORDS[word]:
                raise InvalidInput("level", "Pick one level: above, peer or below.")
            level = LEVEL_WORDS[word]
        elif word in BOND_WORDS:
            if bond is not None and bond != BOND_WORDS[word]:
                raise InvalidInput("bond", "Pick one: alliance or connection.")
            bond = BOND_WORDS[word]
        elif word == "every":
            if cadence is not None:
                raise InvalidInput("cadence", "Give one cadence, e.g. `every 3 weeks`.")
            cadence, used = parse_cadence(words[i:])
            i += used
        else:
            shown = word if len(word) <= 30 else word[:30] + "…"
            raise InvalidInput(
                "options", f"I don't know the option `{shown}`. Options: {ADD_OPTIONS}."
            )
    return AddOptions(person, networks, level, bond, cadence)


def parse_who(text: str) -> PersonToken:
    """``@person`` and nothing else."""
    person, rest = require_person(text, example="/ally who @maria")
    if rest.strip():
        raise InvalidInput("who", "`who` takes one person and nothing else.")
    return person


def parse_network(text: str) -> None:
    if text.strip():
        raise InvalidInput("network", "`network` takes no options.")


# -- people ---------------------------------------------------------------------------------------


def named(
    command: Command, tokens: Sequence[tuple[PersonToken, str]], *, active: bool = True
) -> list[Wanted]:
    """Who the tokens name, for a service to look up with its own unit of work; refuses the
    member naming themselves before any lookup.

    With ``active=False`` bots and deactivated users are allowed (to read an old history).
    """
    for token, field in tokens:
        if isinstance(token, Mention) and token.user_id == command.member.user_id:
            raise InvalidInput(field, "That's you! Name someone else.")
    return [
        Named(token.user_id, field, active) if isinstance(token, Mention) else token
        for token, field in tokens
    ]


# -- subcommands ----------------------------------------------------------------------------------


def wanted(token: PersonToken, field: str = "who") -> Wanted:
    """Who a person token names, for a service to look up."""
    return Named(token.user_id, field) if isinstance(token, Mention) else token


def thanks(command: Command) -> Reply:
    args = parse_thanks(command.args)
    recorded = _favour(command, args, InteractionKind.FAVOUR_RECEIVED)
    return views.favour_received(recorded)


def gave(command: Command) -> Reply:
    args = parse_gave(command.args)
    return views.favour_given(_favour(command, args, InteractionKind.FAVOUR_GIVEN))


def _favour(command: Command, args: OnePerson, kind: InteractionKind) -> ledger.Recorded:
    return _log(command, ledger.Entry(kind, args.text), [wanted(args.person)])


def met(command: Command) -> Reply:
    args = parse_met(command.args)
    caught_up = log_met(
        command.runtime.unit_of_work,
        command.client,
        command.member,
        wanted(args.person),
        args.text,
        command.now,
    )
    command.home_changed(caught_up.recorded.home_changed)
    recorded = caught_up.recorded
    # Seed 002's snowball: every catch-up is a chance to ask who else to talk to.
    reply = views.catch_up(recorded, command.now)
    offer = referral_offer(recorded.contact.key, recorded.contact.label, caught_up.focus)
    return Reply(reply.text, [*reply.blocks, *offer])


def intro(command: Command) -> Reply:
    recorded = _two(command, parse_intro(command.args), InteractionKind.INTRO_RECEIVED)
    return views.intro_received(recorded)


def introduced(command: Command) -> Reply:
    recorded = _two(command, parse_introduced(command.args), InteractionKind.INTRO_MADE)
    return views.intro_made(recorded)


def _two(command: Command, args: TwoPeople, kind: InteractionKind) -> ledger.Recorded:
    """An introduction received or made (``kind``), with the two people named."""
    people = [wanted(args.first), wanted(args.second, "introduced")]
    return _log(command, ledger.Entry(kind, args.note), people)


def _log(command: Command, entry: ledger.Entry, people: list[Wanted]) -> ledger.Recorded:
    """Log ``entry`` with the people the command names; Home shows it next time."""
    runtime, client, member = command.runtime, command.client, command.member
    recorded = ledger.log_entry(runtime.unit_of_work, client, member, entry, people, command.now)
    command.home_changed(recorded.home_changed)
    return recorded


def add(command: Command) -> Reply | None:
    args = parse_add(command.args)
    update = ContactUpdate(
        networks=args.networks, level=args.level, bond=args.bond, cadence_days=args.cadence_days
    )
    recorded = ledger.place(
        command.runtime.unit_of_work,
        command.client,
        command.member,
        wanted(args.person),
        update,
        command.now,
    )
    command.home_changed(recorded.home_changed)
    if args.empty and command.trigger_id:
        # No options: the contact form is the quickest way to place them.
        try:
            open_contact(
                command.runtime,
                command.client,
                command.member,
                command.trigger_id,
                recorded.contact.key,
                command.channel_id,
            )
            return None
        except SlackApiError as error:
            log.warning("views.open failed for /ally add: %s", error.response)
    return views.placement(recorded, command.now, changed=not args.empty)


def who(command: Command) -> Reply:
    token = parse_who(command.args)
    found = ledger.history_with(
        command.runtime.unit_of_work,
        command.client,
        command.member,
        wanted(token),
        command.now,
        limit=views.LINES_SHOWN,
    )
    return views.history(found)


def network(command: Command) -> Reply:
    parse_network(command.args)
    return network_review(command.runtime, command.member, command.now)


def network_review(runtime: Runtime, member: MemberRef, now: datetime) -> Reply:
    """The network review for ``member`` (``/ally network`` and the ``show_network`` button)."""
    found = ledger.network_overview(runtime.unit_of_work, member, now)
    return views.network(found.overview, found.cells)


SUBCOMMANDS: dict[str, Subcommand] = {
    "thanks": Subcommand(
        thanks, "/ally thanks @person [for] <what>", "someone helped you; offers to say thanks"
    ),
    "gave": Subcommand(gave, "/ally gave @person <what>", "you helped someone"),
    "intro": Subcommand(
        intro, "/ally intro @a @b [note]", "@a introduced you to @b (@b joins your network)"
    ),
    "introduced": Subcommand(
        introduced, "/ally introduced @a @b [note]", "you introduced @a to @b (a favour to each)"
    ),
    "met": Subcommand(
        met, "/ally met @person [note]", "a catch-up or coffee (restarts the stay-in-touch clock)"
    ),
    "add": Subcommand(
        add,
        "/ally add @person [strategic|operational|developmental ...] [above|peer|below] "
        "[alliance|connection] [every N days|weeks]",
        "add someone to your network or change where they sit",
    ),
    "who": Subcommand(who, "/ally who @person", "your history with someone, both ways"),
    "network": Subcommand(network, "/ally network", "review your three networks, level by level"),
}


# -- buttons --------------------------------------------------------------------------------------


def register(app: App, runtime: Runtime) -> None:
    app.action(ids.SHOW_NETWORK)(
        on_button(lambda member, _value: network_review(runtime, member, runtime.clock()))
    )
