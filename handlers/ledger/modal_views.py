"""Pure builders for Ally's modals, and readers for the state Slack sends back from them.

Every view is a ``slack_sdk.models.views.View`` so Slack's limits (title, blocks, metadata) are
checked by ``to_dict()`` before Slack sees it. Each input's ``action_id`` equals its ``block_id``,
so a field error (``{block_id: message}``) lands right under the field it is about.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.ledger.network import cadence_days, level_label, network_label
from bot.ledger.service import ContactCard, ContactInfo
from handlers.kit.blocks import clip, context, escape, section
from storage.models import NOTES_MAX, WHAT_MAX, Bond, Level, Network

METADATA_MAX = 3000  # Slack's limit on private_metadata

# -- Record who helped you ------------------------------------------------------------------

WHO_USER = "who_user"
WHO_NAME = "who_name"
WHAT = "what"
DIRECTION = "direction"
WITH_USER = "with_user"
WITH_NAME = "with_name"
WHEN = "when"
NETWORKS = "networks"

HELPED_ME = "helped_me"
I_HELPED = "i_helped"
INTRODUCED_ME = "introduced_me"
DIRECTIONS = {
    HELPED_ME: "They helped me",
    I_HELPED: "I helped them",
    INTRODUCED_ME: "They introduced me to someone",
}
NETWORK_HINTS = {
    Network.STRATEGIC: "helps you see where to go next",
    Network.OPERATIONAL: "helps you get today's work done",
    Network.DEVELOPMENTAL: "helps you grow",
}
# A message's text shown as the starting note: enough to recognise it, short enough to edit.
PREFILL_TEXT_MAX = 300


@dataclass(frozen=True)
class LogForm:
    """What the Record modal opens with; ``tz``, ``link`` and ``channel`` travel with it."""

    today: date
    tz: str = "UTC"
    who_user: str | None = None
    who_name: str | None = None
    what: str = ""
    link: str | None = None
    channel: str | None = None


def encode_metadata(values: dict[str, str | None]) -> str:
    """Compact JSON for ``private_metadata``, leaving out empty values."""
    return json.dumps({k: v for k, v in values.items() if v}, separators=(",", ":"))


def decode_metadata(raw: str | None) -> dict[str, str]:
    """Read back ``private_metadata``; anything unreadable is treated as empty."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text)


def _network_options() -> list[Option]:
    return [
        Option(
            value=network_label(n),
            text=_plain(network_label(n).capitalize()),
            description=_plain(NETWORK_HINTS[n]),
        )
        for n in (Network.STRATEGIC, Network.OPERATIONAL, Network.DEVELOPMENTAL)
    ]


def _networks_element(bits: int = 0) -> CheckboxesElement:
    options = _network_options()
    chosen = [o for o in options if bits & Network[o.value.upper()]]
    return CheckboxesElement(action_id=NETWORKS, options=options, initial_options=chosen or None)


def log_favour_view(form: LogForm) -> View:
    """The **Record who helped you** modal."""
    directions = [Option(value=k, text=_plain(v)) for k, v in DIRECTIONS.items()]
    blocks: list[Block] = [
        InputBlock(
            block_id=WHO_USER,
            label="Who? Someone in Slack…",
            element=UserSelectElement(
                action_id=WHO_USER,
                placeholder="Pick a person",
                initial_user=form.who_user,
            ),
            optional=True,
        ),
        InputBlock(
            block_id=WHO_NAME,
            label="…or someone outside Slack",
            element=PlainTextInputElement(
                action_id=WHO_NAME,
                placeholder="Dana Lee (Acme)",
                initial_value=form.who_name or None,
                max_length=250,
            ),
            hint="Fill in one of the two: a Slack user, "
            "or a name with the organisation in brackets.",
            optional=True,
        ),
        InputBlock(
            block_id=DIRECTION,
            label="Which way?",
            element=RadioButtonsElement(
                action_id=DIRECTION, options=directions, initial_option=directions[0]
            ),
        ),
        InputBlock(
            block_id=WHAT,
            label="What happened?",
            element=PlainTextInputElement(
                action_id=WHAT,
                placeholder="e.g. reviewed my launch plan at short notice",
                initial_value=form.what[:WHAT_MAX] or None,
                multiline=True,
                max_length=WHAT_MAX,
            ),
            hint="Needed for a favour; optional for an introduction.",
            optional=True,
        ),
        InputBlock(
            block_id=WITH_USER,
            label="Introduced you to (introductions only)",
            element=UserSelectElement(action_id=WITH_USER, placeholder="Pick a person"),
            optional=True,
        ),
        InputBlock(
            block_id=WITH_NAME,
            label="…or to someone outside Slack",
            element=PlainTextInputElement(
                action_id=WITH_NAME, placeholder="Sam Roe (Globex)", max_length=250
            ),
            optional=True,
        ),
        InputBlock(
            block_id=WHEN,
            label="When?",
            element=DatePickerElement(action_id=WHEN, initial_date=form.today.isoformat()),
        ),
        InputBlock(
            block_id=NETWORKS,
            label="Networks (optional)",
            element=_networks_element(),
            hint="Which of your networks this person belongs to; "
            "for an introduction, the person you were introduced to.",
            optional=True,
        ),
    ]
    if form.link:
        blocks.append(context(f"From <{form.link}|this message>. Only you can see what you log."))
    else:
        blocks.append(context("Only you can see what you log."))
    metadata = encode_metadata({"tz": form.tz, "link": form.link, "channel": form.channel})
    return View(
        type="modal",
        callback_id=ids.LOG_FAVOUR_MODAL,
        title="Record who helped you",
        submit="Save",
        close="Cancel",
        blocks=blocks,
        private_metadata=metadata,
    )


