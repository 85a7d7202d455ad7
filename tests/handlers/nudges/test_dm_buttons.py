"""Each button in the weekly DM does what it says and rewrites the DM in place (chat.update)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.ledger.people import SlackPerson
from bot.nudges.delivery import Delivery
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.models import Contact, Interaction, InteractionKind, Member, Nudge
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.messages import button, press
from tests.support.nudge_fixtures import add_favour, add_member
from tests.support.slack_requests import SlackDriver


@pytest.fixture
def dm(runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock) -> dict[str, Any]:
    """U1's weekly DM, really sent through delivery, as the fake Slack received it."""
    add_member(runtime, "U1", "Europe/London", contacts=2)
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    [message] = fake_slack.messages["DU1"]
    return message


def the_update(fake: FakeSlack, message: dict[str, Any], block_id: str) -> str:
    """The one chat.update of this DM; returns the text that replaced ``block_id``."""
    [update] = fake.calls_to("chat.update")
    assert (update["channel"], update["ts"]) == ("DU1", message["ts"])
    blocks = update["blocks"]
    assert len(blocks) == len(message["blocks"])
    [replaced] = [b for b in blocks if b.get("block_id") == block_id]
    assert replaced["type"] == "context"
    # Everything else in the DM is left as it was.
    assert [b for b in blocks if b.get("block_id") != block_id] == [
        b for b in message["blocks"] if b.get("block_id") != block_id
    ]
    return replaced["elements"][0]["text"]


def contact(runtime: Runtime, key: str) -> Contact:
    with runtime.sessions() as session:
        return session.scalars(select(Contact).where(Contact.key == key)).one()


