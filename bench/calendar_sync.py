"""``calendar_sync``: every member's calendar feed read once, then read again.

``members`` members each have five contacts among a pool of 50 Slack users (each with a
profile email in the fake Slack) and a Google-shaped feed of ``events`` events, served by a
local web server (tests/support/calendar_feeds.py): a year of half-hour meetings, every 20th
weekly, each with two of the pool. The first pass (``bot.calendar.service.sync_due``) reads
30 days back and logs the meetings with contacts; the second, four hours later, finds no
meeting ended since and must log nothing. The line gives both passes' seconds, what each
logged and the process's peak memory (run in a child of its own).
"""

from __future__ import annotations

import importlib.util
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import datagen
from bench.measure import in_child, peak_rss_mb, stopwatch

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
POOL = 50
CONTACTS = 5


def missing() -> str | None:
    if importlib.util.find_spec("bot.calendar") is None:
        return "bot.calendar (the calendar branch) is not merged: nothing to sync"
    return None


def feed(events: int) -> bytes:
    """One Google-shaped feed of ``events`` meetings over the year before ``NOW`` (none ends in
    the four hours after it), every 20th weekly."""
    from tests.support.calendar_feeds import LISBON, ical

    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
        "VERSION:2.0",
        "X-WR-TIMEZONE:Europe/Lisbon",
        *LISBON,
    ]
    step = timedelta(days=365) / events
    for i in range(events):
        start = NOW - timedelta(days=365) + step * i
        if NOW - timedelta(hours=1) < start < NOW + timedelta(hours=5):
            start -= timedelta(hours=6)
        end = start + timedelta(minutes=30)
        lines += [
            "BEGIN:VEVENT",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{end:%Y%m%dT%H%M%SZ}",
            f"UID:bench{i}@google.com",
            f"ORGANIZER;CN=Person {i % POOL}:mailto:p{i % POOL}@bench.test",
            "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;"
            f"CN=Person {(i + 1) % POOL};X-NUM-GUESTS=0:mailto:p{(i + 1) % POOL}@bench.test",
            f"SUMMARY:Meeting {i}",
            *(["RRULE:FREQ=WEEKLY;COUNT=10"] if i % 20 == 0 else []),
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ical(*lines)


def _measure(backend: str, members: int, events: int) -> dict[str, Any]:
    from bot.calendar import service
    from bot.ledger.people import MemberRef, SlackPerson
    from bot.ledger.service import ContactUpdate, update_contact
    from bot.platform.config import settings_from_env
    from bot.platform.runtime import Runtime
    from storage.db import transaction
    from storage.migrate import upgrade
    from storage.models import CalendarFeed, Member
    from tests.support.calendar_feeds import feed_server
    from tests.support.fake_slack import FakeSlack

    logging.getLogger("bot").setLevel(logging.ERROR)
    url = datagen.work_copy(backend, datagen.Size(0), "calendar")
    fake = FakeSlack().start()
    fake.add_token("xoxb-bench", "T1")
    body = feed(events)
    try:
        upgrade(url)
        for j in range(POOL):
            fake.add_user(f"UP{j}", f"Person {j}")
            fake.add_email(f"UP{j}", f"p{j}@bench.test")
        settings = settings_from_env(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": fake.base_url,
                "DATABASE_URL": url,
                "ALLY_SCHEDULER": "off",
                "ALLY_ENCRYPTION_KEY": "q0Dq2mB7u0n3JQnq6y0Wm7jZ3J0xGQ9m8b0bS3wWd2E=",
                "ALLY_CALENDAR_ALLOW_HTTP_HOSTS": "127.0.0.1",
            }
        )
        runtime = Runtime.start(settings, clock=lambda: NOW)
        sealer = service._sealer(runtime)
        with feed_server() as feeds:
            with transaction(runtime.sessions) as session:
                for i in range(members):
                    user = f"UM{i}"
                    fake.add_user(user, f"Member {i}")
                    fake.add_email(user, f"m{i}@bench.test")
                    ref = MemberRef("T1", user)
                    for k in range(CONTACTS):
                        person = SlackPerson(f"UP{(i + 7 * k) % POOL}", "Person")
                        update_contact(session, ref, person, ContactUpdate(), NOW)
                    member_id = session.query(Member.id).filter(Member.user_id == user).scalar()
                    address = feeds.serve(f"/{user}/basic.ics", body)
                    session.add(
                        CalendarFeed(
                            member_id=member_id,
                            url_sealed=sealer.seal(address),
                            host="127.0.0.1",
                            created_at=NOW,
                            next_sync_at=NOW,
                            last_logged=0,
                        )
                    )
            with stopwatch() as first:
                read = service.sync_due(runtime, NOW)
            with stopwatch() as second:
                again = service.sync_due(runtime, NOW + timedelta(hours=4, minutes=1))
        runtime.close()
    finally:
        fake.stop()
        datagen.discard(url)
    return {
        "name": "calendar_sync",
        "backend": backend,
        "members": members,
        "events_per_feed": events,
        "feed_bytes": len(body),
        "seconds": round(first[0], 2),
        "synced": read["synced"],
        "failed": read["failed"],
        "logged": read["logged"],
        "resync_seconds": round(second[0], 2),
        "resync_logged": again["logged"],
        "peak_rss_mb": peak_rss_mb(),
        "target": "1,000 members x 2,000 events within 120 s and 300 MB; the re-sync logs 0",
    }


def run(backend: str, members: int, events: int) -> dict[str, Any]:
    return in_child(_measure, backend, members, events, preload=["bot.calendar.service"])
