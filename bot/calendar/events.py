"""The meetings in a calendar feed: each occurrence of each event, in its own time zone.

``icalendar`` reads the file (VTIMEZONE blocks, folded lines, CRLF) and
``recurring-ical-events`` expands recurring events (``RRULE``, ``RDATE``, ``EXDATE``) and puts
each moved occurrence (``RECURRENCE-ID``) in place of the one it replaces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events

from bot.calendar.fetch import FeedError
from bot.slack_text import clean_text
from storage.models import WHAT_MAX

MIN_PEOPLE = 2
MAX_PEOPLE = 10


@dataclass(frozen=True)
class Meeting:
    """One occurrence of a meeting that can be logged: timed, not cancelled, with 2 to 10
    people (attendees and organiser, by case-folded email)."""

    key: str  # a digest of the UID and the occurrence's original start
    title: str
    start: datetime
    end: datetime
    people: frozenset[str]
    declined: frozenset[str]  # the people whose own answer is PARTSTAT=DECLINED
    names: tuple[tuple[str, str], ...] = ()  # (email, the name the calendar gives them)


def _email(value: Any) -> str | None:
    text = str(value).strip()
    if text.casefold().startswith("mailto:"):
        text = text[len("mailto:") :]
    text = text.strip().casefold()
    return text if "@" in text else None


def _instant(value: date | datetime, zone: tzinfo) -> datetime:
    if not isinstance(value, datetime):  # a day where a time belongs: its start
        return datetime.combine(value, time(0), zone)
    # A floating time (no zone) is the member's own local time.
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def occurrence_key(uid: str, original_start: datetime | None) -> str:
    """The digest that names one occurrence: an event's UID, and for a recurring event the
    start its occurrence had before any move (``RECURRENCE-ID``)."""
    start = "" if original_start is None else original_start.astimezone(UTC).isoformat()
    return hashlib.sha256(f"{uid}\n{start}".encode()).hexdigest()


def read(data: bytes) -> icalendar.Calendar:
    """The calendar in ``data``; FeedError when it is not iCalendar Ally can read."""
    try:
        found = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError, TypeError):
        raise FeedError(
            "That calendar file is malformed: I couldn't read it as iCal. "
            "Copy the secret address in iCal format from your calendar's settings."
        ) from None
    if isinstance(found, list):  # several VCALENDARs: the first is the feed
        found = found[0]
    return found


def meetings(
    calendar: icalendar.Calendar, after: datetime, until: datetime, zone: tzinfo
) -> Iterator[Meeting]:
    """The meetings that ended in (``after``, ``until``]."""
    # A meeting that ended in the window started at most a day before it.
    try:
        found = recurring_ical_events.of(calendar).between(after - timedelta(days=1), until)
    except (ValueError, TypeError, KeyError):
        raise FeedError(
            "That calendar has an event I couldn't read (a malformed date or repeat rule)."
        ) from None
    for event in found:
        meeting = _meeting(event, zone)
        if meeting is not None and after < meeting.end <= until:
            yield meeting


def _meeting(event: Any, zone: tzinfo) -> Meeting | None:
    start_prop = event.get("DTSTART")
    if start_prop is None or not isinstance(start_prop.dt, datetime):
        return None  # all-day
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    uid = str(event.get("UID", "")).strip()
    if not uid:
        return None
    start = _instant(start_prop.dt, zone)
    end_prop = event.get("DTEND")
    if end_prop is not None and isinstance(end_prop.dt, datetime):
        end = _instant(end_prop.dt, zone)
    elif event.get("DURATION") is not None:
        end = start + event.get("DURATION").dt
    else:
        end = start
    people: set[str] = set()
    declined: set[str] = set()
    names: dict[str, str] = {}
    attendees = event.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    for attendee in attendees:
        email = _email(attendee)
        if email is None:
            continue
        people.add(email)
        params = getattr(attendee, "params", {})
        if params.get("CN"):
            names[email] = clean_text(str(params["CN"]).strip('"'))[:200]
        if str(params.get("PARTSTAT", "")).upper() == "DECLINED":
            declined.add(email)
    organiser = event.get("ORGANIZER")
    if organiser is not None and (email := _email(organiser)) is not None:
        people.add(email)
    if not MIN_PEOPLE <= len(people) <= MAX_PEOPLE:
        return None
    recurrence = event.get("RECURRENCE-ID")
    original = None if recurrence is None else _instant(recurrence.dt, zone)
    title = clean_text(str(event.get("SUMMARY", "")))[:WHAT_MAX]
    return Meeting(
        occurrence_key(uid, original),
        title,
        start,
        end,
        frozenset(people),
        frozenset(declined),
        tuple(sorted(names.items())),
    )
