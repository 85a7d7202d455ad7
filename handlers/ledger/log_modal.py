"""The **Record who helped you** modal: ``/ally log``, the ``open_log_modal`` button, and its
submission (``log_favour_modal``).

The modal must open inside Slack's 3-second trigger window, so ``views.open`` is called while
the request is being handled (the app answers Slack after the listener returns). A submission is
validated and written before the ack, so a bad field comes back as a field error and nothing is
lost; the confirmation is sent after Slack has its answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.errors import InvalidInput
from bot.ledger import directory
from bot.ledger.directory import Named, Wanted
from bot.ledger.people import MemberRef, outside_person
from bot.ledger.service import Entry, Recorded, log_entry
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, actions, button, context, escape, say, section
from handlers.kit.forms import (
    FormErrors,
    answer,
    date_value,
    option_value,
    options_values,
    read_form,
    text_value,
    user_value,
)
from handlers.kit.mentions import Mention, take_person
from handlers.kit.replies import NOT_OPENED, notify, on_form, on_open, quick_client
from handlers.ledger import views as ledger_views
from handlers.ledger.modal_views import (
    DIRECTION,
    DIRECTIONS,
    HELPED_ME,
    I_HELPED,
    INTRODUCED_ME,
    NETWORKS,
    WHAT,
    WHEN,
    WHO_NAME,
    WHO_USER,
    WITH_NAME,
    WITH_USER,
    LogForm,
    log_favour_view,
)
from storage.models import InteractionKind, Network

log = logging.getLogger(__name__)
FAVOUR_KINDS = {HELPED_ME: InteractionKind.FAVOUR_RECEIVED, I_HELPED: InteractionKind.FAVOUR_GIVEN}


def member_zone(runtime: Runtime, client: WebClient, member: MemberRef, now: datetime) -> str:
    """The member's Slack time zone (``users.info`` through the directory cache), else UTC."""
    try:
        tz = directory.zone_of(runtime.unit_of_work, quick_client(client), member, now)
    except (SlackApiError, InvalidInput, OSError) as error:
        log.info("no time zone for %s (%s); using UTC", member.user_id, error)
        return "UTC"
    return tz if tz and _zone(tz) is not None else "UTC"


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def open_log(
    runtime: Runtime,
    client: WebClient,
    member: MemberRef,
    trigger_id: str,
    *,
    who_user: str | None = None,
    who_name: str | None = None,
    what: str = "",
    link: str | None = None,
    channel: str | None = None,
) -> None:
    """Open the Record modal, its date defaulting to today in the member's own time zone."""
    now = runtime.clock()
    tz = member_zone(runtime, client, member, now)
    today = now.astimezone(ZoneInfo(tz)).date()
    form = LogForm(today, tz, who_user, who_name, what, link, channel)
    client.views_open(trigger_id=trigger_id, view=log_favour_view(form))


def could_not_open(client: WebClient, member: MemberRef, channel: str | None) -> None:
    notify(client, member.user_id, channel, say(NOT_OPENED))


# -- /ally log and the open_log_modal button -------------------------------------------------


def log_command(command: Command) -> Reply | None:
    """``/ally log [@person] [what]``: open the Record modal, pre-filled from the text."""
    if not command.trigger_id:
        return say("I can't open a form from here. Try `/ally thanks @person for …` instead.")
    person, rest = take_person(command.args)
    who_user = person.user_id if isinstance(person, Mention) else None
    who_name = person.label if person is not None and not isinstance(person, Mention) else None
    try:
        open_log(
            command.runtime,
            command.client,
            command.member,
            command.trigger_id,
            who_user=who_user,
            who_name=who_name,
            what=rest.strip(),
            channel=command.channel_id,
        )
    except SlackApiError as error:
        log.warning("views.open failed for /ally log: %s", error.response)
        return say("Slack didn't let me open the form in time. Please try `/ally log` again.")
    return None


SUBCOMMANDS: dict[str, Subcommand] = {
    "log": Subcommand(
        log_command,
        "/ally log [@person]",
        "open a form to record a favour or an introduction",
    ),
}


# -- the submission --------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """A Record form as submitted, before anyone is looked up."""

    who_user: str | None = answer(user_value, WHO_USER)
    who_name: str = answer(text_value, WHO_NAME)
    direction: str | None = answer(option_value, DIRECTION)
    what: str = answer(text_value, WHAT)
    with_user: str | None = answer(user_value, WITH_USER)
    with_name: str = answer(text_value, WITH_NAME)
    day: str | None = answer(date_value, WHEN)
    networks: list[str] = answer(options_values, NETWORKS)


def _one_person(
    user: str | None, name: str, blocks: tuple[str, str], missing: str, keep: str
) -> dict[str, str]:
    """One person per field pair: a Slack user (``blocks[0]``) or a typed name (``blocks[1]``),
    never both, since guessing which of the two was meant could log the wrong one."""
    if not user and not name:
        return {blocks[0]: missing}
    if user and name:
        return {
            blocks[1]: "You picked a Slack user and typed a name: keep just one. "
            f"Clear this field to {keep}."
        }
    return {}


