"""What members change about their nudges, and what the DM's buttons do.

Each service opens one unit of work on the runtime, commits, and returns what the handler
shows; the functions taking a session are the pieces they are made of.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.ledger.corrections import contact_with_key
from bot.ledger.network import DEFAULT_CADENCE_DAYS
from bot.ledger.people import MemberRef, Person, person_of
from bot.ledger.reactions import DEFAULT_EMOJI, set_reaction_emoji
from bot.ledger.service import open_member, record_favour
from bot.nudges.planning import Schedule, Slot, current_slot, next_slot, schedule_of, zone
from bot.platform.runtime import Runtime
from bot.questions.service import get_focus
from storage.models import Bond, Contact, InteractionKind, Member, Nudge, NudgeStatus

SNOOZE_DAYS = 14
TZ_FRESH_FOR = timedelta(days=1)
# The Settings form's choices of a default cadence per bond, in weeks.
CADENCE_WEEKS = (1, 2, 3, 4, 6, 8, 12)
CADENCE_CHOICES = tuple(weeks * 7 for weeks in CADENCE_WEEKS)


@dataclass(frozen=True)
class NudgeSettings:
    schedule: Schedule
    next_at: Slot | None
    # This week's slot has passed and its nudge is not sent yet: it goes out on the next run.
    on_its_way: bool = False
    # The member's own default cadence (days) for alliances and for connections; None: Ally's.
    alliance_days: int | None = None
    connection_days: int | None = None
    emoji: str = DEFAULT_EMOJI  # the reaction that logs a favour

    def ally_days(self, bond: Bond) -> int:
        """Ally's own default cadence for ``bond``, what "Ally's default" stands for."""
        return DEFAULT_CADENCE_DAYS[bond]


@dataclass(frozen=True)
class SettingsChanged:
    """The member's settings after a change (their Home shows some of them)."""

    settings: NudgeSettings
    home_changed: bool = True


def _zone_stale(member: Member, now: datetime) -> bool:
    return member.tz_checked_at is None or now - member.tz_checked_at >= TZ_FRESH_FOR


def _slack_zone(client: WebClient, user_id: str) -> tuple[bool, str | None]:
    """Whether Slack answered ``users.info``, and the member's zone if their profile has one."""
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackClientError:
        return False, None  # keep the zone on record; the next look will try again
    return True, user.get("tz") or None


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
    return NudgeSettings(
        schedule,
        upcoming,
        upcoming is not None and upcoming.due_at <= now,
        member.alliance_cadence_days,
        member.connection_cadence_days,
        member.reaction_emoji or DEFAULT_EMOJI,
    )


Change = Callable[[Session, Member], None]


def _changed(
    runtime: Runtime, client: WebClient, ref: MemberRef, now: datetime, change: Change
) -> NudgeSettings:
    """``change`` the member in one unit of work and read their settings after it.

    Their Slack time zone is followed at most once a day (``users.info``): asked after that unit
    of work commits, never inside it, then kept in a second one that reads the settings again.
    """
    current, stale = _changed_on_record(runtime, ref, now, change)
    if not stale:
        return current
    return _zone_followed(runtime, client, ref, now) or current


def _changed_on_record(
    runtime: Runtime, ref: MemberRef, now: datetime, change: Change
) -> tuple[NudgeSettings, bool]:
    """``change`` the member in one unit of work: their settings after it, and whether their
    Slack time zone is due a look."""
    with runtime.unit_of_work() as uow:
        member = open_member(uow.session, ref, now).member
        change(uow.session, member)
        current = _settings(uow.session, member, now)
        stale = _zone_stale(member, now)
        uow.commit()
    return current, stale


def _zone_followed(
    runtime: Runtime, client: WebClient, ref: MemberRef, now: datetime
) -> NudgeSettings | None:
    """Ask Slack for the member's time zone (``users.info``, outside any unit of work) and keep
    it; their settings after that, or None when Slack did not answer."""
    answered, tz = _slack_zone(client, ref.user_id)
    if not answered:
        return None
    with runtime.unit_of_work() as uow:
        member = open_member(uow.session, ref, now).member
        member.tz = tz or member.tz
        member.tz_checked_at = now
        current = _settings(uow.session, member, now)
        uow.commit()
    return current


