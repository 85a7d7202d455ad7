"""What members change about their nudges, and what the DM's buttons do.

Services take a session, the member and ``now``; the caller's transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import InvalidInput, NotFound
from bot.ledger import directory
from bot.ledger.people import MemberRef, OutsidePerson, Person, SlackPerson
from bot.ledger.reactions import set_reaction_emoji
from bot.ledger.service import open_member, record_favour
from bot.nudges.planning import Schedule, Slot, current_slot, next_slot, schedule_of, zone
from storage.models import InteractionKind, Member, Nudge, NudgeStatus

SNOOZE_DAYS = 14
TZ_FRESH_FOR = timedelta(days=1)


@dataclass(frozen=True)
class NudgeSettings:
    schedule: Schedule
    next_at: Slot | None
    # This week's slot has passed and its nudge is not sent yet: it goes out on the next run.
    on_its_way: bool = False


def refresh_tz(session: Session, client: WebClient, member: Member, now: datetime) -> None:
    """Follow the member's Slack time zone (``users.info``), at most once a day."""
    if member.tz_checked_at is not None and now - member.tz_checked_at < TZ_FRESH_FOR:
        return
    ref = MemberRef(member.team_id, member.user_id, member.enterprise_id)
    try:
        row = directory.lookup(session, client, ref, member.user_id, now, refresh=True)
    except SlackClientError:
        return  # keep the zone on record; the next look will try again
    member.tz = row.tz or member.tz
    member.tz_checked_at = now


def _settings(session: Session, member: Member, now: datetime) -> NudgeSettings:
    schedule = schedule_of(member)
    week = current_slot(schedule, now).week
    sent = session.scalars(
        select(Nudge.id).where(
            Nudge.member_id == member.id,
            Nudge.week == week,
            Nudge.status == NudgeStatus.SENT.value,
        )
    ).first()
    upcoming = next_slot(schedule, now, sent_this_week=sent is not None)
    return NudgeSettings(schedule, upcoming, upcoming is not None and upcoming.due_at <= now)


def settings(session: Session, client: WebClient, ref: MemberRef, now: datetime) -> NudgeSettings:
    member = open_member(session, ref, now).member
    refresh_tz(session, client, member, now)
    return _settings(session, member, now)


def set_enabled(
    session: Session, client: WebClient, ref: MemberRef, enabled: bool, now: datetime
) -> NudgeSettings:
    member = open_member(session, ref, now).member
    refresh_tz(session, client, member, now)
    member.nudges_enabled = enabled
    if enabled:
        member.nudges_paused_until = None
    session.flush()
    return _settings(session, member, now)


def set_slot(
    session: Session, client: WebClient, ref: MemberRef, weekday: int, minute: int, now: datetime
) -> NudgeSettings:
    """Move the weekly slot; this week's nudge, if already sent, is not sent again."""
    if not 0 <= weekday <= 6:
        raise InvalidInput("weekday", "Pick a day from Monday to Sunday.")
    if not 0 <= minute < 24 * 60:
        raise InvalidInput("time", "Pick a time from 00:00 to 23:59.")
    member = open_member(session, ref, now).member
    refresh_tz(session, client, member, now)
    member.nudge_weekday = weekday
    member.nudge_minute = minute
    member.nudges_enabled = True
    session.flush()
    return _settings(session, member, now)


def _local_today(member: Member, now: datetime) -> date:
    return now.astimezone(zone(member.tz)).date()


def pause(session: Session, ref: MemberRef, now: datetime, days: int = SNOOZE_DAYS) -> date:
    """No nudges for ``days``; returns the day they resume."""
    member = open_member(session, ref, now).member
    member.nudges_paused_until = _local_today(member, now) + timedelta(days=days)
    session.flush()
    return member.nudges_paused_until


@dataclass(frozen=True)
class Snoozed:
    label: str
    until: date


def _person(key: str, name: str, slack_user_id: str | None, organisation: str | None) -> Person:
    if slack_user_id:
        return SlackPerson(user_id=slack_user_id, name=name)
    return OutsidePerson(name=name, organisation=organisation)


def snooze_contact(
    session: Session, ref: MemberRef, key: str, now: datetime, days: int = SNOOZE_DAYS
) -> Snoozed:
    """Leave one contact out of stay-in-touch reminders for ``days``."""
    data = open_member(session, ref, now)
    contact = data.contact_by_key(key)
    if contact is None:
        raise NotFound("That person is no longer in your network.")
    contact.snoozed_until = _local_today(data.member, now) + timedelta(days=days)
    session.flush()
    person = _person(key, contact.name, contact.slack_user_id, contact.organisation)
    return Snoozed(person.label, contact.snoozed_until)


def wake_contact(session: Session, ref: MemberRef, key: str, now: datetime) -> str:
    """End a contact's snooze: reminders about them are back; returns their label."""
    data = open_member(session, ref, now)
    contact = data.contact_by_key(key)
    if contact is None:
        raise NotFound("That person is no longer in your network.")
    contact.snoozed_until = None
    session.flush()
    return _person(key, contact.name, contact.slack_user_id, contact.organisation).label


def log_catch_up(session: Session, ref: MemberRef, key: str, now: datetime) -> str:
    """Record a catch-up with a contact today; returns their label."""
    data = open_member(session, ref, now)
    contact = data.contact_by_key(key)
    if contact is None:
        raise NotFound("That person is no longer in your network.")
    person = _person(key, contact.name, contact.slack_user_id, contact.organisation)
    record_favour(session, ref, person, InteractionKind.CATCH_UP, "", now)
    return person.label


def keep_person(session: Session, ref: MemberRef, key: str, now: datetime) -> str:
    """Keep the latest DM's person for the week after (the Keep button); returns their label.

    The wish is recorded on that week's nudge, which next week's planning reads as last week's.
    """
    data = open_member(session, ref, now)
    contact = data.contact_by_key(key)
    if contact is None:
        raise NotFound("That person is no longer in your network.")
    label = _person(key, contact.name, contact.slack_user_id, contact.organisation).label
    latest = session.scalars(
        select(Nudge)
        .where(Nudge.member_id == data.member.id, Nudge.status == NudgeStatus.SENT.value)
        .order_by(Nudge.week.desc())
        .limit(1)
    ).first()
    if latest is None or latest.person_contact_id != contact.id:
        raise InvalidInput(
            "person",
            f"A newer nudge has gone out since, so {label} can't be kept from this one.",
        )
    latest.keep_person = True
    session.flush()
    return label


def set_paused_until(session: Session, ref: MemberRef, until: date | None, now: datetime) -> None:
    """No nudges until ``until`` (the member's own date); None resumes them."""
    member = open_member(session, ref, now).member
    if until is not None and until <= _local_today(member, now):
        raise InvalidInput("pause", "Pick a day after today, or leave it empty to not pause.")
    member.nudges_paused_until = until
    session.flush()


@dataclass(frozen=True)
class SettingsForm:
    """Everything the Settings form changes at once."""

    enabled: bool
    weekday: int
    minute: int
    paused_until: date | None
    emoji: str


def save_settings(
    session: Session, client: WebClient, ref: MemberRef, form: SettingsForm, now: datetime
) -> NudgeSettings:
    """Apply the Settings form: the weekly slot, on or off, a pause, the reaction emoji."""
    set_slot(session, client, ref, form.weekday, form.minute, now)  # turns them on
    set_paused_until(session, ref, form.paused_until, now)
    set_reaction_emoji(session, ref, form.emoji, now)
    if not form.enabled:
        return set_enabled(session, client, ref, False, now)
    return settings(session, client, ref, now)