# -- Contact ----------------------------------------------------------------------------------

LEVEL = "level"
BOND = "bond"
CADENCE = "cadence"
NOTES = "notes"
MET_USER = "met_user"
MET_NAME = "met_name"

CADENCES = {
    7: "Every week",
    14: "Every 2 weeks",
    21: "Every 3 weeks",
    30: "Every month",
    45: "Every 6 weeks",
    60: "Every 2 months",
    90: "Every 3 months",
    180: "Every 6 months",
    365: "Once a year",
}
NOT_SET = "none"  # the contact form's "Not set" level or bond
DEFAULT_CADENCE = "default"  # the contact form's "Default" cadence
LEVELS = {
    Level.ABOVE: "Above me",
    Level.PEER: "At my level",
    Level.BELOW: "Below me",
}
BONDS = {
    Bond.ALLIANCE: ("Alliance", "helps you deliver"),
    Bond.CONNECTION: ("Connection", "gets your work noticed, opens doors"),
}


def cadence_text(days: int) -> str:
    return CADENCES.get(days) or (
        f"Every {days // 7} weeks" if days % 7 == 0 else f"Every {days} days"
    )


def _cadence_options(current: int | None) -> list[Option]:
    days = sorted(set(CADENCES) | ({current} if current else set()))
    return [Option(value=str(d), text=_plain(cadence_text(d))) for d in days]


def _pick(options: list[Option], value: str | None) -> Option | None:
    return next((o for o in options if o.value == value), None)


CONTACT_USER = "contact_user"
CONTACT_NAME = "contact_name"


def new_contact_view(channel: str | None = None) -> View:
    """The **contact** modal for someone not in the network yet: pick a Slack user or type an
    outside name, then place them like any contact."""
    blank = ContactCard(
        ContactInfo(0, "", "", None, None, 0, None, None, None, None, None, None, None), None
    )
    view = contact_view(blank, channel)
    who: list[Block] = [
        InputBlock(
            block_id=CONTACT_USER,
            label="Someone in Slack…",
            element=UserSelectElement(action_id=CONTACT_USER, placeholder="Pick a person"),
            optional=True,
        ),
        InputBlock(
            block_id=CONTACT_NAME,
            label="…or someone outside Slack",
            element=PlainTextInputElement(
                action_id=CONTACT_NAME, placeholder="Dana Lee (Acme)", max_length=250
            ),
            hint="Their name, and their organisation in brackets if you like.",
            optional=True,
        ),
    ]
    view.blocks = [*who, *view.blocks[1:]]
    view.title = PlainTextObject(text="Add a contact")
    view.submit = PlainTextObject(text="Add")
    return view


