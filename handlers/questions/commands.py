"""``/ally questions [@person|topic]``, ``/ally focus [<topic>|clear]`` and [Three more].

The questions come from ``bot.questions.service``; this module reads who or what they are for
out of the command text or the button, and renders the answer.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.errors import AllyError, InvalidInput
from bot.ledger.network import level_label, network_label, networks_of
from bot.ledger.people import MemberRef, OutsidePerson, Person, SlackPerson
from bot.platform.runtime import Runtime
from bot.questions.service import (
    Suggestions,
    change_focus,
    forget_focus,
    questions_for,
    show_focus,
)
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, actions, button, context, escape, say, section
from handlers.kit.mentions import Mention, person_mrkdwn, take_person
from handlers.kit.replies import on_press
from storage.models import NAME_MAX

log = logging.getLogger(__name__)

QUESTIONS_USAGE = "/ally questions [@person|topic]"
FOCUS_USAGE = "/ally focus [<topic>|clear]"
USER_ID = re.compile(r"^[UW][A-Z0-9]{1,30}$")
ANY_MENTION = re.compile(r"<@[UW][A-Z0-9]*(\|[^>]*)?>")


def _topic(text: str) -> str | None:
    """The free-text topic after a person (or instead of one), without a leading "about"."""
    text = text.strip()
    head, _, tail = text.partition(" ")
    if head.casefold() in ("about", "on", "re:"):
        text = tail.strip()
    if ANY_MENTION.search(text):
        raise InvalidInput(
            "topic", f"Name the person first, then the topic: `{QUESTIONS_USAGE}` [topic]."
        )
    return text or None


# -- the [Three more] button's value ------------------------------------------------------------
# The agreed value is the contact key ("U123", "~dana lee") or empty; with a topic the value is a
# small JSON object instead. Contact keys never start with "{", so the two cannot be confused.


def button_value(key: str, topic: str | None) -> str:
    if topic:
        return json.dumps({"key": key, "topic": topic}, ensure_ascii=False)
    return key


def read_button_value(value: str | None) -> tuple[str, str | None]:
    value = value or ""
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            return "", None
        if not isinstance(data, dict):
            return "", None
        key, topic = data.get("key"), data.get("topic")
        return (
            key if isinstance(key, str) else "",
            topic if isinstance(topic, str) and topic.strip() else None,
        )
    return value, None


# -- rendering ------------------------------------------------------------------------------


def who_mrkdwn(found: Suggestions) -> str | None:
    """Whom the questions are for, in mrkdwn: a Slack user as a mention, anyone else by name."""
    if found.contact is not None:
        return person_mrkdwn(found.contact.label, found.contact.slack_user_id)
    if found.person is not None:
        user = found.person.user_id if isinstance(found.person, SlackPerson) else None
        return person_mrkdwn(found.person.label, user)
    return None


def why_line(found: Suggestions) -> str:
    """A short "why these" line: the person's placement, the focus, and the no-repeat rule."""
    parts: list[str] = []
    contact = found.contact
    who = who_mrkdwn(found)
    if contact is not None:
        placement = [level_label(contact.level)] if contact.level else []
        nets = networks_of(contact.networks)
        if nets:
            placement.append(" and ".join(network_label(n) for n in nets) + " network")
        if contact.bond:
            placement.append(contact.bond)
        if placement:
            parts.append(f"{who}: {', '.join(placement)}.")
        else:
            parts.append(
                f"Place {who} with `/ally add` (level, network, alliance or "
                "connection) to tailor these."
            )
    elif who:
        parts.append(
            f"{who} isn't in your network yet: `/ally add` them with a level and "
            "network to tailor these."
        )
    if found.focus_from_topic:
        parts.append(f"Worded around “{escape(found.focus or '')}”.")
    elif found.focus:
        parts.append(f"Worded around your focus, “{escape(found.focus)}”.")
    else:
        parts.append("Set a focus with `/ally focus <topic>` to word these around it.")
    if found.new_round:
        parts.append("You've seen every question that fits, so they start over.")
    elif who:
        parts.append(f"No repeats for {who} until all {found.fitting} that fit have come up.")
    else:
        parts.append(f"No repeats until all {found.fitting} have come up.")
    return " ".join(parts)


