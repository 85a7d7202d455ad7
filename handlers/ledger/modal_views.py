"""Pure builders for Ally's modals, and readers for the state Slack sends back from them.

Every view is a ``slack_sdk.models.views.View`` so Slack's limits (title, blocks, metadata) are
checked by ``to_dict()`` before Slack sees it. Each input's ``action_id`` equals its ``block_id``,
so a field error (``{block_id: message}``) lands right under the field it is about.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.ledger.network import level_label, network_label
from bot.ledger.service import ContactInfo
from handlers.kit.blocks import clip, context, escape, section
from handlers.kit.forms import (
    modal,
    person_inputs,
    text_input,
)
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
        *person_inputs(
            WHO_USER,
            WHO_NAME,
            "Who? Someone in Slack…",
            initial_user=form.who_user,
            initial_name=form.who_name,
            hint="Fill in one of the two: a Slack user, or a name with the organisation in "
            "brackets.",
        ),
        InputBlock(
            block_id=DIRECTION,
            label="Which way?",
            element=RadioButtonsElement(
                action_id=DIRECTION, options=directions, initial_option=directions[0]
            ),
        ),
        text_input(
            WHAT,
            "What happened?",
            multiline=True,
            placeholder="e.g. reviewed my launch plan at short notice",
            initial=form.what[:WHAT_MAX],
            max_length=WHAT_MAX,
            hint="Needed for a favour; optional for an introduction.",
        ),
        *person_inputs(
            WITH_USER,
            WITH_NAME,
            "Introduced you to (introductions only)",
            "…or to someone outside Slack",
            placeholder="Sam Roe (Globex)",
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
    return modal(
        ids.LOG_FAVOUR_MODAL,
        "Record who helped you",
        blocks,
        submit="Save",
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
    blank = ContactInfo(0, "", "", None, None, 0, None, None, None, None, None, None, None)
    view = contact_view(blank, channel)
    who = person_inputs(
        CONTACT_USER,
        CONTACT_NAME,
        "Someone in Slack…",
        hint="Their name, and their organisation in brackets if you like.",
    )
    view.blocks = [*who, *view.blocks[1:]]
    view.title = PlainTextObject(text="Add a contact")
    view.submit = PlainTextObject(text="Add")
    return view


def contact_view(info: ContactInfo, channel: str | None = None) -> View:
    """The **contact** modal, pre-filled with how the member has placed this person."""
    # Slack offers no way to unpick a radio button or a select: "Not set" and "Default" do.
    levels = [Option(value=k.value, text=_plain(v)) for k, v in LEVELS.items()]
    levels.append(Option(value=NOT_SET, text=_plain("Not set")))
    bonds = [
        Option(value=k.value, text=_plain(label), description=_plain(hint))
        for k, (label, hint) in BONDS.items()
    ]
    bonds.append(Option(value=NOT_SET, text=_plain("Not set")))
    default_days = info.default_cadence
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
        text_input(
            NOTES,
            "Notes",
            multiline=True,
            initial=(info.notes or "")[:NOTES_MAX],
            max_length=NOTES_MAX,
        ),
        *person_inputs(
            MET_USER,
            MET_NAME,
            "Met through someone in Slack…",
            initial_user=info.met_through_user,
            initial_name=None if info.met_through_user else info.met_through,
            hint="Leave both empty if you did not meet through anyone.",
        ),
        context("Only you can see how you place people."),
    ]
    metadata = encode_metadata({"key": info.key, "channel": channel})
    return modal(
        ids.CONTACT_MODAL, "Edit contact", blocks, submit="Save", private_metadata=metadata
    )
