"""Log a catch-up, then ask "who else should I talk to about <focus>?" (seed 002's snowball).

- ``home_log_catch_up`` (button; value = contact key, or none to pick someone) opens the
  catch-up modal; submitting it logs the catch-up and turns the modal into the referrals one.
- ``ask_referrals`` (button; value = contact key) opens the referrals modal directly; other
  replies that log a catch-up (``/ally met``, the weekly DM) append ``referral_offer``.
- ``referrals_modal`` logs up to five names as introductions received from that contact.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy.orm import Session

from bot import ids
from bot.errors import AllyError, InvalidInput
from bot.ledger import referrals
from bot.ledger.directory import Named, Wanted
from bot.ledger.directory import person as slack_person
from bot.ledger.people import MemberRef, OutsidePerson, Person, outside_person
from bot.ledger.referrals import MAX_REFERRALS
from bot.platform.runtime import Runtime
from handlers.kit.blocks import actions, button, clip, context, escape, section
from handlers.kit.forms import (
    modal,
    submission,
    text_input,
    text_value,
    user_input,
    user_value,
    users_input,
    users_value,
)
from handlers.kit.members import home_changed
from handlers.kit.replies import pressed
from handlers.ledger import views as ledger_views
from storage.models import NAME_MAX, WHAT_MAX

log = logging.getLogger(__name__)


# -- views ----------------------------------------------------------------------------------------


def who_else(focus: str | None) -> str:
    return f"Who else should I talk to about {focus}?" if focus else "Who else should I talk to?"


def referral_offer(contact_key: str, name: str, focus: str | None) -> list[Block]:
    """Blocks to append to any reply that logged a catch-up with someone."""
    return [
        section(
            f"*{escape(who_else(focus))}* Ask {escape(name)}: the people they suggest join "
            f"your network as met through them."
        ),
        actions(button("Add who they suggested", ids.ASK_REFERRALS, value=contact_key)),
    ]


def catch_up_view(contact_key: str | None, name: str | None) -> View:
    """The "Log a catch-up" modal, for a known contact or for someone to pick."""
    blocks: list[Block] = []
    if contact_key and name:
        blocks.append(
            section(f"A catch-up, coffee or informational interview with *{escape(name)}*.")
        )
    else:
        blocks += [
            user_input("who", "Who did you meet?", placeholder="Pick someone in Slack"),
            text_input(
                "outside",
                "…or someone outside Slack",
                placeholder="Dana Lee (Acme)",
                max_length=NAME_MAX,
            ),
        ]
    blocks.append(
        text_input("note", "What did you talk about?", multiline=True, max_length=WHAT_MAX)
    )
    metadata = contact_key or ""
    return modal(
        ids.CATCH_UP_MODAL, "Log a catch-up", blocks, submit="Log it", private_metadata=metadata
    )


def referral_inputs(people_label: str, placeholder: str, outside_label: str) -> list[Block]:
    """The two inputs of "who else should I talk to?": people in Slack, and outside names one
    per line (``named_referrals`` reads them)."""
    return [
        users_input(
            ids.REFERRED_PEOPLE, people_label, placeholder=placeholder, max_selected=MAX_REFERRALS
        ),
        text_input(
            ids.REFERRED_OUTSIDE,
            outside_label,
            multiline=True,
            placeholder="Dana Lee (Acme)",
            max_length=MAX_REFERRALS * (NAME_MAX + 3),
        ),
    ]


def referrals_view(contact_key: str, name: str, focus: str | None, logged: str = "") -> View:
    """The "who else should I talk to?" modal for the contact ``contact_key``."""
    intro = f"{logged}\n\n" if logged else ""
    blocks: list[Block] = [
        section(
            f"{intro}*{escape(who_else(focus))}*\nAsk {escape(name)} and add up to "
            f"{MAX_REFERRALS} people they suggest. Each joins your network as met through "
            f"{escape(name)}."
        ),
        *referral_inputs("People in Slack", "Pick people", "People outside Slack, one per line"),
    ]
    if not focus:
        blocks.append(context("Set a focus of inquiry with `/ally focus <topic>` to sharpen this."))
    return modal(
        ids.REFERRALS_MODAL,
        "Who else?",
        blocks,
        submit="Add them",
        close="Not now",
        private_metadata=contact_key,
    )


def done_view(text: str) -> View:
    return View(type="modal", title="Noted", close="Done", blocks=[section(clip(text))])


# -- reading submissions (pure) ------------------------------------------------------------------


def outside_names(text: str | None, *, field: str) -> list[OutsidePerson]:
    """One outside person per non-empty line."""
    return [outside_person(line, field=field) for line in (text or "").splitlines() if line.strip()]


def named_referrals(values: dict) -> list[Wanted]:
    """Who a form's ``people`` (Slack users) and ``outside`` (a name a line) fields name:
    "who else should I talk to?"; a service looks them up (``bot.ledger.directory``)."""
    users = users_value(values, ids.REFERRED_PEOPLE)
    named: list[Wanted] = [Named(user, ids.REFERRED_PEOPLE) for user in users]
    outside = text_value(values, ids.REFERRED_OUTSIDE)
    return named + outside_names(outside, field=ids.REFERRED_OUTSIDE)


def referred_people(
    session: Session, client: WebClient, member: MemberRef, values: dict, now: datetime
) -> list[Person]:
    """``named_referrals`` looked up in ``session`` (a Slack user not cached is fetched)."""
    return [
        one if isinstance(one, OutsidePerson) else slack_person(session, client, member, one, now)
        for one in named_referrals(values)
    ]


def picked_person(values: dict) -> Wanted:
    """Who the member met, from the catch-up modal's "who" and "outside" fields."""
    user = user_value(values, "who")
    outside = text_value(values, "outside")
    if user and outside:
        raise InvalidInput("outside", "Pick someone in Slack or type a name, not both.")
    if user:
        return Named(user, "who")
    if outside:
        return outside_person(outside, field="outside")
    raise InvalidInput("who", "Pick who you met, or type their name below.")


