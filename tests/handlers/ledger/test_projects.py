"""``/ally project``: project alliances through the real Bolt app against the fake Slack, on
the app fixtures' database (SQLite, or PostgreSQL with ALLY_TEST_BACKEND=postgres): started,
listed with who is met, closed; shown on Home with days left; first in the weekly DM."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.nudges.delivery import Delivery
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Bond, Contact, Project, ProjectAlly
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.nudge_fixtures import add_member
from tests.support.slack_requests import SlackDriver
from tests.support.waiting import wait_for


def test_start_list_meet_and_close_a_project(
    slack: SlackDriver, runtime: Runtime, clock: FrozenClock
) -> None:
    # The name as typed; Slack sends it escaped, and shows mrkdwn's &amp; &lt; &gt; as & < >.
    reply = slack.command('project "Q3 <launch> & co" <@U2|maria> <@U3> "Dana Lee (Acme)"')
    assert reply.status == 200 and reply.json["response_type"] == "ephemeral"
    assert "Started *Q3 &lt;launch&gt; &amp; co*" in reply.text
    assert "30 days left" in reply.text and "Dana Lee (Acme)" in reply.text
    with transaction(runtime.sessions) as session:
        allies = session.scalars(select(Contact).join(ProjectAlly).order_by(ProjectAlly.id)).all()
        assert [c.key for c in allies] == ["U2", "U3", "~dana lee"]
        assert {c.bond for c in allies} == {Bond.ALLIANCE.value}

    clock.advance(days=3)
    slack.command("met <@U2> talked through the launch plan")
    listed = slack.command("project").text
    assert "*Q3 &lt;launch&gt; &amp; co* (27 days left)" in listed
    assert "<launch>" not in listed
    assert ":white_check_mark: <@U2>" in listed
    assert ":hourglass_flowing_sand: <@U3>" in listed

    with transaction(runtime.sessions) as session:
        assert session.scalars(select(Project.name)).one() == "Q3 <launch> & co"
    closed = slack.command('project done "q3 <LAUNCH> & CO"').text
    assert "Closed *Q3 &lt;launch&gt; &amp; co*: you met 1 of its 3 allies" in closed
    assert "No active projects" in slack.command("project").text
    with transaction(runtime.sessions) as session:
        assert session.scalars(select(Project.done_at)).one() == clock.now


def test_a_catch_up_before_the_project_started_does_not_count(
    slack: SlackDriver, clock: FrozenClock
) -> None:
    slack.command("met <@U2> coffee")
    clock.advance(days=1)
    slack.command('project "Hiring plan" <@U2>')
    assert ":hourglass_flowing_sand: <@U2>" in slack.command("project").text


def test_project_input_gets_friendly_replies(slack: SlackDriver, runtime: Runtime) -> None:
    too_many = slack.command('project "Big" <@U2> <@U3> <@U4> "Dana Lee"').text
    assert "One to three allies per project: you named 4" in too_many
    assert "in quotes" in slack.command("project Q3 <@U2>").text
    assert "one to three allies" in slack.command('project "Q3"').text
    assert "That's you" in slack.command('project "Q3" <@U1>').text
    assert "same person twice" in slack.command('project "Q3" <@U2> <@U2|maria>').text
    assert "can't read `soon`" in slack.command('project "Q3" <@U2> soon').text
    assert "no active project called “Nope”" in slack.command('project done "Nope"').text
    with transaction(runtime.sessions) as session:
        assert session.scalars(select(Project)).all() == []
    # A fourth ally for a project that has three is refused, nothing changes.
    slack.command('project "Q3" <@U2> <@U3> <@U4>')
    assert "already has 3 of its 3 allies" in slack.command('project "Q3" "Dana Lee"').text
    with transaction(runtime.sessions) as session:
        assert len(session.scalars(select(ProjectAlly)).all()) == 3


def test_home_shows_active_projects_with_days_left(
    slack: SlackDriver, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    slack.command('project "Q3 <launch> & co" <@U2> "Dana Lee (Acme)"')
    clock.advance(days=10)
    slack.command("met <@U2> launch review")
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})

    def home() -> str:
        calls = [c for c in fake_slack.calls_to("views.publish") if c["user_id"] == "U1"]
        return json.dumps(calls[-1]["view"], ensure_ascii=False) if calls else ""

    view: str = wait_for(lambda: home() if "Project allies" in home() else "")
    # Home's mrkdwn: Slack shows &lt;launch&gt; &amp; as <launch> &.
    assert "*Q3 &lt;launch&gt; &amp; co* (20 days left)" in view
    assert "<launch>" not in view
    assert ":white_check_mark: <@U2>" in view
    assert ":hourglass_flowing_sand: Dana Lee (Acme)" in view
    # Home's person of the week is the unmet ally, as the DM's will be.
    assert "This week's person:* Dana Lee (Acme)" in view


def test_weekly_dm_puts_an_unmet_project_ally_first(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London", contacts=3)  # three overdue contacts
    slack.command('project "Q3 launch" <@U3> "Dana Lee (Acme)"')
    slack.command("met <@U3> kickoff")
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    [message] = fake_slack.messages["DU1"]
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert texts[1].startswith("*This week's person: Dana Lee (Acme)*")
    assert "One of your allies for “Q3 launch”, not met yet (30 days left)" in texts[1]
    assert "*Stay in touch:*" in texts[2]
    assert "meet Dana Lee (Acme) for your project" in message["text"]
