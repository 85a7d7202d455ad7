"""One person a week with a plan, through the real Bolt app against the fake Slack, on the app
fixtures' database (SQLite, or PostgreSQL with ALLY_TEST_BACKEND=postgres): ``/ally plan``,
Plan it from the weekly DM and Home, the reminder on the day, "did you meet?" the day after,
and Yes (with what was learned), Not yet and Skip."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from bot.nudges.delivery import Delivery
from bot.nudges.plans import PlanSender
from bot.nudges.scheduler import send_nudges
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import (
    Contact,
    Interaction,
    MeetingPlan,
    Member,
    PlanMessage,
    PlanStatus,
)
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.messages import button
from tests.support.nudge_fixtures import add_member
from tests.support.slack_requests import SlackDriver

# START is Monday 16 November 2026, 10:00 UTC; Ana (U1) is in London, nudges at 09:00.
THURSDAY = date(2026, 11, 19)


def send(runtime: Runtime, clock: FrozenClock) -> int:
    return PlanSender(runtime, web_client(runtime)).run(clock.now).sent


def plan_row(runtime: Runtime) -> MeetingPlan:
    with runtime.sessions() as session:
        plan = session.scalars(select(MeetingPlan)).one()
        session.expunge(plan)
        return plan


def dms(fake: FakeSlack) -> list[dict[str, Any]]:
    """What Ally posted in Ana's DM, oldest first."""
    return list(fake.messages.get("DU1", []))


def press(slack: SlackDriver, message: dict[str, Any], action_id: str) -> None:
    pressed = button(message, action_id)
    reply = slack.action(
        action_id,
        value=pressed.get("value"),
        extra={
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": pressed["block_id"],
                    "type": "button",
                    "value": pressed.get("value"),
                }
            ],
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": "DU1"},
            "channel": {"id": "DU1"},
            "message": {"ts": message["ts"], "text": message["text"], "blocks": message["blocks"]},
        },
    )
    assert reply.status == 200


@pytest.fixture
def ana(runtime: Runtime) -> None:
    add_member(runtime, "U1", "Europe/London", contacts=0)


def test_plan_command_reminds_on_the_day_and_asks_the_day_after(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, ana: None
) -> None:
    reply = slack.command("plan <@U2|maria> thursday coffee")
    assert "Planned: coffee with <@U2> on Thursday 19 November" in reply.text
    plan = plan_row(runtime)
    assert (plan.day, plan.what, plan.status) == (THURSDAY, "coffee", PlanStatus.PLANNED)
    assert "Thursday 19 November: coffee with <@U2>" in slack.command("plan").text

    assert send(runtime, clock) == 0  # Monday: nothing yet
    clock.now = clock.now.replace(day=19, hour=8, minute=59)  # Thursday 08:59 in London
    assert send(runtime, clock) == 0
    clock.advance(minutes=1)
    assert send(runtime, clock) == 1
    [reminder] = dms(fake_slack)
    assert reminder["text"] == "Today: coffee with Maria Lopez."
    assert "*Today: coffee with* <@U2>" in str(reminder["blocks"])
    questions = [b for b in reminder["blocks"] if "Questions to bring" in str(b)]
    assert questions and "1. " in str(questions) and "3. " in str(questions)
    clock.advance(hours=3)
    assert send(runtime, clock) == 0  # once

    clock.advance(hours=21)  # Friday 09:00
    assert send(runtime, clock) == 1
    follow_up = dms(fake_slack)[-1]
    assert follow_up["text"] == "Did you meet Maria Lopez?"  # the notification: plain text
    assert "*Did you meet* <@U2>?" in str(follow_up["blocks"])  # the message: a mention
    assert "You planned a coffee on Thursday 19 November" in str(follow_up["blocks"])
    assert send(runtime, clock) == 0
    clock.advance(days=1)
    assert send(runtime, clock) == 0  # still once, however long it waits for an answer

    # Yes: the catch-up is logged, the DM says so in place, and "what did you learn?" opens.
    press(slack, follow_up, ids.PLAN_MET)
    assert plan_row(runtime).status == PlanStatus.MET
    with runtime.sessions() as session:
        logged = session.scalars(select(Interaction)).one()
        assert (logged.kind, logged.what, logged.contact.key) == ("catch_up", "coffee", "U2")
    [update] = fake_slack.calls_to("chat.update")
    assert "You met <@U2>: logged as a catch-up" in str(update["blocks"])
    [opened] = fake_slack.calls_to("views.open")
    assert opened["view"]["callback_id"] == ids.LEARNED_MODAL

    reply = slack.submit(
        ids.LEARNED_MODAL,
        {
            "learned": {"learned": {"type": "plain_text_input", "value": "Pricing is\nregional"}},
            "next_question": {
                "next_question": {"type": "plain_text_input", "value": "Who owns EMEA?"}
            },
            "people": {"people": {"type": "multi_users_select", "selected_users": ["U3"]}},
            "outside": {"outside": {"type": "plain_text_input", "value": "Dana Lee (Acme)"}},
        },
        private_metadata=opened["view"]["private_metadata"],
    )
    assert reply.status == 200 and reply.json["response_action"] == "update"
    assert "<@U3>, *Dana Lee (Acme)* joined your network" in str(reply.json["view"])
    plan = plan_row(runtime)
    assert (plan.learned, plan.next_question) == ("Pricing is\nregional", "Who owns EMEA?")
    with runtime.sessions() as session:
        intros = session.scalars(
            select(Contact.key).join(Interaction, Interaction.related_contact_id == Contact.id)
        ).all()
    assert sorted(intros) == ["U3", "~dana lee"]  # "who else should I talk to?" as intros
    assert send(runtime, clock) == 0