def questions_reply(found: Suggestions) -> Reply:
    """Three questions, who they are for, why these, and [Three more]."""
    who = who_mrkdwn(found)
    if who:
        title = f"Questions for your next conversation with {who}"
    elif found.focus_from_topic:
        title = f"Questions about {escape(found.focus or '')}"
    else:
        title = "Questions for your next informational interview"
    numbered = [section(f"{i}. {escape(q.text)}") for i, q in enumerate(found.questions, start=1)]
    topic = found.focus if found.focus_from_topic else None
    return Reply(
        text=title + ": " + " ".join(escape(q.text) for q in found.questions),
        blocks=[
            section(f"*{title}*"),
            *numbered,
            context(why_line(found)),
            actions(
                button("Three more", ids.SHOW_QUESTIONS, value=button_value(found.scope, topic)),
            ),
        ],
    )


def questions_command(command: Command) -> Reply:
    """``/ally questions [@person|topic]``: three questions for a person, a topic, or anyone."""
    token, rest = take_person(command.args)
    person = SlackPerson(token.user_id) if isinstance(token, Mention) else token
    topic = _topic(rest)
    found = questions_for(
        command.runtime, command.client, command.member, command.now, person, topic
    )
    return questions_reply(found)


def focus_command(command: Command) -> Reply:
    """``/ally focus [<topic>|clear]``: show, set or clear the focus of inquiry."""
    runtime, member = command.runtime, command.member
    text = command.args.strip()
    if not text:
        focus = show_focus(runtime, member).focus
        if focus is None:
            return say(
                "You haven't set a focus of inquiry yet: a challenge you'd genuinely like to "
                "learn about and contribute to. Set one with `/ally focus <topic>`, e.g. "
                "`/ally focus customer onboarding`, and your questions will be worded "
                "around it."
            )
        return say(
            f"Your focus of inquiry is *{escape(focus)}*. "
            "Change it with `/ally focus <topic>` or remove it with `/ally focus clear`."
        )
    if text.casefold() in ("clear", "none", "off", "reset"):
        cleared = forget_focus(runtime, member)
        command.home_changed(cleared.home_changed)
        if cleared.previous is None:
            return say("You had no focus of inquiry set, so there was nothing to clear.")
        return say(
            f"Cleared your focus of inquiry (it was *{escape(cleared.previous)}*). "
            "Questions will be general until you set a new one."
        )
    changed = change_focus(runtime, member, text, command.now)
    command.home_changed(changed.home_changed)
    shown = escape(changed.focus or "")
    return say(
        f"Your focus of inquiry is now *{shown}*. Questions will be worded around it, and "
        f"you can open with: “I'm working on a project about {shown} and I'd really like to "
        f"speak with you about your experiences with it.” Try `/ally questions @person`."
    )


SUBCOMMANDS: dict[str, Subcommand] = {
    "questions": Subcommand(
        questions_command, QUESTIONS_USAGE, "three informational-interview questions"
    ),
    "focus": Subcommand(focus_command, FOCUS_USAGE, "show, set or clear your focus of inquiry"),
}


# -- the [Three more] button ---------------------------------------------------------------------


def _from_button(runtime: Runtime, client: WebClient, member: MemberRef, value: str) -> Reply:
    key, topic = read_button_value(value)
    if len(key) > NAME_MAX + 1:
        key = ""
    person: Person | None = None
    if USER_ID.match(key):
        person = SlackPerson(key)
    elif key.startswith("~"):
        person = OutsidePerson(key[1:])
    found = questions_for(runtime, client, member, runtime.clock(), person, topic)
    return questions_reply(found)


def register(app: App, runtime: Runtime) -> None:
    def show_questions(
        member: MemberRef,
        value: str,
        body: dict[str, Any],
        _context: BoltContext,
        client: WebClient,
        respond: Respond,
    ) -> None:
        try:
            reply = _from_button(runtime, client, member, value)
        except AllyError as error:
            reply = say(escape(error.message))
        except Exception:
            log.exception("show_questions failed team=%s user=%s", member.team_id, member.user_id)
            reply = say("Sorry, something went wrong on my side. Please try again in a moment.")
        if body.get("response_url"):
            # In the ephemeral questions message, replace the three with three more; under a
            # DM (the weekly nudge), add them below and leave the DM as it is.
            ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
            respond(response_type="ephemeral", replace_original=ephemeral, **reply.as_kwargs())
        else:
            # The Home tab has no response_url: the questions go to the member's DM with Ally.
            client.chat_postMessage(channel=member.user_id, **reply.as_kwargs())

    app.action(ids.SHOW_QUESTIONS)(on_press(show_questions))
