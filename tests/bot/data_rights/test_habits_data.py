"""Projects, plans and plan messages belong to the member: exported, erased by forget and by
uninstall, on SQLite and PostgreSQL; and a plan message whose post failed is retried, once."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from bot.data_rights.service import erase_workspace, export, forget
from bot.ledger import projects
from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.nudges import meeting_plans
from bot.nudges.plans import PlanSender
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import MeetingPlan, PlanMessage, Project, ProjectAlly
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack

ANA = MemberRef("T1", "U1")
BEN = MemberRef("T1", "U3")
OTHER = MemberRef("T2", "U1")
HABIT_TABLES = (Project, ProjectAlly, MeetingPlan, PlanMessage)


@pytest.fixture
def runtime(db_runtime: Runtime) -> Runtime:
    """This module's tests run on SQLite and on PostgreSQL."""
    return db_runtime


def habits(runtime: Runtime, ref: MemberRef, now: datetime) -> None:
    """A project with an ally, a plan for today, and its reminder sent."""
    with transaction(runtime.sessions) as session:
        projects.start(session, ref, "Q3", [SlackPerson("U2", "Maria Lopez")], now)
        meeting_plans.make_plan(session, ref, OutsidePerson("Dana Lee"), now.date(), "", now)


def counts(runtime: Runtime) -> list[int]:
    with runtime.sessions() as session:
        return [session.scalar(select(func.count()).select_from(t)) or 0 for t in HABIT_TABLES]


def test_export_forget_and_uninstall_cover_projects_and_plans(
    runtime: Runtime, clock: FrozenClock
) -> None:
    for ref in (ANA, BEN, OTHER):
        habits(runtime, ref, clock.now)
    assert PlanSender(runtime, web_client(runtime)).run(clock.now).sent == 3
    assert counts(runtime) == [3, 3, 3, 3]
    with transaction(runtime.sessions) as session:
        data = export(session, ANA, clock.now)
    assert [p["name"] for p in data["projects"]] == ["Q3"]
    assert len(data["project_allies"]) == 1
    assert [(p["what"], p["status"]) for p in data["meeting_plans"]] == [("", "planned")]
    assert [(m["step"], m["status"]) for m in data["plan_messages"]] == [("reminder", "sent")]
    with transaction(runtime.sessions) as session:
        erased = forget(session, ANA, clock.now)
    assert {t.__tablename__: erased.counts[t.__tablename__] for t in HABIT_TABLES} == {
        "projects": 1,
        "project_allies": 1,
        "meeting_plans": 1,
        "plan_messages": 1,
    }
    assert counts(runtime) == [2, 2, 2, 2]
    with transaction(runtime.sessions) as session:
        erase_workspace(session, enterprise_id="", team_id="T1", now=clock.now)
    assert counts(runtime) == [1, 1, 1, 1]  # the other workspace's stay


def test_a_failed_post_is_retried_once_and_never_twice(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    with transaction(runtime.sessions) as session:
        meeting_plans.make_plan(
            session, ANA, SlackPerson("U2", "Maria Lopez"), date(2026, 11, 16), "coffee", clock.now
        )
    fake_slack.fail("chat.postMessage", status=200, error="internal_error", times=1)
    first = PlanSender(runtime, web_client(runtime), worker="a").run(clock.now)
    assert (first.sent, first.failed) == (0, 1)
    with runtime.sessions() as session:
        row = session.scalars(select(PlanMessage)).one()
        assert (row.status, row.claimed_by, row.error) == (
            "planned",
            None,
            "Slack said internal_error",
        )
    assert PlanSender(runtime, web_client(runtime), worker="b").run(clock.now).sent == 1
    assert len(fake_slack.messages["DU1"]) == 1
    # A post that reached Slack but was never recorded (the sender died) is found, not resent.
    with transaction(runtime.sessions) as session:
        row = session.scalars(select(PlanMessage)).one()
        row.status, row.message_ts, row.claimed_until = "planned", None, None
    assert PlanSender(runtime, web_client(runtime), worker="c").run(clock.now).sent == 1
    assert len(fake_slack.messages["DU1"]) == 1
    with runtime.sessions() as session:
        row = session.scalars(select(PlanMessage)).one()
        assert (row.status, row.attempts) == ("sent", 3)