def settings(runtime: Runtime, client: WebClient, ref: MemberRef, now: datetime) -> NudgeSettings:
    """The member's settings: what ``/ally nudges`` shows, their Slack time zone followed."""
    return _changed(runtime, client, ref, now, lambda _session, _member: None)


@dataclass(frozen=True)
class OnRecord:
    """The member's settings as Ally has them, without asking Slack anything, and whether their
    Slack time zone is due a look (``follow_zone``)."""

    settings: NudgeSettings
    zone_stale: bool


def settings_on_record(runtime: Runtime, ref: MemberRef, now: datetime) -> OnRecord:
    """What the Settings form opens with: it must reach Slack within the 3 seconds of its
    trigger, so no Slack call (and no Retry-After wait) comes before it."""
    current, stale = _changed_on_record(runtime, ref, now, lambda _session, _member: None)
    return OnRecord(current, stale)


def follow_zone(
    runtime: Runtime, client: WebClient, ref: MemberRef, now: datetime
) -> NudgeSettings | None:
    """The member's settings after following their Slack time zone (``users.info``); None when
    Slack did not answer."""
    return _zone_followed(runtime, client, ref, now)


def switch_nudges(
    runtime: Runtime, client: WebClient, ref: MemberRef, enabled: bool, now: datetime
) -> SettingsChanged:
    """Turn the weekly DM on (which ends a pause) or off."""
    return SettingsChanged(
        _changed(runtime, client, ref, now, lambda _session, member: _switch(member, enabled))
    )


def _switch(member: Member, enabled: bool) -> None:
    member.nudges_enabled = enabled
    if enabled:
        member.nudges_paused_until = None


def move_nudges(
    runtime: Runtime, client: WebClient, ref: MemberRef, weekday: int, minute: int, now: datetime
) -> SettingsChanged:
    """Move the weekly slot (and turn the DM on); this week's, if already sent, is not sent
    again."""
    return SettingsChanged(
        _changed(runtime, client, ref, now, lambda _session, member: _move(member, weekday, minute))
    )


def _move(member: Member, weekday: int, minute: int) -> None:
    if not 0 <= weekday <= 6:
        raise InvalidInput("weekday", "Pick a day from Monday to Sunday.")
    if not 0 <= minute < 24 * 60:
        raise InvalidInput("time", "Pick a time from 00:00 to 23:59.")
    member.nudge_weekday = weekday
    member.nudge_minute = minute
    member.nudges_enabled = True


def _local_today(member: Member, now: datetime) -> date:
    return now.astimezone(zone(member.tz)).date()


def pause(session: Session, ref: MemberRef, now: datetime, days: int = SNOOZE_DAYS) -> date:
    """No nudges for ``days``; returns the day they resume."""
    member = open_member(session, ref, now).member
    member.nudges_paused_until = _local_today(member, now) + timedelta(days=days)
    session.flush()
    return member.nudges_paused_until


def _contact(session: Session, ref: MemberRef, key: str, now: datetime) -> Contact:
    gone = "That person is no longer in your network."
    return contact_with_key(open_member(session, ref, now), key, gone)


@dataclass(frozen=True)
class Snoozed:
    person: Person
    until: date


def snooze_contact(
    session: Session, ref: MemberRef, key: str, now: datetime, days: int = SNOOZE_DAYS
) -> Snoozed:
    """Leave one contact out of stay-in-touch reminders for ``days``."""
    contact = _contact(session, ref, key, now)
    contact.snoozed_until = _local_today(contact.member, now) + timedelta(days=days)
    session.flush()
    return Snoozed(person_of(contact), contact.snoozed_until)


def wake_contact(session: Session, ref: MemberRef, key: str, now: datetime) -> Person:
    """End a contact's snooze: reminders about them are back."""
    contact = _contact(session, ref, key, now)
    contact.snoozed_until = None
    session.flush()
    return person_of(contact)


def log_catch_up(session: Session, ref: MemberRef, key: str, now: datetime) -> Person:
    """Record a catch-up with a contact today."""
    person = person_of(_contact(session, ref, key, now))
    record_favour(session, ref, person, InteractionKind.CATCH_UP, "", now)
    return person


