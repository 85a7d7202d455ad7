"""The **contact** modal: place one person in the member's network and edit them in place.

Opened by the ``open_contact_modal`` button (value = the contact's key) and by ``/ally add
@person`` with no options; submitted as ``contact_modal``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.errors import InvalidInput, NotFound
from bot.ledger.directory import Wanted
from bot.ledger.network import level_label, network_label, networks_of
from bot.ledger.people import MemberRef
from bot.ledger.service import ContactInfo, ContactUpdate, Recorded, card_of, place
from bot.platform.runtime import Runtime
from handlers.kit.blocks import Reply, context, escape, section
from handlers.kit.forms import (
    FormErrors,
    answer,
    option_value,
    options_values,
    read_form,
    text_value,
    user_value,
)
from handlers.kit.replies import on_form, on_open
from handlers.ledger import views as ledger_views
from handlers.ledger.log_modal import choose_person
from handlers.ledger.modal_views import (
    BOND,
    CADENCE,
    CONTACT_NAME,
    CONTACT_USER,
    DEFAULT_CADENCE,
    LEVEL,
    MET_NAME,
    MET_USER,
    NETWORKS,
    NOT_SET,
    NOTES,
    cadence_text,
    contact_view,
    new_contact_view,
)
from storage.models import Bond, Level, Network

log = logging.getLogger(__name__)


def open_contact(
    runtime: Runtime,
    client: WebClient,
    member: MemberRef,
    trigger_id: str,
    key: str,
    channel: str | None = None,
) -> None:
    """Open the contact modal for the member's contact ``key``; ``NotFound`` if there is none.
    With no key, an empty form for adding someone new."""
    if not key:
        client.views_open(trigger_id=trigger_id, view=new_contact_view(channel))
        return
    contact = card_of(runtime.unit_of_work, member, key, runtime.clock())
    client.views_open(trigger_id=trigger_id, view=contact_view(contact, channel))


@dataclass(frozen=True)
class ContactEntry:
    """A contact form as submitted."""

    # Who, on the form for someone new (the Slack user picked, or the name typed).
    user: str | None = answer(user_value, CONTACT_USER)
    name: str = answer(text_value, CONTACT_NAME)
    networks: list[str] = answer(options_values, NETWORKS)
    level: str | None = answer(option_value, LEVEL)
    bond: str | None = answer(option_value, BOND)
    cadence: str | None = answer(option_value, CADENCE)
    notes: str = answer(text_value, NOTES)
    met_user: str | None = answer(user_value, MET_USER)
    met_name: str = answer(text_value, MET_NAME)


def check_contact(entry: ContactEntry) -> int:
    """The form's own rules; returns the networks as bits."""
    errors: dict[str, str] = {}
    bits = 0
    for name in entry.networks:
        if name.upper() not in Network.__members__:
            errors[NETWORKS] = "Pick networks from the list."
            break
        bits |= Network[name.upper()]
    if entry.level not in (None, NOT_SET, *Level._value2member_map_):
        errors[LEVEL] = "Pick a level from the list."
    if entry.bond not in (None, NOT_SET, *Bond._value2member_map_):
        errors[BOND] = "Pick alliance or connection."
    if entry.cadence not in (None, DEFAULT_CADENCE) and not str(entry.cadence).isdigit():
        errors[CADENCE] = "Pick how often to stay in touch from the list."
    if entry.met_user and entry.met_name:
        errors[MET_NAME] = (
            "You picked a Slack user and typed a name: keep just one. "
            "Clear this field to use the Slack user."
        )
    if errors:
        raise FormErrors(errors)
    return bits


def save_contact(
    runtime: Runtime, client: WebClient, member: MemberRef, key: str, entry: ContactEntry
) -> Recorded:
    """Validate the form and edit the contact in place; ``FormErrors`` for anything to fix."""
    bits = check_contact(entry)
    if not key:
        if not entry.user and not entry.name:
            raise FormErrors({CONTACT_USER: "Pick someone in Slack, or type a name below."})
        if entry.user and entry.name:
            raise FormErrors(
                {CONTACT_NAME: "You picked a Slack user and typed a name: keep just one."}
            )
    now = runtime.clock()
    met_block = MET_USER if entry.met_user else MET_NAME
    who_block = CONTACT_USER if entry.user else CONTACT_NAME
    fields = {"cadence": CADENCE, "notes": NOTES, "met_through": met_block, "who": who_block}
    through: Wanted | None = None
    level = entry.level if entry.level != NOT_SET else None
    bond = entry.bond if entry.bond != NOT_SET else None
    cadence = entry.cadence if entry.cadence != DEFAULT_CADENCE else None
    try:
        who = key or choose_person(entry.user, entry.name, "who")
        if entry.met_user or entry.met_name:
            through = choose_person(entry.met_user, entry.met_name, "met_through")
        # "Not set" and "Default" clear a choice; a choice missing from the submission
        # (Slack sends a pre-selected one back) stays as it was.
        update = ContactUpdate(
            networks=bits,
            level=Level(level) if level else None,
            bond=Bond(bond) if bond else None,
            cadence_days=int(cadence) if cadence else None,
            clear_level=entry.level == NOT_SET,
            clear_bond=entry.bond == NOT_SET,
            clear_cadence=entry.cadence == DEFAULT_CADENCE,
            notes=entry.notes,
            # An emptied "met through" means they met this person on their own.
            clear_met_through=through is None,
        )
        return place(runtime.unit_of_work, client, member, who, update, now, met_through=through)
    except NotFound as error:
        raise FormErrors({NETWORKS: error.message}) from None
    except InvalidInput as error:
        raise FormErrors({fields.get(error.field, NOTES): error.message}) from None
    except SlackApiError as error:
        log.warning("users.info failed while saving a contact form: %s", error.response)
        raise FormErrors(
            {met_block: "I couldn't reach Slack to check this person. Please press Save again."}
        ) from None


def summary(info: ContactInfo) -> Reply:
    """The confirmation after a contact is saved: how they are placed now."""
    networks = ", ".join(network_label(n) for n in networks_of(info.networks)) or "no network yet"
    parts = [networks, level_label(info.level)]
    if info.bond:
        parts.append(info.bond)
    if info.cadence_days:
        parts.append(cadence_text(info.cadence_days).lower())
    if info.met_through:
        parts.append(f"met through {escape(info.met_through)}")
    text = f"Saved {ledger_views.name(info)}: {' · '.join(parts)}."
    return Reply(
        text=text.replace("*", ""), blocks=[section(text), context("Only you can see this.")]
    )


def register(app: App, runtime: Runtime) -> None:
    def open_form(
        member: MemberRef, client: WebClient, trigger_id: str, channel: str | None, key: str
    ) -> None:
        open_contact(runtime, client, member, trigger_id, key, channel)

    def save(
        member: MemberRef, client: WebClient, values: dict[str, Any], meta: dict[str, Any]
    ) -> tuple[Reply, bool]:
        key = meta.get("key")
        saved = save_contact(
            runtime,
            client,
            member,
            key if isinstance(key, str) else "",
            read_form(ContactEntry, values),
        )
        return summary(saved.contact), saved.home_changed

    app.action(ids.OPEN_CONTACT_MODAL)(on_open("contact form", open_form))
    app.view(ids.CONTACT_MODAL)(on_form(app, save))