def _names(people: Sequence[Person]) -> str:
    return ", ".join(p.label for p in people)


def answered(ack: Ack, values: dict, fallback: str, error: AllyError) -> None:
    """Answer a submitted form's error: on the field it names (or ``fallback``) when it is the
    member's input, else in place of the form."""
    if isinstance(error, InvalidInput):
        field = error.field if error.field in values else fallback
        ack(response_action="errors", errors={field: error.message})
    else:
        ack(response_action="update", view=done_view(escape(error.message)))


# -- listeners ------------------------------------------------------------------------------------


def register(app: App, runtime: Runtime) -> None:
    units = runtime.unit_of_work

    def open_catch_up(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        press = pressed(ack, body, context)
        if press is None:
            return
        member, key = press
        # A contact that is gone: let the member pick someone.
        name = referrals.label_of(units, member, key, runtime.clock())
        view = catch_up_view(key if name else None, name)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def open_referrals(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        press = pressed(ack, body, context)
        if press is None or not press[1]:
            return
        member, key = press
        try:
            asked = referrals.ask(units, member, key, runtime.clock())
        except AllyError as error:
            view = done_view(escape(error.message))
        else:
            view = referrals_view(asked.key, asked.label, asked.focus)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def submit_catch_up(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        member, values, key = submission(body, context)
        try:
            who = None if key else picked_person(values)
            note = text_value(values, "note")
            done = referrals.caught_up(units, client, member, key, who, note, runtime.clock())
        except AllyError as error:
            answered(ack, values, next(iter(values), "note"), error)
            return
        recorded = done.recorded
        home_changed(context, recorded.home_changed)
        logged = f":white_check_mark: Logged a catch-up with {ledger_views.name(recorded.contact)}."
        ack(
            response_action="update",
            view=referrals_view(recorded.contact.key, recorded.contact.label, done.focus, logged),
        )

    def submit_referrals(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        member, values, key = submission(body, context)
        try:
            people = named_referrals(values)
            done = referrals.referred(units, client, member, key, people, runtime.clock())
        except AllyError as error:
            answered(ack, values, "people", error)
            return
        home_changed(context, done.home_changed)
        ack(
            response_action="update",
            view=done_view(
                f"Logged {escape(_names(done.people))} as introduced by "
                f"{escape(done.introducer.label)}. "
                "Reach out to them next: the snowball shows on your Home tab."
            ),
        )

    app.action(ids.HOME_LOG_CATCH_UP)(open_catch_up)
    app.action(ids.ASK_REFERRALS)(open_referrals)
    app.view(ids.CATCH_UP_MODAL)(submit_catch_up)
    app.view(ids.REFERRALS_MODAL)(submit_referrals)
