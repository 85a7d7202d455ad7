"""Calendar feeds as calendar programs publish them, served from a local HTTP server.

Each file is written the way its program writes it (PRODID, its VTIMEZONE blocks, CRLF line
ends, lines folded at 75 octets with a leading space), from secret addresses and exports seen
in the wild:

- Google Calendar's "Secret address in iCal format" (``.../private-<hash>/basic.ics``):
  ``PRODID:-//Google Inc//Google Calendar 70.9054//EN``, ``X-WR-TIMEZONE``, an Olson VTIMEZONE
  with ``X-LIC-LOCATION``, ``ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=...;PARTSTAT=...;CN=...;
  X-NUM-GUESTS=0:mailto:...``, a moved occurrence as a second VEVENT with the same UID and a
  ``RECURRENCE-ID``, ``EXDATE`` for a deleted one.
- Outlook on the web's published calendar (``outlook.office365.com/owa/calendar/.../
  calendar.ics``): ``PRODID:Microsoft Exchange Server 2010``, Windows zone names
  (``TZID:W. Europe Standard Time``) with their own VTIMEZONE, ``ORGANIZER;CN=...``,
  ``ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=...``, the
  ``X-MICROSOFT-CDO-*`` properties.
- Apple Calendar (macOS) exports and iCloud public calendars: ``PRODID:-//Apple Inc.//macOS
  15.1//EN``, ``CALSCALE:GREGORIAN``, quoted ``CN="..."`` and ``EMAIL="..."`` parameters,
  ``X-APPLE-TRAVEL-ADVISORY-BEHAVIOR``, ``RRULE:FREQ=DAILY;COUNT=...``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def ical(*lines: str) -> bytes:
    """``lines`` as a calendar program writes them: CRLF, folded at 75 octets."""
    out: list[str] = []
    for line in lines:
        data = line.encode()
        first = True
        while len(data) > (75 if first else 74):
            cut = 75 if first else 74
            while (data[cut] & 0xC0) == 0x80:  # never inside a UTF-8 character
                cut -= 1
            out.append(("" if first else " ") + data[:cut].decode())
            data = data[cut:]
            first = False
        out.append(("" if first else " ") + data.decode())
    return ("\r\n".join(out) + "\r\n").encode()


LISBON = (
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Lisbon",
    "X-LIC-LOCATION:Europe/Lisbon",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0000",
    "TZNAME:WET",
    "DTSTART:19701025T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0000",
    "TZOFFSETTO:+0100",
    "TZNAME:WEST",
    "DTSTART:19700329T010000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
)


def _google_attendee(name: str, email: str, partstat: str = "ACCEPTED") -> str:
    return (
        f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={partstat};CN={name};"
        f"X-NUM-GUESTS=0:mailto:{email}"
    )


def google(title: str = "Maria / Ana 1:1", moved_title: str = "Maria / Ana 1:1") -> bytes:
    """Ana's Google calendar: a weekly 1:1 with Maria from 21 Oct 2026 (10:00 Lisbon), the
    11 Nov occurrence deleted (EXDATE) and the 4 Nov one moved to 5 Nov 14:00; an all-day
    offsite, a cancelled lunch, an 11-person all-hands and a coffee Ana declined, all with
    Maria; a coffee with Bob (in Slack, not Ana's contact); and next week's 1:1."""
    return ical(
        "BEGIN:VCALENDAR",
        "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:ana@acme.test",
        "X-WR-TIMEZONE:Europe/Lisbon",
        *LISBON,
        "BEGIN:VEVENT",
        "DTSTART;TZID=Europe/Lisbon:20261021T100000",
        "DTEND;TZID=Europe/Lisbon:20261021T103000",
        "RRULE:FREQ=WEEKLY;BYDAY=WE",
        "EXDATE;TZID=Europe/Lisbon:20261111T100000",
        "DTSTAMP:20261116T090000Z",
        "ORGANIZER;CN=Ana Silva:mailto:ana@acme.test",
        "UID:7kukuqrfedlm2f9t2vfdb8fvs4@google.com",
        _google_attendee("Maria Lopez", "maria@acme.test"),
        _google_attendee("Ana Silva", "ana@acme.test"),
        "CREATED:20261015T120000Z",
        "DESCRIPTION:Weekly check-in. Agenda: https://docs.google.com/document/d/1abcDEFghIJKlmnOPq"
        "rsTUVwxyz/edit",
        "LAST-MODIFIED:20261104T080000Z",
        "LOCATION:",
        "SEQUENCE:0",
        "STATUS:CONFIRMED",
        f"SUMMARY:{title}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;TZID=Europe/Lisbon:20261105T140000",
        "DTEND;TZID=Europe/Lisbon:20261105T143000",
        "DTSTAMP:20261116T090000Z",
        "ORGANIZER;CN=Ana Silva:mailto:ana@acme.test",
        "UID:7kukuqrfedlm2f9t2vfdb8fvs4@google.com",
        "RECURRENCE-ID;TZID=Europe/Lisbon:20261104T100000",
        _google_attendee("Maria Lopez", "maria@acme.test"),
        _google_attendee("Ana Silva", "ana@acme.test"),
        "CREATED:20261015T120000Z",
        "LAST-MODIFIED:20261103T170000Z",
        "SEQUENCE:1",
        "STATUS:CONFIRMED",
        f"SUMMARY:{moved_title}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20261110",
        "DTEND;VALUE=DATE:20261111",
        "DTSTAMP:20261116T090000Z",
        "UID:0offsite0000000000000000000@google.com",
        _google_attendee("Maria Lopez", "maria@acme.test"),
        _google_attendee("Ana Silva", "ana@acme.test"),
        "SUMMARY:Team offsite",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART:20261112T123000Z",
        "DTEND:20261112T133000Z",
        "DTSTAMP:20261116T090000Z",
        "UID:0lunch00000000000000000000@google.com",
        "ORGANIZER;CN=Maria Lopez:mailto:maria@acme.test",
        _google_attendee("Ana Silva", "ana@acme.test"),
        "STATUS:CANCELLED",
        "SUMMARY:Lunch",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART:20261113T160000Z",
        "DTEND:20261113T170000Z",
        "DTSTAMP:20261116T090000Z",
        "UID:0allhands000000000000000000@google.com",
        "ORGANIZER;CN=Maria Lopez:mailto:maria@acme.test",
        *(_google_attendee(f"Person {n}", f"person{n}@acme.test") for n in range(1, 10)),
        _google_attendee("Ana Silva", "ana@acme.test"),
        "SUMMARY:All hands",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART:20261114T090000Z",
        "DTEND:20261114T093000Z",
        "DTSTAMP:20261116T090000Z",
        "UID:0declined00000000000000000@google.com",
        "ORGANIZER;CN=Maria Lopez:mailto:maria@acme.test",
        _google_attendee("Ana Silva", "ana@acme.test", "DECLINED"),
        "SUMMARY:Coffee?",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART:20261109T150000Z",
        "DTEND:20261109T153000Z",
        "DTSTAMP:20261116T090000Z",
        "UID:0bob0000000000000000000000@google.com",
        "ORGANIZER;CN=Bob Chen:mailto:bob@acme.test",
        _google_attendee("Ana Silva", "ana@acme.test"),
        "SUMMARY:Coffee with Bob",
        "END:VEVENT",
        "END:VCALENDAR",
    )


W_EUROPE = (
    "BEGIN:VTIMEZONE",
    "TZID:W. Europe Standard Time",
    "BEGIN:STANDARD",
    "DTSTART:16010101T030000",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "DTSTART:16010101T020000",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
)


def outlook() -> bytes:
    """Ana's Outlook calendar: a meeting with Dana Lee of Globex on 10 Nov 2026, 15:00 Berlin
    time, that Ana organised."""
    return ical(
        "BEGIN:VCALENDAR",
        "METHOD:PUBLISH",
        "PRODID:Microsoft Exchange Server 2010",
        "VERSION:2.0",
        "X-WR-CALNAME:Calendar",
        *W_EUROPE,
        "BEGIN:VEVENT",
        "ORGANIZER;CN=Ana Silva:mailto:ana@acme.test",
        "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Dana Lee:"
        "mailto:dana@globex.test",
        "DESCRIPTION;LANGUAGE=en-US:Let's go through the renewal.\\n",
        "UID:040000008200E00074C5B7101A82E00800000000D0B8E0D0F2D4DC01000000000000000"
        "010000000A1B2C3D4E5F60718293A4B5C6D7E8F90",
        "SUMMARY;LANGUAGE=en-US:Globex renewal",
        "DTSTART;TZID=W. Europe Standard Time:20261110T150000",
        "DTEND;TZID=W. Europe Standard Time:20261110T160000",
        "CLASS:PUBLIC",
        "PRIORITY:5",
        "DTSTAMP:20261116T081500Z",
        "TRANSP:OPAQUE",
        "STATUS:CONFIRMED",
        "SEQUENCE:0",
        "LOCATION;LANGUAGE=en-US:Microsoft Teams Meeting",
        "X-MICROSOFT-CDO-APPT-SEQUENCE:0",
        "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
        "X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY",
        "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE",
        "X-MICROSOFT-CDO-IMPORTANCE:1",
        "X-MICROSOFT-CDO-INSTTYPE:0",
        "X-MICROSOFT-DONOTFORWARDMEETING:FALSE",
        "X-MICROSOFT-DISALLOW-COUNTER:FALSE",
        "END:VEVENT",
        "END:VCALENDAR",
    )


NEW_YORK = (
    "BEGIN:VTIMEZONE",
    "TZID:America/New_York",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:-0500",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
    "DTSTART:20070311T020000",
    "TZNAME:EDT",
    "TZOFFSETTO:-0400",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:-0400",
    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
    "DTSTART:20071104T020000",
    "TZNAME:EST",
    "TZOFFSETTO:-0500",
    "END:STANDARD",
    "END:VTIMEZONE",
)


def apple() -> bytes:
    """Ana's Apple calendar: a daily design review with Maria and Dana, 11 to 13 Nov 2026 at
    09:00 New York time (three occurrences)."""
    return ical(
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Apple Inc.//macOS 15.1//EN",
        "CALSCALE:GREGORIAN",
        *NEW_YORK,
        "BEGIN:VEVENT",
        'ATTENDEE;CN="Maria Lopez";CUTYPE=INDIVIDUAL;EMAIL="maria@acme.test";PARTSTAT=ACCEPTED;'
        "ROLE=REQ-PARTICIPANT:mailto:maria@acme.test",
        'ATTENDEE;CN="Dana Lee";CUTYPE=INDIVIDUAL;EMAIL="dana@globex.test";PARTSTAT=ACCEPTED;'
        "ROLE=REQ-PARTICIPANT:mailto:dana@globex.test",
        'ATTENDEE;CN="Ana Silva";CUTYPE=INDIVIDUAL;EMAIL="ana@acme.test";PARTSTAT=ACCEPTED;'
        "ROLE=CHAIR:mailto:ana@acme.test",
        "CREATED:20261101T101010Z",
        "DTEND;TZID=America/New_York:20261111T094500",
        "DTSTAMP:20261101T101012Z",
        "DTSTART;TZID=America/New_York:20261111T090000",
        "LAST-MODIFIED:20261101T101010Z",
        'ORGANIZER;CN="Ana Silva";EMAIL="ana@acme.test":mailto:ana@acme.test',
        "RRULE:FREQ=DAILY;COUNT=3",
        "SEQUENCE:0",
        "SUMMARY:Design review",
        "TRANSP:OPAQUE",
        "UID:5A1D9F0C-3E2B-4F6A-9C1D-7B8E2F4A6C10",
        "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC",
        "END:VEVENT",
        "END:VCALENDAR",
    )


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before each 64 KB of the body


@dataclass
class FeedServer:
    """A local web server for calendar feeds: ``routes`` by path; ``hits`` counts GETs."""

    routes: dict[str, Route] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    port: int = 0

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def serve(self, path: str, body: bytes = b"", **options: object) -> str:
        self.routes[path] = Route(body, **options)  # type: ignore[arg-type]
        return self.url(path)


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    feeds = FeedServer()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            with lock:
                feeds.hits[path] = feeds.hits.get(path, 0) + 1
            route = feeds.routes.get(path, Route(b"not found", 404))
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            for start in range(0, len(route.body), 64 * 1024):
                if route.delay:
                    time.sleep(route.delay)
                try:
                    self.wfile.write(route.body[start : start + 64 * 1024])
                except OSError:
                    return

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    feeds.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield feeds
    finally:
        server.shutdown()
        server.server_close()