def test_log_a_catch_up(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, dm: dict, clock: FrozenClock
) -> None:
    pressed = button(dm, "nudge_log_catch_up", "~contact 1")
    press(slack, dm, pressed)
    assert contact(runtime, "~contact 1").last_touch_at == clock.now
    with runtime.sessions() as session:
        kinds = session.scalars(select(Interaction.kind)).all()
    assert kinds.count(InteractionKind.CATCH_UP) == 1
    text = the_update(fake_slack, dm, pressed["block_id"])
    assert "Logged a catch-up with *Contact 1 (Acme)* today" in text
    # Then the snowball: who else should the member talk to?
    follow_up = fake_slack.calls_to("chat.postMessage")[-1]
    assert follow_up["channel"] == "DU1"
    assert follow_up["text"] == "Who else should I talk to?"
    [ask] = [e for b in follow_up["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (ask["action_id"], ask["value"]) == ("ask_referrals", "~contact 1")


def test_snooze_a_contact_two_weeks(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, dm: dict
) -> None:
    pressed = button(dm, "nudge_snooze", "~contact 0")
    press(slack, dm, pressed)
    assert contact(runtime, "~contact 0").snoozed_until == date(2026, 11, 30)
    text = the_update(fake_slack, dm, pressed["block_id"])
    assert "Snoozed *Contact 0 (Acme)* until Monday 30 November" in text


def test_pause_the_nudges_two_weeks(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, dm: dict
) -> None:
    pressed = button(dm, "nudge_snooze", block_id="nudge_footer")
    assert not pressed.get("value")
    press(slack, dm, pressed)
    with runtime.sessions() as session:
        paused = session.scalars(select(Member.nudges_paused_until)).one()
    assert paused == date(2026, 11, 30)
    assert "Nudges paused until Monday 30 November" in the_update(fake_slack, dm, "nudge_footer")


def test_done_for_this_week_puts_the_buttons_away(
    slack: SlackDriver, fake_slack: FakeSlack, dm: dict
) -> None:
    pressed = button(dm, "nudge_not_now")
    assert pressed["text"]["text"] == "Done for this week"
    assert any(b["type"] == "actions" and b["block_id"] != "nudge_footer" for b in dm["blocks"])
    press(slack, dm, pressed)
    [update] = fake_slack.calls_to("chat.update")
    # Every button block is gone; the footer's says what was done; the rest stays.
    [done] = [b for b in update["blocks"] if b.get("block_id") == "nudge_footer"]
    text = done["elements"][0]["text"]
    assert "Done for this week: I've put this DM's buttons away." in text
    assert "Next one: Monday 23 November at 09:00" in text
    assert [b for b in update["blocks"] if b["type"] == "actions"] == []
    kept = [b for b in dm["blocks"] if b["type"] != "actions"]
    assert [b for b in update["blocks"] if b is not done] == kept


def test_settings_opens_the_settings_form(
    slack: SlackDriver, fake_slack: FakeSlack, dm: dict
) -> None:
    pressed = button(dm, "nudge_settings")
    assert pressed["text"]["text"] == "Settings…"
    press(slack, dm, pressed)
    [opened] = fake_slack.calls_to("views.open")
    assert opened["view"]["callback_id"] == "settings_modal"
    assert "Mondays at 09:00 (Europe/London" in str(opened["view"]["blocks"])
    assert fake_slack.calls_to("chat.update") == []


def test_gratitude_offers_the_ledgers_say_thanks_button(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    ref = add_member(runtime, "U1", "Europe/London", contacts=0)
    add_favour(runtime, ref, SlackPerson("U2", "Maria Lopez"), clock.now - timedelta(days=2))
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    [message] = fake_slack.messages["DU1"]
    with runtime.sessions() as session:
        favour_id = session.scalars(select(Interaction.id)).one()
    thanks = button(message, "say_thanks")
    # Maria, thanked, is also this week's person: her one row of buttons holds Say thanks.
    maria = contact(runtime, "U2").id
    assert thanks["value"] == str(favour_id) and thanks["block_id"] == f"person:{maria}"
    assert "<@U2>" in str(message["blocks"]) and "Maria Lopez" not in str(message["blocks"])


def test_a_contact_removed_since_says_so_in_place(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, dm: dict
) -> None:
    pressed = button(dm, "nudge_log_catch_up", "~contact 1")
    with runtime.sessions() as session, session.begin():
        session.delete(session.scalars(select(Contact).where(Contact.key == "~contact 1")).one())
    press(slack, dm, pressed)
    assert "no longer in your network" in the_update(fake_slack, dm, pressed["block_id"])
    assert all(
        "ask_referrals" not in str(call.params) for call in fake_slack.calls_to("chat.postMessage")
    )


def test_settings_from_the_home_tab_opens_the_form(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    assert slack.action("nudge_settings", user="U2").status == 200
    # Maria is new to Ally: the form opens at once with what is on record (UTC), then shows
    # her Slack time zone once users.info has answered.
    [opened] = fake_slack.calls_to("views.open")
    assert "Mondays at 09:00 (UTC" in str(opened["view"]["blocks"])
    [updated] = fake_slack.calls_to("views.update")
    assert updated["view_id"] and updated["view"]["callback_id"] == "settings_modal"
    assert "Mondays at 09:00 (America/New_York" in str(updated["view"]["blocks"])
    # When Slack will not open it, the settings come as a message instead.
    fake_slack.fail("views.open", status=200, error="expired_trigger_id", retry_after=None)
    assert slack.action("nudge_settings", user="U2").status == 200
    [dm] = fake_slack.calls_to("chat.postMessage")
    assert "Mondays at 09:00 (America/New_York" in dm["text"]


def test_settings_opens_within_the_trigger_window_when_users_info_is_rate_limited(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    # Bob's zone was last looked at long ago, and Slack holds users.info back for a minute.
    add_member(runtime, "U3", "Europe/London", checked=False)
    fake_slack.fail("users.info", status=429, retry_after=63)
    assert slack.action("nudge_settings", user="U3").status == 200
    # The form opened with what was on record, within the trigger's 3 seconds (the fake
    # answers expired_trigger_id after them, counting the 63 seconds waited out).
    [opened] = fake_slack.calls_to("views.open")
    assert opened["trigger_id"] == slack.last_trigger in fake_slack.exchanged
    assert "Mondays at 09:00 (Europe/London" in str(opened["view"]["blocks"])
    assert fake_slack.calls_to("chat.postMessage") == []  # no "didn't open" message
    # After the wait, users.info answered: the open form shows Tokyo, and Ally keeps it.
    assert len(fake_slack.calls_to("users.info")) == 2
    [updated] = fake_slack.calls_to("views.update")
    assert "Mondays at 09:00 (Asia/Tokyo" in str(updated["view"]["blocks"])
    with runtime.sessions() as session:
        bob = session.scalars(select(Member).where(Member.user_id == "U3")).one()
        assert bob.tz == "Asia/Tokyo"


def test_keep_this_weeks_person_next_week(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, dm: dict, clock: FrozenClock
) -> None:
    pressed = button(dm, "nudge_keep_person", "~contact 1")
    assert pressed["block_id"] == f"person:{contact(runtime, '~contact 1').id}"
    assert pressed["text"]["text"] == "Keep for next week"
    press(slack, dm, pressed)
    text = the_update(fake_slack, dm, pressed["block_id"])
    assert "*Contact 1 (Acme)* stays your person next week too" in text
    with runtime.sessions() as session:
        assert session.scalars(select(Nudge.keep_person)).one() is True
    # Next week's DM names them again (without the wish, it never would: see test_nudge_content).
    clock.advance(days=7)
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    later = fake_slack.messages["DU1"][-1]
    assert button(later, "nudge_keep_person")["value"] == "~contact 1"


def test_keep_from_an_older_dm_says_it_is_too_late(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, dm: dict, clock: FrozenClock
) -> None:
    clock.advance(days=7)
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    pressed = button(dm, "nudge_keep_person", "~contact 1")
    press(slack, dm, pressed)
    text = the_update(fake_slack, dm, pressed["block_id"])
    assert "A newer nudge has gone out since" in text
    with runtime.sessions() as session:
        assert not any(session.scalars(select(Nudge.keep_person)).all())


def test_say_thanks_from_the_dm_thanks_the_ally_and_updates_the_dm_in_place(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    ref = add_member(runtime, "U1", "Europe/London", contacts=0)
    add_favour(runtime, ref, SlackPerson("U2", "Maria Lopez"), clock.now - timedelta(days=2))
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    [message] = fake_slack.messages["DU1"]
    pressed = button(message, "say_thanks")
    press(slack, message, pressed)
    [opened] = fake_slack.calls_to("views.open")
    metadata = opened["view"]["private_metadata"]
    assert metadata == f"{pressed['value']} DU1 {message['ts']}"
    assert len(metadata) <= 3000

    reply = slack.submit(
        "say_thanks_modal",
        {"message": {"message": {"type": "plain_text_input", "value": "You saved my week!"}}},
        private_metadata=metadata,
    )
    assert reply.status == 200 and reply.json["response_action"] == "update"
    [thank_you] = fake_slack.messages["DU2"]
    assert thank_you["text"] == "<@U1> wanted to say thanks for reviewed my plan"
    assert "> You saved my week!" in str(thank_you["blocks"])
    with runtime.sessions() as session:
        favour = session.get(Interaction, int(pressed["value"]))
        assert favour is not None and favour.thanked_at == clock.now
    text = the_update(fake_slack, message, pressed["block_id"])
    assert text == ":white_check_mark: Thanked <@U2>."
