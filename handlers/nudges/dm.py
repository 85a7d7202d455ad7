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
from sqlalchemy.orm import Session

from bot import ids
from bot.errors import AllyError, InvalidInput
from bot.ledger.people import MemberRef
from bot.ledger.service import contact_card
from bot.nudges.planning import WEEKDAYS
from bot.nudges.settings import (
    NudgeSettings,
    keep_person,
    log_catch_up,
    pause,
    set_enabled,
    set_slot,
    settings,
    snooze_contact,
)
from bot.platform.runtime import Runtime
from bot.questions.service import get_focus
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, escape, section, updated_blocks
from handlers.kit.blocks import context as note
from handlers.kit.members import member_of
from handlers.ledger.referrals import referral_offer, who_else
from storage.db import transaction

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
    with transaction(command.runtime.sessions) as session:
        if not words:
            return settings_reply(settings(session, command.client, command.member, command.now))
        first = words[0].casefold()
        if first in ("on", "off") and len(words) == 1:
            current = set_enabled(
                session, command.client, command.member, first == "on", command.now
            )
            return settings_reply(current, "Done.")
        if len(words) > 2:
            raise InvalidInput("nudges", "Give a day and, if you like, a time: `friday 16:30`.")
        weekday = parse_weekday(words[0])
        minute = parse_time(words[1]) if len(words) == 2 else 9 * 60
        current = set_slot(session, command.client, command.member, weekday, minute, command.now)
        return settings_reply(current, "Done.")


SUBCOMMANDS: dict[str, Subcommand] = {
    "nudges": Subcommand(nudges_command, USAGE, "show or change your weekly DM"),
}


# -- the DM's buttons ---------------------------------------------------------------------------


Work = Callable[[Session, MemberRef, str, datetime, WebClient], str]
# A message to post in the DM after the pressed one is updated (e.g. the referral question).
FollowUp = Callable[[Session, MemberRef, str, datetime], Reply | None]


def _button(
    runtime: Runtime, work: Work, follow_up: FollowUp | None = None, *, put_away: bool = False
) -> Callable[..., None]:
    """A DM button's listener: ``work`` does the job and says what was done, which replaces
    the pressed button's block; with ``put_away`` every other button block goes too."""

    def on_press(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        ack()
        action = (body.get("actions") or [{}])[0]
        member = member_of(context)
        if member is None:
            return
        now = runtime.clock()
        value = action.get("value") or ""
        after = None
        try:
            with transaction(runtime.sessions) as session:
                done = work(session, member, value, now, client)
                after = follow_up(session, member, value, now) if follow_up else None
        except AllyError as error:
            done = escape(error.message)
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        if channel is None or "ts" not in message:
            # Pressed outside the DM (the Home tab's Settings): answer in the DM instead.
            client.chat_postMessage(
                channel=member.user_id, text=done, blocks=[note(done).to_dict()]
            )
        else:
            blocks = updated_blocks(message.get("blocks") or [], action, done)
            if put_away:
                blocks = [block for block in blocks if block.get("type") != "actions"]
            client.chat_update(
                channel=channel,
                ts=message["ts"],
                text=message.get("text") or done,
                blocks=blocks,
            )
        if after is not None:
            client.chat_postMessage(channel=channel or member.user_id, **after.as_kwargs())

    return on_press


def _catch_up(
    session: Session, member: MemberRef, key: str, now: datetime, client: WebClient
) -> str:
    label = log_catch_up(session, member, key, now)
    return f":white_check_mark: Logged a catch-up with *{escape(label)}* today."


def _ask_referrals(session: Session, member: MemberRef, key: str, now: datetime) -> Reply:
    """Seed 002's snowball after a catch-up: "who else should I talk to about <focus>?"."""
    card = contact_card(session, member, key, now)
    offer = referral_offer(key, card.contact.label, get_focus(session, member))
    return Reply(text=who_else(get_focus(session, member)), blocks=offer)


def _snooze(session: Session, member: MemberRef, key: str, now: datetime, client: WebClient) -> str:
    if not key:
        until = pause(session, member, now)
        return f":zzz: Nudges paused until {until:%A %d %B}. `/ally nudges on` resumes them."
    snoozed = snooze_contact(session, member, key, now)
    return (
        f":zzz: Snoozed *{escape(snoozed.label)}* until {snoozed.until:%A %d %B}: "
        "no reminders about them until then."
    )


def _keep(session: Session, member: MemberRef, key: str, now: datetime, client: WebClient) -> str:
    label = keep_person(session, member, key, now)
    return f":pushpin: *{escape(label)}* stays your person next week too."


def _not_now(
    session: Session, member: MemberRef, key: str, now: datetime, client: WebClient
) -> str:
    current = settings(session, client, member, now)
    upcoming = current.next_at
    when = f" Next one: {upcoming.local:%A %d %B at %H:%M}." if upcoming is not None else ""
    return f":ok_hand: Done for this week: I've put this DM's buttons away.{when}"


def register(app: App, runtime: Runtime) -> None:
    app.action(ids.NUDGE_LOG_CATCH_UP)(_button(runtime, _catch_up, _ask_referrals))
    app.action(ids.NUDGE_SNOOZE)(_button(runtime, _snooze))
    app.action(ids.NUDGE_NOT_NOW)(_button(runtime, _not_now, put_away=True))
    app.action(ids.NUDGE_KEEP_PERSON)(_button(runtime, _keep))