def check_shape(entry: LogEntry) -> None:
    """The form's own rules (which fields go together); the ledger checks the values."""
    errors = _one_person(
        entry.who_user,
        entry.who_name,
        (WHO_USER, WHO_NAME),
        "Pick someone in Slack, or type an outside name in the next field.",
        "log the Slack user",
    )
    if entry.direction not in DIRECTIONS:
        errors[DIRECTION] = "Pick which way the help went."
    elif entry.direction == INTRODUCED_ME:
        errors |= _one_person(
            entry.with_user,
            entry.with_name,
            (WITH_USER, WITH_NAME),
            "Whom did they introduce you to? Pick them, or type a name below.",
            "use the Slack user",
        )
    elif entry.with_user or entry.with_name:
        block = WITH_USER if entry.with_user else WITH_NAME
        errors[block] = (
            "This is only for introductions: clear it, or choose “They introduced me to someone”."
        )
    if entry.day is not None:
        try:
            date.fromisoformat(entry.day)
        except ValueError:
            errors[WHEN] = "Pick a date from the calendar."
    known = {n.name.lower() for n in Network if n.name}
    if any(n not in known for n in entry.networks):
        errors[NETWORKS] = "Pick networks from the list."
    if errors:
        raise FormErrors(errors)


def occurred_at(day: str | None, tz: str, now: datetime) -> datetime:
    """When it happened: now if the day is today in the member's zone, else that day's noon."""
    zone = _zone(tz) or ZoneInfo("UTC")
    local_now = now.astimezone(zone)
    if day is None:
        return local_now
    chosen = date.fromisoformat(day)
    if chosen == local_now.date():
        return local_now
    return datetime.combine(chosen, time(12), zone)


def choose_person(user: str | None, name: str, field: str) -> Wanted:
    """A Slack user (checked by the directory when the form is saved) or an outside name."""
    if user:
        return Named(user, field)
    return outside_person(name, field=field)


@dataclass(frozen=True)
class Saved:
    recorded: Recorded
    kind: InteractionKind
    day: date  # the day it happened, in the member's zone


def save_log(
    runtime: Runtime, client: WebClient, member: MemberRef, entry: LogEntry, meta: dict[str, Any]
) -> Saved:
    """Validate and write one Record form; raise ``FormErrors`` for anything to fix."""
    check_shape(entry)
    now = runtime.clock()
    fields = {
        "who": WHO_USER if entry.who_user else WHO_NAME,
        "introduced": WITH_USER if entry.with_user else WITH_NAME,
        "what": WHAT,
        "when": WHEN,
        "link": WHAT,
    }
    bits = 0
    for name in entry.networks:
        bits |= Network[name.upper()]
    tz, link = meta.get("tz"), meta.get("link")
    when = occurred_at(entry.day, tz if isinstance(tz, str) else "UTC", now)
    day = when.date()
    link = link if isinstance(link, str) else None
    try:
        people = [choose_person(entry.who_user, entry.who_name, "who")]
        if entry.direction == INTRODUCED_ME:
            people.append(choose_person(entry.with_user, entry.with_name, "introduced"))
            kind = InteractionKind.INTRO_RECEIVED
        else:
            kind = FAVOUR_KINDS[entry.direction or HELPED_ME]
        logged = Entry(kind, entry.what, when, link, bits)
        recorded = log_entry(runtime.unit_of_work, client, member, logged, people, now)
        return Saved(recorded, kind, day)
    except InvalidInput as error:
        raise FormErrors({fields.get(error.field, WHAT): error.message}) from None
    except SlackApiError as error:
        log.warning("users.info failed while saving a Record form: %s", error.response)
        block = WITH_USER if entry.direction == INTRODUCED_ME and entry.with_user else WHO_USER
        raise FormErrors(
            {block: "I couldn't reach Slack to check this person. Please press Save again."}
        ) from None


def confirmation(recorded: Recorded, kind: InteractionKind, day: date) -> Reply:
    """What the member reads once a Record form is saved."""
    line = recorded.lines[0]
    when = day.strftime("%a %d %b")
    what = f": {escape(line.what)}" if line.what else ""
    blocks = []
    if kind == InteractionKind.INTRO_RECEIVED:
        by = ledger_views.bold(line.contact, line.contact_user)
        to = ledger_views.name(recorded.contact)
        text = f"Saved: {by} introduced you to {to} ({when}){what}."
        blocks = [
            section(text),
            context(f"{to} is in your network now, met through {by}. Only you can see this."),
            actions(
                button(
                    f"Place {recorded.contact.label}", ids.OPEN_CONTACT_MODAL, recorded.contact.key
                )
            ),
        ]
        return Reply(text=text.replace("*", ""), blocks=blocks)
    who = ledger_views.name(recorded.contact)
    if kind == InteractionKind.FAVOUR_RECEIVED:
        text = f"Saved: {who} helped you ({when}){what}."
    else:
        text = f"Saved: you helped {who} ({when}){what}."
    balance = recorded.balance
    standing = (
        "even"
        if balance == 0
        else f"you've given {balance} more"
        if balance > 0
        else f"they've given {-balance} more"
    )
    blocks = [section(text), context(f"Between you and {who}: {standing}. Only you can see this.")]
    if kind == InteractionKind.FAVOUR_RECEIVED:
        blocks.append(actions(button("Say thanks", ids.SAY_THANKS, str(line.id), style="primary")))
    return Reply(text=text.replace("*", ""), blocks=blocks)


def register(app: App, runtime: Runtime) -> None:
    def open_form(
        member: MemberRef, client: WebClient, trigger_id: str, channel: str | None, _value: str
    ) -> None:
        open_log(runtime, client, member, trigger_id, channel=channel)

    def save(
        member: MemberRef, client: WebClient, values: dict[str, Any], meta: dict[str, Any]
    ) -> tuple[Reply, bool]:
        saved = save_log(runtime, client, member, read_form(LogEntry, values), meta)
        reply = confirmation(saved.recorded, saved.kind, saved.day)
        return reply, saved.recorded.home_changed

    app.action(ids.OPEN_LOG_MODAL)(on_open("Record form", open_form))
    app.view(ids.LOG_FAVOUR_MODAL)(on_form(app, save))