def test_a_tokyo_members_plan_is_reminded_at_nine_in_tokyo_not_in_utc(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    # Bob (U3) is in Tokyo, UTC+9: his 09:00 on Thursday is 00:00 UTC that same Thursday.
    add_member(runtime, "U3", "Asia/Tokyo", contacts=0)
    slack.command("plan <@U2|maria> thursday coffee", user="U3")
    assert plan_row(runtime).day == THURSDAY
    clock.now = clock.now.replace(day=18, hour=23, minute=59)  # Thursday 08:59 in Tokyo
    assert send(runtime, clock) == 0
    clock.advance(minutes=1)  # Thursday 09:00 in Tokyo, still Thursday 00:00 in UTC
    assert send(runtime, clock) == 1
    [reminder] = fake_slack.messages["DU3"]
    assert reminder["text"] == "Today: coffee with Maria Lopez."
    clock.advance(hours=23, minutes=59)  # Friday 08:59 in Tokyo
    assert send(runtime, clock) == 0
    clock.advance(minutes=1)  # Friday 09:00 in Tokyo: "did you meet?"
    assert send(runtime, clock) == 1
    assert fake_slack.messages["DU3"][-1]["text"] == "Did you meet Maria Lopez?"


def test_not_yet_moves_the_plan_and_skip_drops_it(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, ana: None
) -> None:
    slack.command('plan "Dana Lee (Acme)" tomorrow ask for advice')
    clock.advance(days=2)  # Wednesday 10:00: the reminder's day has gone, the follow-up is due
    assert send(runtime, clock) == 1
    [follow_up] = dms(fake_slack)
    press(slack, follow_up, ids.PLAN_NOT_YET)
    assert plan_row(runtime).day == date(2026, 11, 25)  # a week on from today
    assert "Moved to Wednesday 25 November" in str(fake_slack.calls_to("chat.update")[0])
    assert send(runtime, clock) == 0  # nothing until the new day
    clock.advance(days=7)
    assert send(runtime, clock) == 1  # the moved plan's reminder
    assert dms(fake_slack)[-1]["text"] == "Today: ask for advice with Dana Lee (Acme)."
    clock.advance(days=1)
    assert send(runtime, clock) == 1
    press(slack, dms(fake_slack)[-1], ids.PLAN_SKIP)
    assert plan_row(runtime).status == PlanStatus.SKIPPED
    clock.advance(days=1)
    assert send(runtime, clock) == 0
    with runtime.sessions() as session:
        assert session.scalars(select(Interaction)).all() == []  # skipped: nothing logged
        steps = session.scalars(select(PlanMessage.step).order_by(PlanMessage.id)).all()
    assert steps == ["follow_up", "reminder", "follow_up"]


def test_an_answer_twice_is_refused_kindly(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, ana: None
) -> None:
    slack.command("plan <@U2> today")
    clock.advance(days=1)
    send(runtime, clock)
    follow_up = dms(fake_slack)[-1]
    press(slack, follow_up, ids.PLAN_SKIP)
    press(slack, follow_up, ids.PLAN_MET)
    assert "You already answered this one (you skipped it)" in str(
        fake_slack.calls_to("chat.update")[-1]
    )
    with runtime.sessions() as session:
        assert session.scalars(select(Interaction)).all() == []


def test_plan_it_from_the_weekly_dm_opens_the_form_and_plans(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London", contacts=2)
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    [dm] = dms(fake_slack)
    pressed = button(dm, ids.PLAN_IT)
    slack.action(ids.PLAN_IT, value=pressed["value"])
    [opened] = fake_slack.calls_to("views.open")
    view = opened["view"]
    assert view["callback_id"] == ids.PLAN_MODAL and view["title"]["text"] == "Plan it"
    options = [o["value"] for b in view["blocks"] for o in b.get("element", {}).get("options", [])]
    assert options == [
        "catch-up",
        "coffee",
        "ask for advice",
        "offer help",
        "informational interview",
        "other",
    ]

    def submit(day: str, what: str, other: str = "") -> dict[str, Any]:
        return slack.submit(
            ids.PLAN_MODAL,
            {
                "when": {"when": {"type": "datepicker", "selected_date": day}},
                "what": {"what": {"type": "static_select", "selected_option": {"value": what}}},
                "other": {"other": {"type": "plain_text_input", "value": other}},
            },
            private_metadata=view["private_metadata"],
        ).json

    assert submit("2026-11-01", "coffee")["errors"] == {
        "when": "That day has passed: pick today or a day ahead."
    }
    assert "errors" in submit("2026-11-20", "other")
    done = submit("2026-11-20", "other", "walk to the café")
    assert done["response_action"] == "update"
    plan = plan_row(runtime)
    assert (plan.day, plan.what) == (date(2026, 11, 20), "walk to the café")


def test_plan_it_on_home_is_this_weeks_person(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, ana: None
) -> None:
    slack.command('add "Dana Lee (Acme)" strategic above')
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    view = fake_slack.calls_to("views.publish")[-1]["view"]
    [plan_it] = [
        e
        for b in view["blocks"]
        if b.get("block_id") == "home_this_week"
        for e in b["elements"]
        if e["action_id"] == ids.PLAN_IT
    ]
    assert plan_it["value"] == "~dana lee"


def test_plan_input_gets_friendly_replies(slack: SlackDriver, runtime: Runtime, ana: None) -> None:
    assert "Say when" in slack.command("plan <@U2>").text
    assert "can't read `someday`" in slack.command("plan <@U2> someday").text
    assert "That day has passed" in slack.command("plan <@U2> 2026-01-01").text
    assert "within the next 90 days" in slack.command("plan <@U2> 2027-06-01").text
    assert "can't read `2026-02-30`" in slack.command("plan <@U2> 2026-02-30").text
    assert "That's you" in slack.command("plan <@U1> tomorrow").text
    assert "Name someone" in slack.command("plan tomorrow").text
    with runtime.sessions() as session:
        assert session.scalars(select(MeetingPlan)).all() == []
    # Planning the same person again moves the plan rather than adding one.
    slack.command("plan <@U2> tomorrow")
    assert "Moved your plan" in slack.command("plan <@U2> in 2 weeks offer help").text
    assert plan_row(runtime).day == date(2026, 11, 30)


def test_paused_or_off_members_get_no_plan_messages(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, ana: None
) -> None:
    slack.command("plan <@U2> tomorrow")
    with transaction(runtime.sessions) as session:
        member = session.scalars(select(Member)).one()
        member.nudges_paused_until = date(2026, 11, 19)
    clock.advance(days=1)
    assert send(runtime, clock) == 0  # paused on the day
    clock.advance(days=2)  # Thursday: the pause is over, the follow-up goes
    assert send(runtime, clock) == 1
    slack.command("plan <@U3> tomorrow")
    slack.command("nudges off")
    clock.advance(days=1)
    assert send(runtime, clock) == 0
    assert len(dms(fake_slack)) == 1


def test_the_scheduler_job_sends_plan_messages_after_the_weekly_dm(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, ana: None
) -> None:
    slack.command("plan <@U2> today coffee")
    send_nudges(runtime)  # the job the scheduler runs every few minutes
    texts = [m["text"] for m in dms(fake_slack)]
    assert texts[-1] == "Today: coffee with Maria Lopez."
    assert texts[0].startswith("Your weekly Ally nudge")  # the weekly DM went first
    send_nudges(runtime)
    assert [m["text"] for m in dms(fake_slack)] == texts
