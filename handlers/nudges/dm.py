"""``/ally nudges`` (show or change the weekly DM) and the buttons in that DM.

A pressed button does its job, then rewrites the DM in place (``chat.update``): the block that
held the button becomes a line saying what was done, so the DM remains a record of the week.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot import ids
from bot.errors import AllyError, InvalidInput
from bot.ledger.people import MemberRef
from bot.nudges.planning import WEEKDAYS
from bot.nudges.settings import (
    NudgeSettings,
    Pressed,
    caught_up,
    kept,
    move_nudges,
    not_now,
    settings,
    snoozed,
    switch_nudges,
)
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, escape, section, updated_blocks
from handlers.kit.blocks import context as note
from handlers.kit.members import home_changed
from handlers.kit.mentions import mention
from handlers.kit.replies import pressed
from handlers.ledger.referrals import referral_offer, who_else

log = logging.getLogger(__name__)
USAGE = "/ally nudges [on|off|<weekday> [HH:MM]]"
TIME = re.compile(r"^(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>am|pm)?$")


def parse_weekday(word: str) -> int:
    """Monday = 0; accepts full names and unambiguous abbreviations (``mon``, ``thur``)."""
    word = word.casefold().rstrip(".")
    matches = [
        i for i, day in enumerate(WEEKDAYS) if len(word) >= 2 and day.casefold().startswith(word)
    ]
    if len(matches) != 1:
        raise InvalidInput("weekday", f"I don't know the day `{word[:20]}`: try `monday`.")
    return matches[0]


def parse_time(text: str) -> int:
    """Minutes after midnight from ``09:00``, ``9:30``, ``17:45``, ``9am`` or ``5:30pm``."""
    match = TIME.match(text.casefold().strip())
    if match is None:
        raise InvalidInput("time", f"I can't read the time `{text[:20]}`: use HH:MM, e.g. `09:00`.")
    hour, minute = int(match.group("h")), int(match.group("m") or 0)
    ampm = match.group("ampm")
    if ampm:
        if not 1 <= hour <= 12:
            raise InvalidInput("time", "With am/pm, the hour goes from 1 to 12.")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        raise InvalidInput("time", f"`{text[:20]}` is not a time of day: use 00:00 to 23:59.")
    return hour * 60 + minute


def describe(current: NudgeSettings) -> str:
    schedule = current.schedule
    if not schedule.enabled:
        return "Your weekly nudge is *off*. Turn it back on with `/ally nudges on`."
    text = f"Your weekly nudge is *on*: {schedule.label} ({schedule.tz}, from your Slack profile)."
    if schedule.paused_until:
        text += f" Paused until {schedule.paused_until:%A %d %B}."
    if current.on_its_way:
        text += " This week's is on its way."
    elif current.next_at is not None:
        text += f" Next one: {current.next_at.local:%A %d %B at %H:%M}."
    return text


def settings_reply(current: NudgeSettings, changed: str | None = None) -> Reply:
    text = describe(current)
    blocks: list[Block] = [
        section(f"{changed}\n{text}" if changed else text),
        note("Change it: `/ally nudges friday 16:30`, `/ally nudges off`, `/ally nudges on`."),
    ]
    return Reply(text=text, blocks=blocks)


def nudges_command(command: Command) -> Reply:
    words = command.args.split()
    runtime, client, member, now = command.runtime, command.client, command.member, command.now
    if not words:
        return settings_reply(settings(runtime, client, member, now))
    first = words[0].casefold()
    if first in ("on", "off") and len(words) == 1:
        changed = switch_nudges(runtime, client, member, first == "on", now)
    else:
        if len(words) > 2:
            raise InvalidInput("nudges", "Give a day and, if you like, a time: `friday 16:30`.")
        weekday = parse_weekday(words[0])
        minute = parse_time(words[1]) if len(words) == 2 else 9 * 60
        changed = move_nudges(runtime, client, member, weekday, minute, now)
    command.home_changed(changed.home_changed)
    return settings_reply(changed.settings, "Done.")


SUBCOMMANDS: dict[str, Subcommand] = {
    "nudges": Subcommand(nudges_command, USAGE, "show or change your weekly DM"),
}


# -- the DM's buttons ---------------------------------------------------------------------------


Work = Callable[[Runtime, WebClient, MemberRef, str, datetime], Pressed]
Say = Callable[[Pressed], str]
# A message to post in the DM after the pressed one is updated (e.g. the referral question).
FollowUp = Callable[[str, Pressed], Reply | None]


def _button(
    runtime: Runtime,
    work: Work,
    done: Say,
    follow_up: FollowUp | None = None,
    *,
    put_away: bool = False,
) -> Callable[..., None]:
    """A DM button's listener: ``work`` does the job, ``done`` says what was done, which
    replaces the pressed button's block; with ``put_away`` every other button block goes too."""

    def on_press(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        press = pressed(ack, body, context)
        if press is None:
            return
        member, value = press
        after = None
        try:
            result = work(runtime, client, member, value, runtime.clock())
        except AllyError as error:
            text = escape(error.message)
        else:
            home_changed(context, result.home_changed)
            text = done(result)
            after = follow_up(value, result) if follow_up else None
        action = (body.get("actions") or [{}])[0]
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        if channel is None or "ts" not in message:
            # Pressed outside the DM (the Home tab's Settings): answer in the DM instead.
            client.chat_postMessage(
                channel=member.user_id, text=text, blocks=[note(text).to_dict()]
            )
        else:
            blocks = updated_blocks(message.get("blocks") or [], action, text)
            if put_away:
                blocks = [block for block in blocks if block.get("type") != "actions"]
            client.chat_update(
                channel=channel,
                ts=message["ts"],
                text=message.get("text") or text,
                blocks=blocks,
            )
        if after is not None:
            client.chat_postMessage(channel=channel or member.user_id, **after.as_kwargs())

    return on_press


def _person(result: Pressed) -> str:
    return mention(result.person) if result.person is not None else "them"


def _caught_up(result: Pressed) -> str:
    return f":white_check_mark: Logged a catch-up with {_person(result)} today."


def _ask_referrals(key: str, result: Pressed) -> Reply:
    """Seed 002's snowball after a catch-up: "who else should I talk to about <focus>?"."""
    person = result.person
    offer = referral_offer(key, person.label if person else "them", result.focus)
    return Reply(text=who_else(result.focus), blocks=offer)


def _snoozed(result: Pressed) -> str:
    if result.person is None:
        return f":zzz: Nudges paused until {result.until:%A %d %B}. `/ally nudges on` resumes them."
    return (
        f":zzz: Snoozed {_person(result)} until {result.until:%A %d %B}: "
        "no reminders about them until then."
    )


def _kept(result: Pressed) -> str:
    return f":pushpin: {_person(result)} stays your person next week too."


def _not_now(result: Pressed) -> str:
    upcoming = result.settings.next_at if result.settings else None
    when = f" Next one: {upcoming.local:%A %d %B at %H:%M}." if upcoming is not None else ""
    return f":ok_hand: Done for this week: I've put this DM's buttons away.{when}"


def register(app: App, runtime: Runtime) -> None:
    def on_runtime(
        work: Callable[[Runtime, MemberRef, str, datetime], Pressed],
    ) -> Work:
        return lambda runtime, _client, member, key, now: work(runtime, member, key, now)

    app.action(ids.NUDGE_LOG_CATCH_UP)(
        _button(runtime, on_runtime(caught_up), _caught_up, _ask_referrals)
    )
    app.action(ids.NUDGE_SNOOZE)(_button(runtime, on_runtime(snoozed), _snoozed))
    app.action(ids.NUDGE_NOT_NOW)(
        _button(
            runtime,
            lambda runtime, client, member, _key, now: not_now(runtime, client, member, now),
            _not_now,
            put_away=True,
        )
    )
    app.action(ids.NUDGE_KEEP_PERSON)(_button(runtime, on_runtime(kept), _kept))