def keep_person(session: Session, ref: MemberRef, key: str, now: datetime) -> Person:
    """Keep the latest DM's person for the week after (the Keep button).

    The wish is recorded on that week's nudge, which next week's planning reads as last week's.
    """
    contact = _contact(session, ref, key, now)
    person = person_of(contact)
    latest = session.scalars(
        select(Nudge)
        .where(Nudge.member_id == contact.member_id, Nudge.status == NudgeStatus.SENT.value)
        .order_by(Nudge.week.desc())
        .limit(1)
    ).first()
    if latest is None or latest.person_contact_id != contact.id:
        raise InvalidInput(
            "person",
            f"A newer nudge has gone out since, so {person.label} can't be kept from this one.",
        )
    latest.keep_person = True
    session.flush()
    return person


# -- the weekly DM's buttons -------------------------------------------------------------------


@dataclass(frozen=True)
class Pressed:
    """What a weekly DM button did: about whom (None: the DM itself), until when (a snooze or
    a pause), the settings after it, and the member's focus (for the catch-up's question)."""

    person: Person | None = None
    until: date | None = None
    settings: NudgeSettings | None = None
    focus: str | None = None
    home_changed: bool = True


def caught_up(runtime: Runtime, ref: MemberRef, key: str, now: datetime) -> Pressed:
    """ "We caught up": a catch-up with the DM's person, logged today."""
    with runtime.unit_of_work() as uow:
        person = log_catch_up(uow.session, ref, key, now)
        focus = get_focus(uow.session, ref)
        uow.commit()
    return Pressed(person, focus=focus)


def snoozed(runtime: Runtime, ref: MemberRef, key: str, now: datetime) -> Pressed:
    """Snooze the DM's person for two weeks, or (no person) pause the DM itself."""
    with runtime.unit_of_work() as uow:
        if key:
            done = snooze_contact(uow.session, ref, key, now)
            result = Pressed(done.person, done.until)
        else:
            result = Pressed(until=pause(uow.session, ref, now))
        uow.commit()
    return result


def kept(runtime: Runtime, ref: MemberRef, key: str, now: datetime) -> Pressed:
    """Keep the DM's person for next week too."""
    with runtime.unit_of_work() as uow:
        person = keep_person(uow.session, ref, key, now)
        uow.commit()
    return Pressed(person)


def not_now(runtime: Runtime, client: WebClient, ref: MemberRef, now: datetime) -> Pressed:
    """ "Not now": nothing changes; the DM's buttons are put away until next week's."""
    return Pressed(settings=settings(runtime, client, ref, now), home_changed=False)


# -- the Settings form -------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsForm:
    """Everything the Settings form changes at once."""

    enabled: bool
    weekday: int
    minute: int
    paused_until: date | None
    emoji: str
    # Default cadences in days (None: Ally's default for the bond).
    alliance_days: int | None = None
    connection_days: int | None = None


def check_default_cadence(days: int | None, *, field: str) -> int | None:
    """A default cadence from the form's choices (None: Ally's); ``InvalidInput`` otherwise."""
    if days is not None and days not in CADENCE_CHOICES:
        raise InvalidInput(field, "Pick a cadence from the list.")
    return days


def save_settings(
    runtime: Runtime, client: WebClient, ref: MemberRef, form: SettingsForm, now: datetime
) -> SettingsChanged:
    """Apply the Settings form: the weekly slot, on or off, a pause, the reaction emoji and the
    default cadences, all or nothing."""

    def apply(session: Session, member: Member) -> None:
        _move(member, form.weekday, form.minute)  # turns them on
        if form.paused_until is not None and form.paused_until <= _local_today(member, now):
            raise InvalidInput("pause", "Pick a day after today, or leave it empty to not pause.")
        member.nudges_paused_until = form.paused_until
        set_reaction_emoji(session, ref, form.emoji, now)
        member.alliance_cadence_days = check_default_cadence(form.alliance_days, field="alliance")
        member.connection_cadence_days = check_default_cadence(
            form.connection_days, field="connection"
        )
        if not form.enabled:
            _switch(member, False)

    return SettingsChanged(_changed(runtime, client, ref, now, apply))
