"""The Settings form: the weekly DM's day and time, on or off, a pause until a date, the
reaction emoji and the default cadence for alliances and for connections. Opened by the
Settings button (Home and the weekly DM), submitted as ``settings_modal``."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, InputBlock, Option, PlainTextObject
from slack_sdk.models.blocks.block_elements import (
    CheckboxesElement,
    DatePickerElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.errors import InvalidInput
from bot.ledger.people import MemberRef
from bot.nudges.planning import WEEKDAYS
from bot.nudges.settings import (
    CADENCE_WEEKS,
    NudgeSettings,
    SettingsForm,
    follow_zone,
    save_settings,
    settings_on_record,
)
from bot.platform.runtime import Runtime
from handlers.kit.blocks import Reply, context, section
from handlers.kit.forms import (
    FormErrors,
    date_value,
    modal,
    option_value,
    options_values,
    text_input,
    text_value,
    time_value,
)
from handlers.kit.replies import notify, on_form, on_press
from handlers.nudges.dm import describe, parse_time, settings_reply
from storage.models import Bond

log = logging.getLogger(__name__)

ENABLED = "enabled"
WEEKDAY = "weekday"
TIME = "time"
PAUSE = "pause"
EMOJI = "emoji"
ALLIANCE = "alliance"
CONNECTION = "connection"
ON = "on"
ALLY_DEFAULT = "default"  # the cadence choice that leaves Ally's default for the bond
FIELDS = (WEEKDAY, TIME, PAUSE, EMOJI, ALLIANCE, CONNECTION)


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=False)


def _weeks(days: int) -> str:
    if days % 7:
        return f"every {days} days"
    return "every week" if days == 7 else f"every {days // 7} weeks"


def _cadence_input(block_id: str, label: str, ally_days: int, current: int | None) -> InputBlock:
    ally = Option(value=ALLY_DEFAULT, text=_plain(f"Ally's default ({_weeks(ally_days)})"))
    choices = [ally] + [
        Option(value=str(weeks * 7), text=_plain(_weeks(weeks * 7).capitalize()))
        for weeks in CADENCE_WEEKS
    ]
    chosen = next((o for o in choices if o.value == str(current)), ally)
    return InputBlock(
        block_id=block_id,
        label=label,
        element=StaticSelectElement(action_id=block_id, options=choices, initial_option=chosen),
        hint="For everyone of this kind without a cadence of their own.",
    )


def settings_view(current: NudgeSettings, channel: str | None = None) -> View:
    emoji = current.emoji
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
        text_input(
            EMOJI,
            "Reaction that logs a favour",
            optional=False,
            initial=f":{emoji}:",
            max_length=80,
            hint="React with it to someone's message to log that they helped you.",
        ),
        _cadence_input(
            ALLIANCE,
            "Stay in touch with alliances",
            current.ally_days(Bond.ALLIANCE),
            current.alliance_days,
        ),
        _cadence_input(
            CONNECTION,
            "Stay in touch with connections",
            current.ally_days(Bond.CONNECTION),
            current.connection_days,
        ),
        context("Only you can see your settings."),
    ]
    return modal(
        ids.SETTINGS_MODAL, "Settings", blocks, submit="Save", private_metadata={"channel": channel}
    )


def read_form(values: dict[str, Any]) -> SettingsForm:
    """The submitted form as values; ``InvalidInput`` names the field to fix."""
    weekday = option_value(values, WEEKDAY) or ""
    if not weekday.isdecimal() or not 0 <= int(weekday) <= 6:
        raise InvalidInput(WEEKDAY, "Pick a day from the list.")
    raw_time = time_value(values, TIME)
    if not raw_time:
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
        alliance_days=_cadence(values, ALLIANCE),
        connection_days=_cadence(values, CONNECTION),
    )


def _cadence(values: dict[str, Any], block_id: str) -> int | None:
    """A chosen default cadence in days (None: Ally's default, or nothing chosen)."""
    value = option_value(values, block_id)
    if value in (None, ALLY_DEFAULT):
        return None
    if not value.isdecimal():
        raise InvalidInput(block_id, "Pick a cadence from the list.")
    return int(value)


def register(app: App, runtime: Runtime) -> None:
    def open_settings(
        member: MemberRef, value: str, body: dict, context: BoltContext, client: WebClient, *_: Any
    ) -> None:
        # The form opens first, with the settings on record: the trigger lives 3 seconds, and a
        # rate-limited users.info would wait out its Retry-After. The time zone is followed
        # after, and the open form shows it if it changed.
        channel = (body.get("channel") or {}).get("id")
        now = runtime.clock()
        on_record = settings_on_record(runtime, member, now)
        current = on_record.settings
        try:
            opened = client.views_open(
                trigger_id=body["trigger_id"], view=settings_view(current, channel)
            )["view"]
        except SlackApiError as error:
            log.warning("views.open failed for the settings form: %s", error.response)
            reply = settings_reply(current, "Slack didn't open the Settings form in time.")
            notify(client, member.user_id, channel, reply)
            return
        if not on_record.zone_stale:
            return
        followed = follow_zone(runtime, client, member, now)
        if followed is None or followed == current:
            return
        try:
            client.views_update(
                view_id=opened["id"],
                hash=opened.get("hash"),
                view=settings_view(followed, channel),
            )
        except SlackApiError as error:
            # The member closed or changed the form meanwhile: it keeps what it showed.
            log.info("views.update of the settings form failed: %s", error.response)

    def save(
        member: MemberRef, client: WebClient, values: dict[str, Any], _meta: dict[str, Any]
    ) -> tuple[Reply, bool]:
        try:
            saved = save_settings(runtime, client, member, read_form(values), runtime.clock())
        except InvalidInput as error:
            block = error.field if error.field in FIELDS else EMOJI
            raise FormErrors({block: error.message}) from None
        return settings_reply(saved.settings, "Saved."), saved.home_changed

    app.action(ids.NUDGE_SETTINGS)(on_press(open_settings))
    app.view(ids.SETTINGS_MODAL)(on_form(app, save))