def contact_view(card: ContactCard, channel: str | None = None) -> View:
    """The **contact** modal, pre-filled with how the member has placed this person."""
    info = card.contact
    # Slack offers no way to unpick a radio button or a select: "Not set" and "Default" do.
    levels = [Option(value=k.value, text=_plain(v)) for k, v in LEVELS.items()]
    levels.append(Option(value=NOT_SET, text=_plain("Not set")))
    bonds = [
        Option(value=k.value, text=_plain(label), description=_plain(hint))
        for k, (label, hint) in BONDS.items()
    ]
    bonds.append(Option(value=NOT_SET, text=_plain("Not set")))
    through = card.met_through
    default_days = cadence_days(None, info.bond)
    cadences = [
        Option(
            value=DEFAULT_CADENCE, text=_plain(f"Default ({cadence_text(default_days).lower()})")
        )
    ]
    cadences += _cadence_options(info.cadence_days)
    blocks: list[Block] = [
        section(f"*{escape(clip(info.label, 200))}* · {level_label(info.level)}"),
        InputBlock(
            block_id=NETWORKS,
            label="Networks",
            element=_networks_element(info.networks),
            optional=True,
        ),
        InputBlock(
            block_id=LEVEL,
            label="Level",
            element=RadioButtonsElement(
                action_id=LEVEL,
                options=levels,
                initial_option=_pick(levels, info.level or NOT_SET),
            ),
            optional=True,
        ),
        InputBlock(
            block_id=BOND,
            label="Alliance or connection?",
            element=RadioButtonsElement(
                action_id=BOND, options=bonds, initial_option=_pick(bonds, info.bond or NOT_SET)
            ),
            optional=True,
        ),
        InputBlock(
            block_id=CADENCE,
            label="Stay in touch",
            element=StaticSelectElement(
                action_id=CADENCE,
                placeholder=f"Default: {cadence_text(default_days).lower()}",
                options=cadences,
                initial_option=_pick(cadences, str(info.cadence_days or DEFAULT_CADENCE)),
            ),
            hint="Leave empty for the default: every month for an alliance, "
            "every 2 months for a connection.",
            optional=True,
        ),
        InputBlock(
            block_id=NOTES,
            label="Notes",
            element=PlainTextInputElement(
                action_id=NOTES,
                initial_value=info.notes[:NOTES_MAX] if info.notes else None,
                multiline=True,
                max_length=NOTES_MAX,
            ),
            optional=True,
        ),
        InputBlock(
            block_id=MET_USER,
            label="Met through someone in Slack…",
            element=UserSelectElement(
                action_id=MET_USER,
                placeholder="Pick a person",
                initial_user=through.slack_user_id if through else None,
            ),
            optional=True,
        ),
        InputBlock(
            block_id=MET_NAME,
            label="…or someone outside Slack",
            element=PlainTextInputElement(
                action_id=MET_NAME,
                placeholder="Dana Lee (Acme)",
                initial_value=through.label if through and not through.slack_user_id else None,
                max_length=250,
            ),
            hint="Leave both empty if you did not meet through anyone.",
            optional=True,
        ),
        context("Only you can see how you place people."),
    ]
    return View(
        type="modal",
        callback_id=ids.CONTACT_MODAL,
        title="Edit contact",
        submit="Save",
        close="Cancel",
        blocks=blocks,
        private_metadata=encode_metadata({"key": info.key, "channel": channel}),
    )


# -- reading a submitted view ----------------------------------------------------------------


def _element(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    block = values.get(block_id) or {}
    if not isinstance(block, dict) or not block:
        return {}
    element = next(iter(block.values()))
    return element if isinstance(element, dict) else {}


def text_value(values: dict[str, Any], block_id: str) -> str:
    """A plain_text_input's value, stripped; ``""`` when empty."""
    value = _element(values, block_id).get("value")
    return value.strip() if isinstance(value, str) else ""


def user_value(values: dict[str, Any], block_id: str) -> str | None:
    value = _element(values, block_id).get("selected_user")
    return value if isinstance(value, str) and value else None


def option_value(values: dict[str, Any], block_id: str) -> str | None:
    """The chosen option of a radio group or a static select."""
    option = _element(values, block_id).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


def options_values(values: dict[str, Any], block_id: str) -> list[str]:
    options = _element(values, block_id).get("selected_options") or []
    return [o["value"] for o in options if isinstance(o, dict) and isinstance(o.get("value"), str)]


def date_value(values: dict[str, Any], block_id: str) -> str | None:
    value = _element(values, block_id).get("selected_date")
    return value if isinstance(value, str) and value else None
