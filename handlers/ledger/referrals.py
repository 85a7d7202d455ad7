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
from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    PlainTextInputElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View
from sqlalchemy.orm import Session

from bot import ids
from bot.errors import AllyError, InvalidInput
from bot.ledger.directory import person as slack_person
from bot.ledger.people import MemberRef, OutsidePerson, Person, outside_person
from bot.ledger.referrals import (
    MAX_REFERRALS,
    focus_of,
    log_catch_up,
    person_for_key,
    record_referrals,
)
from bot.platform.runtime import Runtime
from handlers.kit.blocks import actions, button, clip, context, escape, section
from handlers.kit.members import member_of
from handlers.ledger import views as ledger_views
from storage.db import transaction
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
            InputBlock(
                block_id="who",
                label="Who did you meet?",
                optional=True,
                element=UserSelectElement(action_id="who", placeholder="Pick someone in Slack"),
            ),
            InputBlock(
                block_id="outside",
                label="…or someone outside Slack",
                optional=True,
                element=PlainTextInputElement(
                    action_id="outside", placeholder="Dana Lee (Acme)", max_length=NAME_MAX
                ),
            ),
        ]
    blocks.append(
        InputBlock(
            block_id="note",
            label="What did you talk about?",
            optional=True,
            element=PlainTextInputElement(action_id="note", multiline=True, max_length=WHAT_MAX),
        )
    )
    return View(
        type="modal",
        callback_id=ids.CATCH_UP_MODAL,
        title="Log a catch-up",
        submit="Log it",
        close="Cancel",
        private_metadata=contact_key or "",
        blocks=blocks,
    )


def referrals_view(contact_key: str, name: str, focus: str | None, logged: str = "") -> View:
    """The "who else should I talk to?" modal for the contact ``contact_key``."""
    intro = f"{logged}\n\n" if logged else ""
    blocks: list[Block] = [
        section(
            f"{intro}*{escape(who_else(focus))}*\nAsk {escape(name)} and add up to "
            f"{MAX_REFERRALS} people they suggest. Each joins your network as met through "
            f"{escape(name)}."
        ),
        InputBlock(
            block_id="people",
            label="People in Slack",
            optional=True,
            element=UserMultiSelectElement(
                action_id="people", placeholder="Pick people", max_selected_items=MAX_REFERRALS
            ),
        ),
        InputBlock(
            block_id="outside",
            label="People outside Slack, one per line",
            optional=True,
            element=PlainTextInputElement(
                action_id="outside",
                multiline=True,
                placeholder="Dana Lee (Acme)",
                max_length=MAX_REFERRALS * (NAME_MAX + 3),
            ),
        ),
    ]
    if not focus:
        blocks.append(context("Set a focus of inquiry with `/ally focus <topic>` to sharpen this."))
    return View(
        type="modal",
        callback_id=ids.REFERRALS_MODAL,
        title="Who else?",
        submit="Add them",
        close="Not now",
        private_metadata=contact_key,
        blocks=blocks,
    )


def done_view(text: str) -> View:
    return View(type="modal", title="Noted", close="Done", blocks=[section(clip(text))])


# -- reading submissions --------------------------------------------------------------------------


def _value(values: dict, block: str) -> dict:
    return (values.get(block) or {}).get(block) or {}


def outside_names(text: str | None, *, field: str) -> list[OutsidePerson]:
    """One outside person per non-empty line."""
    return [outside_person(line, field=field) for line in (text or "").splitlines() if line.strip()]


def referred_people(
    session: Session, client: WebClient, member: MemberRef, values: dict, now: datetime
) -> list[Person]:
    """The people a form's ``people`` (Slack users) and ``outside`` (a name a line) fields
    name: "who else should I talk to?"."""
    users = _value(values, "people").get("selected_users") or []
    people: list[Person] = [
        slack_person(session, client, member, u, now, field="people") for u in users
    ]
    return people + outside_names(_value(values, "outside").get("value"), field="outside")


