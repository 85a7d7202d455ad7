"""``/ally calendar``: a member's secret iCal feed, read from a local web server as Google,
Outlook and Apple publish theirs (tests/support/calendar_feeds.py), through the real Bolt app
against the fake Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from slack_bolt import App
from sqlalchemy import select

import handlers
from bot.calendar import fetch
from bot.platform.app import create_app
from bot.platform.runtime import Runtime
from storage.models import CalendarFeed, Contact, Interaction
from tests.support.address_books import confirm, share
from tests.support.calendar_feeds import FeedServer, apple, feed_server, google, outlook
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver, command_body
from tests.support.waiting import wait_for

FORM = "application/x-www-form-urlencoded"
_hooks = itertools.count(1)
VCARD = (
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dana Lee\r\nN:Lee;Dana;;;\r\nORG:Globex\r\n"
    b"EMAIL;TYPE=INTERNET;TYPE=WORK:Dana@Globex.test\r\nEND:VCARD\r\n"
)


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


@pytest.fixture
def cal_runtime(make_runtime, db_url: str) -> Runtime:  # type: ignore[no-untyped-def]
    """The app's runtime with plain HTTP allowed to 127.0.0.1 only (the test hook)."""
    return make_runtime(db_url, ALLY_CALENDAR_ALLOW_HTTP_HOSTS="127.0.0.1")


@pytest.fixture
def cal_app(cal_runtime: Runtime) -> Iterator[App]:
    app = create_app(cal_runtime, register=[handlers.register])
    yield app
    app.listener_runner.listener_executor.shutdown(wait=True)


@pytest.fixture
def driver(cal_app: App, fake_slack: FakeSlack) -> SlackDriver:
    fake_slack.add_user("U1", "Ana Silva")
    fake_slack.add_email("U1", "ana@acme.test")
    fake_slack.add_user("U2", "Maria Lopez")
    fake_slack.add_email("U2", "maria@acme.test")
    fake_slack.add_user("U3", "Bob Chen")
    fake_slack.add_email("U3", "bob@acme.test")
    return SlackDriver(cal_app, SECRET, fake=fake_slack)


def ask(driver: SlackDriver, fake: FakeSlack, text: str, user: str = "U1") -> tuple[str, str]:
    """``/ally <text>``: Ally's answer to Slack, and what it said afterwards through the
    command's response URL ("" when it said nothing more)."""
    hook = f"calendar_hook_{next(_hooks)}"
    fields = dict(parse_qsl(command_body(text, user=user)))
    fields["response_url"] = fake.base_url + hook
    reply = driver.send(urlencode(fields), FORM)
    assert reply.status == 200
    first = reply.text
    if "in a moment" not in first:
        return first, ""
    [later] = wait_for(lambda: fake.calls_to(hook), timeout=30)
    assert later.params["response_type"] == "ephemeral"
    return first, str(later.params["text"])


