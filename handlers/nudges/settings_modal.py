"""The Settings form: the weekly DM's day and time, on or off, a pause until a date, and the
reaction emoji. Opened by the Settings button (Home and the weekly DM), submitted as
``settings_modal``."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.errors import InvalidInput
from bot.ledger.people import MemberRef
from bot.ledger.reactions import reaction_emoji
from bot.nudges.planning import WEEKDAYS
from bot.nudges.settings import NudgeSettings, SettingsForm, save_settings, settings
from bot.platform.runtime import Runtime
from handlers.kit.blocks import context, section
from handlers.kit.members import member_of
from handlers.kit.replies import confirm_after_ack, notify
from handlers.ledger.modal_views import date_value, option_value, options_values, text_value
from handlers.nudges.dm import describe, parse_time, settings_reply
from storage.db import transaction

log = logging.getLogger(__name__)

ENABLED = "enabled"
WEEKDAY = "weekday"
TIME = "time"
PAUSE = "pause"
EMOJI = "emoji"
ON = "on"


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=False)


def settings_view(current: NudgeSettings, emoji: str, channel: str | None = None) -> View:
    schedule = current.schedule
    send = Option(value=ON, text=_plain("Send me the weekly DM"))
    days = [Option(value=str(i), text=_plain(day)) for i, day in enumerate(WEEKDAYS)]
    blocks: list[Block] = [
        section(describe(current)),
        InputBlock(
            block_id=ENABLED,
            label="Weekly DM",
            element=CheckboxesElement(
                action_id=ENABLED,
                options=[send],
                initial_options=[send] if schedule.enabled else None,
            ),
            optional=True,
        ),
        InputBlock(
            block_id=WEEKDAY,
            label="Day",
            element=StaticSelectElement(
                action_id=WEEKDAY, options=days, initial_option=days[schedule.weekday]
            ),
        ),
        InputBlock(
            block_id=TIME,
            label="Time",
            element=TimePickerElement(
                action_id=TIME,
                initial_time=f"{schedule.minute // 60:02d}:{schedule.minute % 60:02d}",
            ),
            hint=f"In your Slack time zone ({schedule.tz}).",
        ),
        InputBlock(
            block_id=PAUSE,
            label="Pause until",
            element=DatePickerElement(
                action_id=PAUSE,
                initial_date=schedule.paused_until.isoformat() if schedule.paused_until else None,
            ),
            hint="No weekly DM before this day. Leave empty to not pause.",
            optional=True,
        ),
        InputBlock(
            block_id=EMOJI,
            label="Reaction that logs a favour",
            element=PlainTextInputElement(
                action_id=EMOJI, initial_value=f":{emoji}:", max_length=80
            ),
            hint="React with it to someone's message to log that they helped you.",
        ),
        context("Only you can see your settings."),
    ]
    return View(
        type="modal",
        callback_id=ids.SETTINGS_MODAL,
        title="Settings",
        submit="Save",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"channel": channel}),
    )


def read_form(values: dict[str, Any]) -> SettingsForm:
    """The submitted form as values; ``InvalidInput`` names the field to fix."""
    weekday = option_value(values, WEEKDAY) or ""
    if not weekday.isdecimal() or not 0 <= int(weekday) <= 6:
        raise InvalidInput(WEEKDAY, "Pick a day from the list.")
    raw_time = (values.get(TIME, {}).get(TIME) or {}).get("selected_time")
    if not isinstance(raw_time, str) or not raw_time:
        raise InvalidInput(TIME, "Pick a time.")
    minute = parse_time(raw_time)
    pause = date_value(values, PAUSE)
    try:
        until = date.fromisoformat(pause) if pause else None
    except ValueError:
        raise InvalidInput(PAUSE, "Pick a day.") from None
    return SettingsForm(
        enabled=ON in options_values(values, ENABLED),
        weekday=int(weekday),
        minute=minute,
        paused_until=until,
        emoji=text_value(values, EMOJI),
    )


def open_settings(
    runtime: Runtime, client: WebClient, member: MemberRef, trigger_id: str, channel: str | None
) -> None:
    now = runtime.clock()
    with transaction(runtime.sessions) as session:
        current = settings(session, client, member, now)
        emoji = reaction_emoji(session, member)
    client.views_open(trigger_id=trigger_id, view=settings_view(current, emoji, channel))


def register(app: App, runtime: Runtime) -> None:
    def on_open(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        member = member_of(context)
        if member is None:
            return
        channel = (body.get("channel") or {}).get("id")
        try:
            open_settings(runtime, client, member, body["trigger_id"], channel)
        except SlackApiError as error:
            log.warning("views.open failed for the settings form: %s", error.response)
            with transaction(runtime.sessions) as session:
                current = settings(session, client, member, runtime.clock())
            reply = settings_reply(current, "Slack didn't open the Settings form in time.")
            notify(client, member.user_id, channel, reply)

    def on_submit(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        member = member_of(context)
        if member is None:
            ack()
            return
        view = body.get("view") or {}
        values = (view.get("state") or {}).get("values") or {}
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        channel = meta.get("channel") if isinstance(meta, dict) else None
        try:
            form = read_form(values)
            with transaction(runtime.sessions) as session:
                current = save_settings(session, client, member, form, runtime.clock())
        except InvalidInput as error:
            block = error.field if error.field in (WEEKDAY, TIME, PAUSE, EMOJI) else EMOJI
            ack(response_action="errors", errors={block: error.message})
            return
        ack()
        reply = settings_reply(current, "Saved.")
        confirm_after_ack(app, client, member.user_id, channel if channel else None, reply)

    app.action(ids.NUDGE_SETTINGS)(on_open)
    app.view(ids.SETTINGS_MODAL)(on_submit)
