"""Modals: building one, and reading what a member submitted in it.

Slack sends a submitted modal's inputs in ``view["state"]["values"]``, keyed by block id, then
by action id: ``{block_id: {action_id: {"type": ..., "value" | "selected_option" | ...}}}``
(docs.slack.dev/reference/interaction-payloads/view-interactions-payload). Every reader takes
those values, a block id and, for a block with more than one element, the action id (without
it, the block's first element), and never raises on a missing or malformed field: an empty
field reads as ``""``, ``None`` or ``[]``.

    values = values_of(view)
    text_value(values, "what")             # plain_text_input: stripped text, "" when empty
    option_value(values, "weekday")        # static_select or radio_buttons: the chosen value
    options_values(values, "enabled")      # checkboxes or multi_static_select: chosen values
    user_value(values, "who")              # users_select: a user id
    users_value(values, "people")          # multi_users_select: user ids
    date_value(values, "when")             # datepicker: "YYYY-MM-DD"
    picked_day(values, "when", "Pick a day.")  # datepicker as a date, or InvalidInput
    time_value(values, "time")             # timepicker: "HH:MM"
    metadata(view)                         # private_metadata written as a JSON object

A form's submission can be declared as a dataclass whose fields say where they are read from,
and read in one call::

    @dataclass(frozen=True)
    class Entry:
        who: str | None = answer(user_value, "who")
        what: str = answer(text_value, "what")

    read_form(Entry, values)

Inputs are built the same way: each input's ``action_id`` equals its ``block_id``, so a field
error (``{block_id: message}``) lands right under the field it is about::

    text_input("what", "What happened?", multiline=True, max_length=WHAT_MAX)
    user_input("who", "Who? Someone in Slack…")
    users_input("people", "People in Slack", max_selected=5)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple, TypeVar

from slack_bolt import BoltContext
from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    PlainTextInputElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.errors import InvalidInput
from bot.ledger.people import MemberRef
from handlers.kit.members import member_of

F = TypeVar("F")


def modal(
    callback_id: str,
    title: str,
    blocks: list[Block],
    *,
    submit: str | None = None,
    close: str = "Cancel",
    private_metadata: dict[str, Any] | str | None = None,
) -> View:
    """A modal; a dict of metadata travels as JSON (``metadata`` reads it back)."""
    if isinstance(private_metadata, dict):
        private_metadata = json.dumps(private_metadata)
    return View(
        callback_id=callback_id,
        title=title,
        submit=submit,
        type="modal",
        close=close,
        blocks=blocks,
        private_metadata=private_metadata,
    )


NAME_INPUT_MAX = 250  # an outside name as typed, organisation included


def text_input(
    block_id: str,
    label: str,
    *,
    optional: bool = True,
    multiline: bool = False,
    placeholder: str | None = None,
    initial: str | None = None,
    max_length: int | None = None,
    hint: str | None = None,
) -> InputBlock:
    """A plain-text input (optional unless said otherwise); an empty ``initial`` is left out."""
    element = PlainTextInputElement(
        action_id=block_id,
        placeholder=placeholder,
        initial_value=initial or None,
        multiline=multiline or None,
        max_length=max_length,
    )
    return InputBlock(block_id=block_id, label=label, element=element, hint=hint, optional=optional)


def user_input(
    block_id: str,
    label: str,
    *,
    placeholder: str = "Pick a person",
    initial: str | None = None,
    hint: str | None = None,
) -> InputBlock:
    """An optional pick of one Slack user."""
    element = UserSelectElement(action_id=block_id, placeholder=placeholder, initial_user=initial)
    return InputBlock(block_id=block_id, label=label, element=element, hint=hint, optional=True)


def person_inputs(
    user_id: str,
    name_id: str,
    user_label: str,
    name_label: str = "…or someone outside Slack",
    *,
    initial_user: str | None = None,
    initial_name: str | None = None,
    placeholder: str = "Dana Lee (Acme)",
    hint: str | None = None,
) -> list[Block]:
    """Someone in Slack, or else an outside name (with the organisation in brackets)."""
    return [
        user_input(user_id, user_label, initial=initial_user),
        text_input(
            name_id,
            name_label,
            placeholder=placeholder,
            initial=initial_name,
            max_length=NAME_INPUT_MAX,
            hint=hint,
        ),
    ]


def users_input(block_id: str, label: str, *, placeholder: str, max_selected: int) -> InputBlock:
    """An optional pick of up to ``max_selected`` Slack users."""
    element = UserMultiSelectElement(
        action_id=block_id, placeholder=placeholder, max_selected_items=max_selected
    )
    return InputBlock(block_id=block_id, label=label, element=element, optional=True)


def values_of(view: dict[str, Any] | None) -> dict[str, Any]:
    """A submitted view's input values (``view["state"]["values"]``); ``{}`` if none."""
    values = ((view or {}).get("state") or {}).get("values")
    return values if isinstance(values, dict) else {}