def calendar_lines(runtime: Runtime) -> list[tuple[str, str, str]]:
    """(contact key, note, day) of every catch-up logged from a calendar, in order."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(Contact.key, Interaction.what, Interaction.occurred_at)
            .join(Contact, Contact.id == Interaction.contact_id)
            .where(Interaction.source == "calendar", Interaction.kind == "catch_up")
            .order_by(Interaction.occurred_at, Contact.key)
        ).all()
    return [(key, what, f"{at:%Y-%m-%d %H:%M}") for key, what, at in rows]


def feed_rows(runtime: Runtime) -> list[CalendarFeed]:
    with runtime.sessions() as session:
        return list(session.scalars(select(CalendarFeed)))


MARIA_1_1S = [
    ("U2", "Maria / Ana 1:1", "2026-10-21 09:00"),  # 10:00 Lisbon, summer time
    ("U2", "Maria / Ana 1:1", "2026-10-28 10:00"),  # 10:00 Lisbon, winter time
    ("U2", "Maria / Ana 1:1", "2026-11-05 14:00"),  # the 4 Nov one, moved; 11 Nov deleted
]


def test_a_google_feed_logs_each_past_meeting_with_a_contact_once(
    driver: SlackDriver,
    fake_slack: FakeSlack,
    feeds: FeedServer,
    cal_runtime: Runtime,
    clock: FrozenClock,
) -> None:
    assert driver.command("add <@U2>").status == 200
    url = feeds.serve("/calendar/ical/ana%40acme.test/private-9f8e7d/basic.ics", google())
    first, later = ask(driver, fake_slack, f"calendar {url}")
    assert "Checking your calendar at 127.0.0.1" in first
    assert "Connected." in later and "logged 3 catch-ups with Maria Lopez" in later
    # Not all-day, not cancelled, not declined, not 11 people, not Bob (no contact), not
    # next week's: only the three 1:1s, on their own days, titled as in the calendar.
    assert calendar_lines(cal_runtime) == MARIA_1_1S
    # Stored: the address sealed, shown as its host only.
    [feed] = feed_rows(cal_runtime)
    assert feed.url_sealed.startswith("fernet:") and "private-9f8e7d" not in feed.url_sealed
    assert feed.host == "127.0.0.1"
    shown, _ = ask(driver, fake_slack, "calendar")
    assert "Your calendar (127.0.0.1) is connected" in shown
    assert "Last read 16 Nov at 10:00 UTC: 3 catch-ups logged" in shown
    assert "private-9f8e7d" not in shown
    # /ally who shows them, marked as from the calendar.
    who = driver.command("who <@U2>").text
    assert who.count("(from your calendar)") == 3 and "Maria / Ana 1:1" in who

    # Synced again later: the same meetings add nothing, even retitled, and a meeting
    # moved once more (same UID and RECURRENCE-ID) is not logged again.
    clock.advance(hours=1)
    feeds.serve(
        "/calendar/ical/ana%40acme.test/private-9f8e7d/basic.ics",
        google(title="1:1 (renamed)", moved_title="1:1 moved again"),
    )
    _, again = ask(driver, fake_slack, "calendar sync")
    assert "no new meetings" in again
    assert calendar_lines(cal_runtime) == MARIA_1_1S


def test_outlook_and_apple_feeds_match_slack_users_and_imported_outside_contacts(
    driver: SlackDriver, fake_slack: FakeSlack, feeds: FeedServer, cal_runtime: Runtime
) -> None:
    # Dana is an outside contact from an address book; her email is only in it.
    preview = share(driver, fake_slack, "dana.vcf", VCARD)
    confirm(driver, fake_slack, preview)
    assert driver.command("add <@U2>").status == 200
    _, later = ask(driver, fake_slack, f"calendar {feeds.serve('/owa/calendar.ics', outlook())}")
    assert "logged 1 catch-up with Dana Lee" in later
    _, later = ask(driver, fake_slack, f"calendar {feeds.serve('/apple.ics', apple())}")
    assert "logged 6 catch-ups with Dana Lee, Maria Lopez" in later
    assert calendar_lines(cal_runtime) == [
        ("~dana lee", "Globex renewal", "2026-11-10 14:00"),  # 15:00 Berlin
        ("U2", "Design review", "2026-11-11 14:00"),  # 09:00 New York
        ("~dana lee", "Design review", "2026-11-11 14:00"),
        ("U2", "Design review", "2026-11-12 14:00"),
        ("~dana lee", "Design review", "2026-11-12 14:00"),
        ("U2", "Design review", "2026-11-13 14:00"),
        ("~dana lee", "Design review", "2026-11-13 14:00"),
    ]
    # The last catch-up restarted Maria's clock.
    with cal_runtime.sessions() as session:
        maria = session.scalars(select(Contact).where(Contact.key == "U2")).one()
    assert f"{maria.last_touch_at:%Y-%m-%d %H:%M}" == "2026-11-13 14:00"
    # One feed per member: the second replaced the first.
    assert [f.host for f in feed_rows(cal_runtime)] == ["127.0.0.1"]


def test_undo_and_who_edit_and_delete_cover_calendar_entries(
    driver: SlackDriver, fake_slack: FakeSlack, feeds: FeedServer, cal_runtime: Runtime
) -> None:
    import time

    assert driver.command("add <@U2>").status == 200
    ask(driver, fake_slack, f"calendar {feeds.serve('/g.ics', google())}")
    undone = driver.command("undo").text
    assert "Maria / Ana 1:1" in undone
    assert calendar_lines(cal_runtime) == MARIA_1_1S[:2]

    hook = fake_slack.base_url + "who_hook"
    who = driver.command("who <@U2>")
    menus = [
        [o["value"] for o in block["accessory"]["options"]]
        for block in who.json["blocks"]
        if block.get("accessory", {}).get("action_id") == "ledger_line_menu"
        and "(from your calendar)" in block["text"]["text"]
    ]
    assert len(menus) == 2

    def pick(value: str) -> None:
        action = {
            "action_id": "ledger_line_menu",
            "block_id": "b",
            "type": "overflow",
            "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
            "action_ts": f"{time.time():.6f}",
        }
        driver.action("ledger_line_menu", extra={"actions": [action], "response_url": hook})

    # Delete one, after the confirmation.
    pick(menus[0][1])
    [confirm] = fake_slack.calls_to("who_hook")
    entry = next(
        e["value"]
        for b in confirm["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "delete_entry_confirm"
    )
    driver.action("delete_entry_confirm", value=entry, extra={"response_url": hook})
    assert len(calendar_lines(cal_runtime)) == 1
    # Edit the other's note in the form.
    pick(menus[1][0])
    opened = fake_slack.calls_to("views.open")[-1]
    assert opened["view"]["callback_id"] == "edit_entry_modal"
    values = {
        "what": {"what": {"type": "plain_text_input", "value": "1:1 about the launch"}},
        "when": {"when": {"type": "datepicker", "selected_date": "2026-10-21"}},
    }
    driver.submit("edit_entry_modal", values, private_metadata=opened["view"]["private_metadata"])
    [(key, note, _)] = calendar_lines(cal_runtime)
    assert (key, note) == ("U2", "1:1 about the launch")
    # Synced again: neither the deleted nor the undone occurrence comes back, nor the note.
    _, again = ask(driver, fake_slack, "calendar sync")
    assert "no new meetings" in again
    assert len(calendar_lines(cal_runtime)) == 1


def test_off_removes_the_feed_and_keeps_what_it_logged(
    driver: SlackDriver, fake_slack: FakeSlack, feeds: FeedServer, cal_runtime: Runtime
) -> None:
    assert driver.command("add <@U2>").status == 200
    ask(driver, fake_slack, f"calendar {feeds.serve('/g.ics', google())}")
    off, _ = ask(driver, fake_slack, "calendar off")
    assert "disconnected and its address deleted" in off
    assert feed_rows(cal_runtime) == []
    assert len(calendar_lines(cal_runtime)) == 3
    assert "nothing to remove" in ask(driver, fake_slack, "calendar off")[0]
    assert "haven't connected a calendar" in ask(driver, fake_slack, "calendar")[0]
    assert "haven't connected a calendar" in ask(driver, fake_slack, "calendar sync")[0]


def _bad_feeds(feeds: FeedServer) -> list[tuple[str, str]]:
    """(address, what the reply says) for each feed Ally must refuse."""
    html = b"<!DOCTYPE html><html><body>Sign in to Google Calendar</body></html>"
    feeds.serve("/html.ics", html, headers={"Content-Type": "text/html"})
    feeds.serve("/gone.ics", b"", status=404)
    feeds.serve("/denied.ics", b"", status=403)
    feeds.serve("/huge.ics", b"BEGIN:VCALENDAR\r\n" + b"X" * (5 * 1024 * 1024))
    feeds.serve(
        "/to-loopback.ics",
        status=302,
        headers={"Location": feeds.url("/g.ics", host="localhost", scheme="https")},
    )
    feeds.serve("/to-http.ics", status=302, headers={"Location": "http://example.com/a.ics"})
    return [
        ("http://calendar.example.com/basic.ics", "only read calendars over HTTPS"),
        ("ftp://calendar.example.com/basic.ics", "only read calendars over HTTPS"),
        ("https://10.0.0.7/basic.ics", "private, loopback or link-local"),
        ("https://169.254.169.254/latest/meta-data", "private, loopback or link-local"),
        ("https://[::1]/basic.ics", "private, loopback or link-local"),
        (feeds.url("/g.ics", host="localhost", scheme="https"), "private, loopback or link-local"),
        (feeds.url("/to-loopback.ics"), "private, loopback or link-local"),
        (feeds.url("/to-http.ics"), "only read calendars over HTTPS"),
        # webcal:// is read as HTTPS: this plain HTTP server does not speak it.
        (feeds.url("/g.ics", scheme="webcal"), "couldn't open a secure (HTTPS) connection"),
        (feeds.url("/html.ics"), "doesn't give a calendar in iCal format"),
        (feeds.url("/gone.ics"), "may have been reset in the calendar's settings"),
        (feeds.url("/denied.ics"), "(HTTP 403)"),
        (feeds.url("/huge.ics"), "over 5 MB"),
    ]


def test_bad_feeds_get_a_clear_reply_and_change_nothing(
    driver: SlackDriver, fake_slack: FakeSlack, feeds: FeedServer, cal_runtime: Runtime
) -> None:
    assert driver.command("add <@U2>").status == 200
    good = feeds.serve("/good.ics", google())
    ask(driver, fake_slack, f"calendar {good}")
    before = (feed_rows(cal_runtime)[0].url_sealed, calendar_lines(cal_runtime))
    feeds.serve("/g.ics", google())
    for address, says in _bad_feeds(feeds):
        first, later = ask(driver, fake_slack, f"calendar {address}")
        said = first + later
        assert says in said, (address, said)
        assert "Traceback" not in said and "Connected" not in said
        assert (feed_rows(cal_runtime)[0].url_sealed, calendar_lines(cal_runtime)) == before
    # The redirect to localhost never reached it: every connection is checked.
    assert feeds.hits.get("/g.ics", 0) == 0


def test_a_slow_feed_is_given_up_on(
    driver: SlackDriver,
    fake_slack: FakeSlack,
    feeds: FeedServer,
    cal_runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fetch, "DEADLINE_SECONDS", 0.5)
    slow = feeds.serve("/slow.ics", b"BEGIN:VCALENDAR\r\n" + b"X" * 300_000, delay=0.4)
    _, later = ask(driver, fake_slack, f"calendar {slow}")
    assert "took longer than 0.5 seconds" in later and "Nothing was changed" in later
    assert feed_rows(cal_runtime) == []


def test_a_feed_that_starts_failing_keeps_its_logs_and_says_why(
    driver: SlackDriver,
    fake_slack: FakeSlack,
    feeds: FeedServer,
    cal_runtime: Runtime,
    clock: FrozenClock,
) -> None:
    assert driver.command("add <@U2>").status == 200
    ask(driver, fake_slack, f"calendar {feeds.serve('/g.ics', google())}")
    feeds.serve("/g.ics", b"", status=404)
    clock.advance(hours=5)
    _, later = ask(driver, fake_slack, "calendar sync")
    assert "couldn't read your calendar" in later and "reset in the calendar's settings" in later
    shown, _ = ask(driver, fake_slack, "calendar")
    assert "The last try failed" in shown and "3 catch-ups logged" in shown
    assert len(calendar_lines(cal_runtime)) == 3
    [feed] = feed_rows(cal_runtime)
    assert feed.failing_since == clock()


def test_no_encryption_key_means_no_feed(
    make_runtime,  # type: ignore[no-untyped-def]
    sqlite_url: str,
    fake_slack: FakeSlack,
    feeds: FeedServer,
) -> None:
    runtime = make_runtime(
        sqlite_url, ALLY_ENCRYPTION_KEY="", ALLY_CALENDAR_ALLOW_HTTP_HOSTS="127.0.0.1"
    )
    app = create_app(runtime, register=[handlers.register])
    driver = SlackDriver(app, SECRET, fake=fake_slack)
    first, later = ask(driver, fake_slack, f"calendar {feeds.serve('/g.ics', google())}")
    assert "no ALLY_ENCRYPTION_KEY" in first + later
    assert feed_rows(runtime) == []
    assert feeds.hits == {}


def test_the_first_sync_reads_30_days_back_and_later_ones_since_the_last(
    driver: SlackDriver,
    fake_slack: FakeSlack,
    feeds: FeedServer,
    cal_runtime: Runtime,
    clock: FrozenClock,
) -> None:
    assert driver.command("add <@U2>").status == 200
    clock.now = clock.now + timedelta(days=20)  # 6 Dec: 30 days back is 6 Nov
    ask(driver, fake_slack, f"calendar {feeds.serve('/g.ics', google())}")
    # The 1:1 goes on weekly: of its occurrences, 18, 25 Nov and 2 Dec are within 30 days.
    assert [day for _, _, day in calendar_lines(cal_runtime)] == [
        "2026-11-18 10:00",
        "2026-11-25 10:00",
        "2026-12-02 10:00",
    ]
    clock.advance(days=7)
    _, later = ask(driver, fake_slack, "calendar sync")
    assert "logged 1 catch-up with Maria Lopez" in later
    assert calendar_lines(cal_runtime)[-1][2] == "2026-12-09 10:00"


def test_export_shows_the_feed_as_its_host_and_never_its_address(
    driver: SlackDriver, fake_slack: FakeSlack, feeds: FeedServer
) -> None:
    import json

    assert driver.command("add <@U2>").status == 200
    url = feeds.serve("/calendar/ical/ana/private-5ecret/basic.ics", google())
    ask(driver, fake_slack, f"calendar {url}")
    assert "direct message" in driver.command("export").text
    [upload] = wait_for(lambda: fake_slack.calls_to("upload"), timeout=30)
    data = json.loads(upload["content"])
    [feed] = data["calendar_feeds"]
    assert feed["host"] == "127.0.0.1" and feed["last_logged"] == 3
    assert "private-5ecret" not in upload["content"] and "fernet:" not in upload["content"]
    notes = [(i["what"], i["source"]) for i in data["interactions"] if i["source"]]
    assert notes == [("Maria / Ana 1:1", "calendar")] * 3


def test_a_feed_failing_for_7_days_is_reported_once_in_the_weekly_dm(
    driver: SlackDriver,
    fake_slack: FakeSlack,
    feeds: FeedServer,
    cal_runtime: Runtime,
    clock: FrozenClock,
) -> None:
    from bot.nudges.delivery import send_due

    assert driver.command("add <@U2>").status == 200
    ask(driver, fake_slack, f"calendar {feeds.serve('/g.ics', google())}")
    feeds.serve("/g.ics", b"", status=404)
    clock.advance(hours=5)  # Mon 16 Nov 15:00: the first failure
    ask(driver, fake_slack, "calendar sync")

    def weekly_dm(at: str) -> str:
        clock.now = clock.now.fromisoformat(at)
        before = len(fake_slack.calls_to("chat.postMessage"))
        send_due(cal_runtime, clock())
        posted = fake_slack.calls_to("chat.postMessage")[before:]
        return " ".join(str(call.params) for call in posted)

    assert "Your calendar" not in weekly_dm("2026-11-23T10:00:00+00:00")  # failing 6 days
    ask(driver, fake_slack, "calendar sync")  # still failing
    said = weekly_dm("2026-11-30T10:00:00+00:00")
    assert "*Your calendar:* I haven't been able to read it (127.0.0.1) since 16 Nov" in said
    assert "may have been reset in the calendar" in said
    assert "Your calendar" not in weekly_dm("2026-12-07T10:00:00+00:00")  # said once


def test_people_met_who_are_not_contacts_are_offered_once_in_the_weekly_dm(
    driver: SlackDriver,
    fake_slack: FakeSlack,
    feeds: FeedServer,
    cal_runtime: Runtime,
    clock: FrozenClock,
) -> None:
    from bot.nudges.delivery import send_due
    from tests.support.messages import button, press

    assert driver.command("add <@U2>").status == 200
    ask(driver, fake_slack, f"calendar {feeds.serve('/g.ics', google())}")
    # Dana is no contact: her Outlook meeting offers her, by the name the calendar gives.
    ask(driver, fake_slack, f"calendar {feeds.serve('/o.ics', outlook())}")
    clock.now = clock.now.fromisoformat("2026-11-23T10:00:00+00:00")
    send_due(cal_runtime, clock())
    [dm] = fake_slack.messages["DU1"]
    said = str(dm["blocks"])
    # Bob (a Slack user met over coffee) and Dana; not the 11 of the all-hands, not Maria.
    assert "*Met lately, not in your network yet:* Dana Lee, <@U3>." in said
    assert "person1@acme.test" not in said
    add_bob = button(dm, "calendar_add", '{"u":"U3","n":"Bob Chen"}')
    add_dana = button(dm, "calendar_add", '{"e":"dana@globex.test","n":"Dana Lee"}')
    press(driver, dm, add_bob)
    [update] = fake_slack.calls_to("chat.update")
    assert "Added <@U3> to your network" in str(update["blocks"])
    left = [b for b in update["blocks"] if b.get("block_id") == "calendar_met"]
    assert [e["value"] for e in left[0]["elements"]] == [add_dana["value"]]
    press(driver, dm, add_dana)
    with cal_runtime.sessions() as session:
        found = {c.key: c.emails for c in session.scalars(select(Contact))}
    assert found == {"U2": None, "U3": None, "~dana lee": "dana@globex.test"}
    # Offered once: next week's DM does not offer them again.
    clock.now = clock.now.fromisoformat("2026-11-30T10:00:00+00:00")
    send_due(cal_runtime, clock())
    assert "Met lately" not in str(fake_slack.messages["DU1"][-1]["blocks"])
    # Dana, added with her email, is now matched in her next meeting.
    feeds.serve("/o.ics", outlook().replace(b"20261110T1", b"20261201T1"))
    clock.now = clock.now.fromisoformat("2026-12-02T10:00:00+00:00")
    _, later = ask(driver, fake_slack, "calendar sync")
    assert "logged 1 catch-up with Dana Lee" in later


def test_the_feed_address_never_reaches_the_log(
    driver: SlackDriver,
    fake_slack: FakeSlack,
    feeds: FeedServer,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    caplog.set_level(logging.INFO)
    assert driver.command("add <@U2>").status == 200
    secret = "/calendar/ical/ana/private-0a1b2c3d4e/basic.ics"
    ask(driver, fake_slack, f"calendar {feeds.serve(secret, google())}")
    feeds.serve(secret, b"<html>", status=200)
    clock.advance(hours=5)
    ask(driver, fake_slack, "calendar sync")
    ask(driver, fake_slack, "calendar")
    assert caplog.records, "nothing was logged at all"
    assert "private-0a1b2c3d4e" not in caplog.text


def test_a_guest_is_matched_by_no_ones_slack_email(
    cal_app: App, fake_slack: FakeSlack, feeds: FeedServer, cal_runtime: Runtime, clock: FrozenClock
) -> None:
    """Slack shows guests no one's email, and neither does Ally: a guest's meetings match only
    the emails of their own imported contacts."""
    from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
    from bot.ledger.service import ContactUpdate, update_contact
    from storage.db import transaction

    fake_slack.add_user("U1", "Ana Silva", is_restricted=True)
    fake_slack.add_email("U1", "ana@acme.test")
    fake_slack.add_user("U2", "Maria Lopez")
    fake_slack.add_email("U2", "maria@acme.test")
    ana = MemberRef("T1", "U1")
    with transaction(cal_runtime.sessions) as session:
        update_contact(session, ana, SlackPerson("U2", "Maria Lopez"), ContactUpdate(), clock())
        update_contact(session, ana, OutsidePerson("Dana Lee", "Globex"), ContactUpdate(), clock())
        [dana] = session.scalars(select(Contact).where(Contact.key == "~dana lee")).all()
        dana.emails = "dana@globex.test"
    driver = SlackDriver(cal_app, SECRET, fake=fake_slack)
    _, later = ask(driver, fake_slack, f"calendar {feeds.serve('/apple.ics', apple())}")
    assert "logged 3 catch-ups with Dana Lee" in later
    assert {key for key, _, _ in calendar_lines(cal_runtime)} == {"~dana lee"}
