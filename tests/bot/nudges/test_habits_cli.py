"""Project allies and meeting plans through ``ally-bot nudges preview|send`` on SQLite and
PostgreSQL, as an operator runs them."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.ledger import projects
from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.nudges import meeting_plans
from bot.nudges.settings import snooze_contact
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import PlanMessage
from tests.support.cli import AT, ally_bot, finish
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack, Params
from tests.support.nudge_fixtures import add_member


@pytest.fixture
def runtime(db_runtime: Runtime) -> Runtime:
    """This module's tests run on SQLite and on PostgreSQL."""
    return db_runtime


def test_preview_and_send_put_the_unmet_project_ally_first(
    runtime: Runtime, fake_slack: FakeSlack, db_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    ref = add_member(runtime, "U1", "Europe/London", contacts=2)
    with transaction(runtime.sessions) as session:
        projects.start(
            session,
            ref,
            "Q3 launch",
            [SlackPerson("U2", "Maria Lopez"), OutsidePerson("Dana Lee", "Acme")],
            clock.now,
        )
    preview = ("nudges", "preview", "--team", "T1", "--user", "U1", "--at", AT)
    code, out, _ = finish(ally_bot(fake_slack, db_url, tmp_path, *preview))
    assert code == 0
    first = out.split("\n\n", 1)[1].splitlines()
    assert "This week's person:* Maria Lopez" in "\n".join(first[2:5])
    assert "One of your allies for “Q3 launch”" in out
    code, out, _ = finish(ally_bot(fake_slack, db_url, tmp_path, "nudges", "send", "--at", AT))
    assert code == 0 and "sent 1" in out
    [message] = fake_slack.messages["DU1"]
    assert "meet Maria Lopez for your project" in message["text"]


def test_a_member_only_sees_their_own_projects(runtime: Runtime, clock: FrozenClock) -> None:
    with transaction(runtime.sessions) as session:
        projects.start(session, MemberRef("T1", "U1"), "Mine", [SlackPerson("U2", "M")], clock.now)
        projects.start(session, MemberRef("T2", "U1"), "Other", [SlackPerson("U2", "M")], clock.now)
    with transaction(runtime.sessions) as session:
        assert [p.name for p in projects.active(session, MemberRef("T1", "U1"), clock.now)] == [
            "Mine"
        ]


THURSDAY = date(2026, 11, 19)
THURSDAY_AT = "2026-11-19T09:30:00+00:00"
FRIDAY_AT = "2026-11-20T09:30:00+00:00"


SENT_PLANS = re.compile(r"plan reminders and follow-ups at .*: planned \d+, sent (\d+)")


def posted(fake: FakeSlack, prefix: str) -> dict[str, int]:
    """How many messages starting with ``prefix`` each DM channel got."""
    return {
        channel: sum(1 for m in messages if str(m.get("text", "")).startswith(prefix))
        for channel, messages in fake.messages.items()
    }


@pytest.mark.slow
def test_three_parallel_senders_send_each_reminder_and_follow_up_once(
    runtime: Runtime, fake_slack: FakeSlack, db_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    users = [f"UP{i}" for i in range(6)]
    for user in users:
        fake_slack.add_user(user, f"Member {user}", tz="Europe/London")
        ref = add_member(runtime, user, "Europe/London", contacts=1)
        with transaction(runtime.sessions) as session:
            meeting_plans.make_plan(
                session, ref, OutsidePerson("Dana Lee", "Acme"), THURSDAY, "coffee", clock.now
            )

    def slow_post(params: Params) -> dict:
        # Slack takes a moment to answer; that is when a second sender would double-send.
        time.sleep(0.05)
        return fake_slack._chat_postMessage(params)

    fake_slack.on("chat.postMessage", slow_post)
    for at, prefix in ((THURSDAY_AT, "Today: coffee with Dana Lee"), (FRIDAY_AT, "Did you meet")):
        processes = [
            ally_bot(fake_slack, db_url, tmp_path, "nudges", "send", "--at", at) for _ in range(3)
        ]
        results = [finish(p) for p in processes]
        for code, _out, err in results:
            assert code == 0, err
        assert posted(fake_slack, prefix) == {f"D{user}": 1 for user in users}
        sent = [int(m.group(1)) for _, out, _ in results if (m := SENT_PLANS.search(out))]
        assert sum(sent) == len(users)
    with runtime.sessions() as session:
        rows = session.execute(select(PlanMessage.step, PlanMessage.status)).all()
    assert sorted(rows) == sorted(
        [("follow_up", "sent")] * len(users) + [("reminder", "sent")] * len(users)
    )


def test_preview_suggests_the_biggest_gap_when_nobody_is_due(
    runtime: Runtime, fake_slack: FakeSlack, db_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    ref = add_member(runtime, "U1", "Europe/London", contacts=1)
    with transaction(runtime.sessions) as session:
        snooze_contact(session, ref, "~contact 0", clock.now)  # the only person: not this week
    preview = ("nudges", "preview", "--team", "T1", "--user", "U1", "--at", AT)
    code, out, _ = finish(ally_bot(fake_slack, db_url, tmp_path, *preview))
    assert code == 0
    assert "*This week: fill a gap*\nYou have no connection above you (aim for 2)." in out
    assert out.count("Contact 0 (Acme)*") == 1  # once, for give first
