"""The **Record who helped you** modal end to end: ``/ally log`` and the ``open_log_modal``
button open it (views.open against the fake Slack), a submission is validated into field errors
or written through bot/ledger/service.py and confirmed to the member."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from slack_bolt import App

import handlers
from bot.errors import NotFound
from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.ledger.service import contact_card
from bot.platform.app import create_app
from bot.platform.runtime import Runtime
from storage.models import InteractionKind, Network
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.modals import (
    ANA,
    element,
    history_with,
    log_values,
    open_and_metadata,
    opened_view,
    read,
    wait_for_calls,
)
from tests.support.settings import SECRET
from tests.support.slack_requests import TEAM, SlackDriver
from tests.support.waiting import wait_until_on_home

# -- opening ----------------------------------------------------------------------------------


def test_ally_log_opens_the_modal_with_today_in_the_members_zone(
    slack: SlackDriver, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    # 20:00 UTC on Monday is already Tuesday in Tokyo (Bob, U3) but still Monday in London.
    clock.advance(hours=10)
    reply = slack.command("log", user="U3", trigger_id="trig-bob")
    assert reply.status == 200 and reply.body == ""
    view = opened_view(fake_slack, "trig-bob")
    assert view["callback_id"] == "log_favour_modal"
    assert view["title"]["text"] == "Record who helped you"
    assert element(view, "when")["initial_date"] == "2026-11-17"
    assert len(view["private_metadata"]) <= 3000

    slack.command("log", user="U1", trigger_id="trig-ana")
    assert element(opened_view(fake_slack, "trig-ana"), "when")["initial_date"] == "2026-11-16"


def test_ally_log_prefills_a_mention_or_an_outside_name_and_the_words(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    slack.command("log <@U2|maria> reviewed my plan", trigger_id="trig-a")
    view = opened_view(fake_slack, "trig-a")
    assert element(view, "who_user")["initial_user"] == "U2"
    assert element(view, "what")["initial_value"] == "reviewed my plan"

    slack.command('log "Dana Lee (Acme)"', trigger_id="trig-b")
    view = opened_view(fake_slack, "trig-b")
    assert element(view, "who_name")["initial_value"] == "Dana Lee (Acme)"
    assert "initial_user" not in element(view, "who_user")


def test_the_help_card_button_opens_the_modal(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    reply = slack.action("open_log_modal", extra={"channel": {"id": "C7"}})
    assert reply.status == 200
    view = opened_view(fake_slack, slack.last_trigger)
    assert view["callback_id"] == "log_favour_modal"
    assert '"channel":"C7"' in view["private_metadata"]

    # From the Home tab there is no channel: the confirmation will be a DM.
    slack.action("open_log_modal", extra={"trigger_id": "trig-home"})
    assert "channel" not in opened_view(fake_slack, "trig-home")["private_metadata"]


def test_a_failed_views_open_is_explained_not_dropped(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("views.open", status=200, error="expired_trigger_id", retry_after=None)
    reply = slack.command("log")
    assert reply.status == 200
    assert "try `/ally log` again" in reply.text


def test_a_rate_limited_time_zone_lookup_does_not_hold_the_modal_back(
    slack: SlackDriver, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    clock.advance(hours=10)  # Tuesday in Tokyo, Monday in UTC
    fake_slack.fail("users.info", status=429, retry_after=30)
    slack.command("log", user="U3", trigger_id="trig-429")
    # One try, no 30-second wait: the form opens on UTC's date instead of Tokyo's.
    assert len(fake_slack.calls_to("users.info")) == 1
    assert element(opened_view(fake_slack, "trig-429"), "when")["initial_date"] == "2026-11-16"


@pytest.mark.parametrize("entry", ["command", "button", "shortcut", "message_shortcut"])
def test_views_open_reaches_slack_well_inside_the_trigger_window(
    entry: str, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    """Not a benchmark: views.open must happen while the request is handled, not later."""
    received: dict[str, float] = {}

    def on_open(params: dict[str, Any]) -> dict[str, Any]:
        received.setdefault(params["trigger_id"], time.monotonic())
        return fake_slack._view(params)

    fake_slack.on("views.open", on_open)
    start = time.monotonic()
    if entry == "command":
        slack.command("log", trigger_id="trig-window")
    elif entry == "button":
        slack.action("open_log_modal", extra={"trigger_id": "trig-window"})
    elif entry == "shortcut":
        slack.shortcut("log_favour", trigger_id="trig-window")
    else:
        message = {"user": "U2", "ts": "1700000001.000100", "text": "the deck"}
        slack.message_shortcut("log_message_favour", message, trigger_id="trig-window")
    answered = time.monotonic()
    assert "trig-window" in received, "views.open was not called with the request's trigger_id"
    # Called before Bolt answered Slack, and well inside the 3 seconds the trigger_id lives.
    assert start <= received["trig-window"] <= answered
    assert received["trig-window"] - start < 1.5


# -- valid submissions ------------------------------------------------------------------------


def test_a_favour_received_is_saved_and_confirmed_where_the_member_was(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, app: App
) -> None:
    metadata = open_and_metadata(slack, fake_slack)
    values = log_values(who_user="U2", what="reviewed my launch plan", networks=("operational",))
    reply = slack.submit("log_favour_modal", values, private_metadata=metadata)
    assert reply.status == 200 and reply.body == ""

    seen = history_with(runtime, SlackPerson("U2"))
    assert [(line.kind, line.what) for line in seen.received] == [
        (InteractionKind.FAVOUR_RECEIVED, "reviewed my launch plan")
    ]
    assert seen.contact.name == "Maria Lopez"
    assert seen.contact.networks == Network.OPERATIONAL
    assert seen.balance == -1
    assert "reviewed my launch plan" in slack.command("who <@U2>").text

    (notice,) = wait_for_calls(fake_slack, "chat.postEphemeral")
    assert notice["channel"] == "C1" and notice["user"] == "U1"
    assert "Saved: <@U2> helped you" in notice["text"]
    assert "reviewed my launch plan" in notice["text"]
    assert "say_thanks" in str(notice["blocks"])
    assert fake_slack.calls_to("chat.postMessage") == []
    # Recorded from a channel by a member who has not entered Home: nothing to republish, they
    # get a fresh Home when they next open it.
    app.listener_runner.listener_executor.shutdown(wait=True)
    assert fake_slack.calls_to("views.publish") == []


def test_a_favour_recorded_from_homes_button_republishes_home(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    home = {"id": "VHOME", "type": "home"}
    reply = slack.action(
        "open_log_modal", extra={"view": home, "container": {"type": "view", "view_id": "VHOME"}}
    )
    assert reply.status == 200
    metadata = opened_view(fake_slack, slack.last_trigger)["private_metadata"]
    wait_until_on_home(runtime, ANA)
    clock.advance(minutes=5)  # filling in the form
    values = log_values(who_user="U2", what="reviewed my launch plan")
    assert slack.submit("log_favour_modal", values, private_metadata=metadata).body == ""

    (published,) = wait_for_calls(fake_slack, "views.publish")
    assert published["user_id"] == "U1"
    assert "reviewed my launch plan" in json.dumps(published["view"])


def test_a_favour_given_to_an_outside_person_on_an_earlier_day(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    metadata = open_and_metadata(slack, fake_slack)
    values = log_values(
        who_name="Dana Lee (Acme)", direction="i_helped", what="intro to our CFO", day="2026-11-10"
    )
    assert slack.submit("log_favour_modal", values, private_metadata=metadata).body == ""

    seen = history_with(runtime, OutsidePerson("Dana Lee"))
    (line,) = seen.given
    assert line.what == "intro to our CFO"
    assert line.occurred_at.date() == date(2026, 11, 10)
    assert seen.contact.organisation == "Acme"
    assert seen.balance == 1
    (notice,) = wait_for_calls(fake_slack, "chat.postEphemeral")
    assert "you helped Dana Lee (Acme)" in notice["text"]


def test_an_introduction_places_the_new_person_met_through_the_introducer(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    metadata = open_and_metadata(slack, fake_slack)
    values = log_values(
        who_user="U2",
        direction="introduced_me",
        with_name="Sam Roe (Globex)",
        networks=("strategic",),
    )
    assert slack.submit("log_favour_modal", values, private_metadata=metadata).body == ""

    by_maria = history_with(runtime, SlackPerson("U2"))
    (intro,) = by_maria.intros
    assert intro.kind == InteractionKind.INTRO_RECEIVED
    assert intro.related == "Sam Roe (Globex)"
    assert "introduced you to Sam Roe (Globex)" in slack.command("who <@U2>").text
    card = read(runtime, lambda s: contact_card(s, ANA, "~sam roe", runtime.clock()))
    assert (card.met_through, card.met_through_user) == ("Maria Lopez", "U2")
    assert card.networks == Network.STRATEGIC
    (notice,) = wait_for_calls(fake_slack, "chat.postEphemeral")
    assert "introduced you to Sam Roe (Globex)" in notice["text"]
    assert "open_contact_modal" in str(notice["blocks"])


def test_today_is_the_members_local_day_not_utcs(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    # Monday 20:00 UTC: Tuesday in Tokyo, so Bob (U3) may log "Tuesday", while UTC is Monday.
    clock.advance(hours=10)
    metadata = open_and_metadata(slack, fake_slack, user="U3")
    values = log_values(who_user="U4", what="covered my on-call", day="2026-11-17")
    assert slack.submit("log_favour_modal", values, user="U3", private_metadata=metadata).body == ""
    bob = MemberRef(team_id=TEAM, user_id="U3")
    (line,) = history_with(runtime, SlackPerson("U4"), bob).received
    assert line.occurred_at == clock.now

    # Monday 22:00 in New York is Tuesday 03:00 UTC: Tuesday is still the future for Maria.
    clock.advance(hours=7)
    metadata = open_and_metadata(slack, fake_slack, user="U2")
    values = log_values(who_user="U4", what="covered my on-call", day="2026-11-17")
    reply = slack.submit("log_favour_modal", values, user="U2", private_metadata=metadata)
    assert reply.json["response_action"] == "errors"
    assert "future" in reply.json["errors"]["when"]


# -- invalid submissions: field errors, nothing written ----------------------------------------

INVALID = [
    pytest.param(dict(who_user="U1", what="x"), "who_user", "That's you", id="self"),
    pytest.param(dict(who_user="U2", what=""), "what", "Say what happened", id="empty-what"),
    pytest.param(dict(who_user="U2", what="x" * 1001), "what", "1001 characters", id="long-what"),
    pytest.param(dict(who_user="U2", what="x", day="2026-11-17"), "when", "future", id="future"),
    pytest.param(
        dict(who_user="U2", what="x", day="17/11/2026"), "when", "calendar", id="bad-date"
    ),
    pytest.param(dict(what="x"), "who_user", "Pick someone", id="nobody"),
    pytest.param(
        dict(who_user="U2", who_name="Dana Lee", what="x"), "who_name", "keep just one", id="both"
    ),
    pytest.param(
        dict(who_user="U2", direction="introduced_me"),
        "with_user",
        "Whom did they",
        id="intro-alone",
    ),
    pytest.param(
        dict(who_user="U2", direction="introduced_me", with_user="U3", with_name="Sam Roe"),
        "with_name",
        "keep just one",
        id="intro-both",
    ),
    pytest.param(
        dict(who_user="U2", direction="introduced_me", with_user="U2"),
        "with_user",
        "two different people",
        id="intro-same",
    ),
    pytest.param(
        dict(who_user="U2", direction="introduced_me", with_user="U1"),
        "with_user",
        "That's you",
        id="intro-to-self",
    ),
    pytest.param(
        dict(who_user="U2", what="x", with_name="Sam Roe"),
        "with_name",
        "only for intro",
        id="stray-with",
    ),
    pytest.param(dict(who_user="UBOTX", what="x"), "who_user", "is a bot", id="bot"),
    pytest.param(dict(who_user="UGONE", what="x"), "who_user", "deactivated", id="deactivated"),
    pytest.param(dict(who_user="UNOBODY", what="x"), "who_user", "can't find", id="unknown-user"),
    pytest.param(dict(who_name="<@U2>", what="x"), "who_name", "slack link", id="link-name"),
    pytest.param(dict(who_name="D" * 201, what="x"), "who_name", "too long", id="long-name"),
    pytest.param(
        dict(who_user="U2", direction="sideways", what="x"),
        "direction",
        "which way",
        id="direction",
    ),
    pytest.param(
        dict(who_user="U2", what="x", networks=("social",)), "networks", "list", id="network"
    ),
]


@pytest.mark.parametrize(("fields", "block", "message"), INVALID)
def test_invalid_input_comes_back_as_a_field_error(
    fields: dict[str, Any],
    block: str,
    message: str,
    slack: SlackDriver,
    fake_slack: FakeSlack,
    runtime: Runtime,
) -> None:
    metadata = open_and_metadata(slack, fake_slack)
    reply = slack.submit("log_favour_modal", log_values(**fields), private_metadata=metadata)
    assert reply.status == 200
    assert reply.json["response_action"] == "errors"
    assert block in reply.json["errors"], reply.json
    assert message.casefold() in reply.json["errors"][block].casefold()
    for person in (SlackPerson("U2"), SlackPerson("U1"), OutsidePerson("Dana Lee")):
        with pytest.raises(NotFound):
            history_with(runtime, person)
    assert fake_slack.calls_to("chat.postEphemeral") == []
    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_slack_outage_while_checking_the_person_keeps_the_form_open(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    metadata = open_and_metadata(slack, fake_slack)
    fake_slack.fail("users.info", status=200, error="fatal_error", retry_after=None)
    reply = slack.submit(
        "log_favour_modal", log_values(who_user="U2", what="x"), private_metadata=metadata
    )
    assert reply.json["response_action"] == "errors"
    assert "press Save again" in reply.json["errors"]["who_user"]
    # Pressing Save again works.
    assert (
        slack.submit(
            "log_favour_modal", log_values(who_user="U2", what="x"), private_metadata=metadata
        ).body
        == ""
    )
    assert len(history_with(runtime, SlackPerson("U2")).received) == 1


def test_a_confirmation_that_cannot_be_ephemeral_arrives_as_a_dm(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    metadata = open_and_metadata(slack, fake_slack)
    fake_slack.fail("chat.postEphemeral", status=200, error="channel_not_found", retry_after=None)
    values = log_values(who_user="U2", what="lent me a hand")
    assert slack.submit("log_favour_modal", values, private_metadata=metadata).body == ""
    (dm,) = wait_for_calls(fake_slack, "chat.postMessage")
    assert dm["channel"] == "DU1"
    assert "lent me a hand" in dm["text"]


# -- on SQLite and PostgreSQL -----------------------------------------------------------------


@pytest.fixture
def on_db(db_runtime: Runtime, fake_slack: FakeSlack) -> tuple[SlackDriver, Runtime]:
    """The real app on each database (the ``slack`` fixture runs on SQLite only)."""
    app = create_app(db_runtime, register=[handlers.register])
    return SlackDriver(app, SECRET, fake=fake_slack), db_runtime


def test_forms_write_the_same_ledger_on_every_database(
    on_db: tuple[SlackDriver, Runtime], fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    slack, runtime = on_db
    clock.advance(hours=10)  # Tuesday already in Tokyo
    message = {"user": "U2", "ts": "1700000001.000100", "text": "the deck"}
    slack.message_shortcut("log_message_favour", message, user="U3", trigger_id="trig-db")
    metadata = opened_view(fake_slack, "trig-db")["private_metadata"]
    values = log_values(who_user="U2", what="sent the deck", day="2026-11-17")
    assert slack.submit("log_favour_modal", values, user="U3", private_metadata=metadata).body == ""
    values = log_values(
        who_user="U2", direction="introduced_me", with_name="Sam Roe (Globex)", day="2026-11-12"
    )
    assert slack.submit("log_favour_modal", values, user="U3", private_metadata=metadata).body == ""

    bob = MemberRef(team_id=TEAM, user_id="U3")
    seen = history_with(runtime, SlackPerson("U2"), bob)
    (favour,) = seen.received
    assert favour.occurred_at == clock.now
    assert favour.message_link == "https://acme.slack.com/archives/C1/p1700000001000100"
    (intro,) = seen.intros
    # Noon in Tokyo on the chosen day.
    assert intro.occurred_at == datetime(2026, 11, 12, 3, tzinfo=UTC)
    assert intro.related == "Sam Roe (Globex)"
    # Nobody else sees Bob's ledger.
    with pytest.raises(NotFound):
        history_with(runtime, SlackPerson("U2"), ANA)