class FormErrors(Exception):
    """Field errors for Slack: ``{block_id: message}``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class Submission(NamedTuple):
    """A submitted form: who submitted it, its input values and its ``private_metadata`` text."""

    member: MemberRef
    values: dict[str, Any]
    private_metadata: str


def submission(body: dict[str, Any], context: BoltContext) -> Submission:
    """Read a ``view_submission``; Slack always sends the user who submitted it."""
    member = member_of(context)
    if member is None:
        raise RuntimeError("a view submission without a user")
    view = body.get("view") or {}
    return Submission(member, values_of(view), view.get("private_metadata") or "")


def metadata(view: dict[str, Any] | None) -> dict[str, Any]:
    """A view's ``private_metadata`` written by ``modal`` from a dict; ``{}`` for anything else."""
    try:
        found = json.loads((view or {}).get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _element(values: dict[str, Any], block_id: str, action_id: str | None) -> dict[str, Any]:
    block = values.get(block_id)
    if not isinstance(block, dict) or not block:
        return {}
    element = block.get(action_id) if action_id else next(iter(block.values()))
    return element if isinstance(element, dict) else {}


def _text(found: Any) -> str | None:
    return found if isinstance(found, str) and found else None


def text_value(values: dict[str, Any], block_id: str, action_id: str | None = None) -> str:
    """A plain_text_input's value, stripped; ``""`` when empty."""
    return (_text(_element(values, block_id, action_id).get("value")) or "").strip()


def option_value(values: dict[str, Any], block_id: str, action_id: str | None = None) -> str | None:
    """The chosen option's value of a static select or a radio group."""
    option = _element(values, block_id, action_id).get("selected_option")
    return _text(option.get("value")) if isinstance(option, dict) else None


def options_values(
    values: dict[str, Any], block_id: str, action_id: str | None = None
) -> list[str]:
    """The chosen options' values of checkboxes or a multi-select."""
    options = _element(values, block_id, action_id).get("selected_options") or []
    return [o["value"] for o in options if isinstance(o, dict) and _text(o.get("value"))]


def user_value(values: dict[str, Any], block_id: str, action_id: str | None = None) -> str | None:
    """The user id chosen in a users select."""
    return _text(_element(values, block_id, action_id).get("selected_user"))


def users_value(values: dict[str, Any], block_id: str, action_id: str | None = None) -> list[str]:
    """The user ids chosen in a multi users select."""
    users = _element(values, block_id, action_id).get("selected_users") or []
    return [user for user in users if _text(user)]


def date_value(values: dict[str, Any], block_id: str, action_id: str | None = None) -> str | None:
    """A datepicker's day as Slack sends it (``YYYY-MM-DD``)."""
    return _text(_element(values, block_id, action_id).get("selected_date"))


def picked_day(
    values: dict[str, Any], block_id: str, message: str, action_id: str | None = None
) -> date:
    """A datepicker's day; ``InvalidInput`` for the block, with ``message``, when there is none."""
    try:
        return date.fromisoformat(date_value(values, block_id, action_id) or "")
    except ValueError:
        raise InvalidInput(block_id, message) from None


def time_value(values: dict[str, Any], block_id: str, action_id: str | None = None) -> str | None:
    """A timepicker's time as Slack sends it (``HH:MM``)."""
    return _text(_element(values, block_id, action_id).get("selected_time"))


def answer(read: Callable[[dict[str, Any], str], Any], block_id: str) -> Any:
    """A dataclass field of a submitted form: what ``read`` finds in the block ``block_id``."""
    return dataclasses.field(metadata={"read": read, "block_id": block_id})


def read_form(form: type[F], values: dict[str, Any]) -> F:
    """The dataclass ``form`` (its fields declared with ``answer``) read from ``values``."""
    found = {
        one.name: one.metadata["read"](values, one.metadata["block_id"])
        for one in dataclasses.fields(form)  # type: ignore[arg-type]
    }
    return form(**found)