def picked_person(
    session: Session, client: WebClient, member: MemberRef, values: dict, now: datetime
) -> Person:
    """Who the member met, from the catch-up modal's "who" and "outside" fields."""
    user = _value(values, "who").get("selected_user")
    outside = (_value(values, "outside").get("value") or "").strip()
    if user and outside:
        raise InvalidInput("outside", "Pick someone in Slack or type a name, not both.")
    if user:
        return slack_person(session, client, member, user, now, field="who")
    if outside:
        return outside_person(outside, field="outside")
    raise InvalidInput("who", "Pick who you met, or type their name below.")


def _names(people: Sequence[Person]) -> str:
    return ", ".join(p.label for p in people)


# -- listeners ------------------------------------------------------------------------------------


def register(app: App, runtime: Runtime) -> None:
    def open_catch_up(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        ack()
        member = member_of(context)
        key = (body.get("actions") or [{}])[0].get("value") or None
        if member is None:
            return
        name = None
        if key:
            with transaction(runtime.sessions) as session:
                try:
                    name = person_for_key(session, member, key, runtime.clock()).label
                except AllyError:
                    key = None  # the contact is gone: let the member pick someone
        client.views_open(trigger_id=body["trigger_id"], view=catch_up_view(key, name))

    def open_referrals(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        ack()
        member = member_of(context)
        key = (body.get("actions") or [{}])[0].get("value") or ""
        if member is None or not key:
            return
        with transaction(runtime.sessions) as session:
            try:
                name = person_for_key(session, member, key, runtime.clock()).label
            except AllyError as error:
                view = done_view(escape(error.message))
            else:
                view = referrals_view(key, name, focus_of(session, member))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def submit_catch_up(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        member = member_of(context)
        view = body["view"]
        values = view["state"]["values"]
        key = view.get("private_metadata") or ""
        note = _value(values, "note").get("value") or ""
        now = runtime.clock()
        assert member is not None  # view submissions always carry the user
        try:
            with transaction(runtime.sessions) as session:
                if key:
                    who = person_for_key(session, member, key, now)
                else:
                    who = picked_person(session, client, member, values, now)
                recorded = log_catch_up(session, member, who, note, now)
                focus = focus_of(session, member)
        except InvalidInput as error:
            field = error.field if error.field in values else next(iter(values), "note")
            ack(response_action="errors", errors={field: error.message})
            return
        except AllyError as error:
            ack(response_action="update", view=done_view(escape(error.message)))
            return
        logged = f":white_check_mark: Logged a catch-up with {ledger_views.name(recorded.contact)}."
        ack(
            response_action="update",
            view=referrals_view(recorded.contact.key, recorded.contact.label, focus, logged),
        )

    def submit_referrals(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        member = member_of(context)
        view = body["view"]
        values = view["state"]["values"]
        key = view.get("private_metadata") or ""
        now = runtime.clock()
        assert member is not None
        try:
            with transaction(runtime.sessions) as session:
                introducer = person_for_key(session, member, key, now)
                people = referred_people(session, client, member, values, now)
                record_referrals(session, member, introducer, people, now, field="people")
        except InvalidInput as error:
            field = error.field if error.field in values else "people"
            ack(response_action="errors", errors={field: error.message})
            return
        except AllyError as error:
            ack(response_action="update", view=done_view(escape(error.message)))
            return
        ack(
            response_action="update",
            view=done_view(
                f"Logged {escape(_names(people))} as introduced by {escape(introducer.label)}. "
                "Reach out to them next: the snowball shows on your Home tab."
            ),
        )

    app.action(ids.HOME_LOG_CATCH_UP)(open_catch_up)
    app.action(ids.ASK_REFERRALS)(open_referrals)
    app.view(ids.CATCH_UP_MODAL)(submit_catch_up)
    app.view(ids.REFERRALS_MODAL)(submit_referrals)
