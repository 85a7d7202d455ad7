"""Plan reminders and follow-ups are read a page at a time: however many plans are open (a
plan whose "did you meet?" was never answered stays open for good), every due message goes out
once and no statement binds more than a page's worth of values. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.ledger.people import OutsidePerson
from bot.nudges.meeting_plans import make_plan
from bot.nudges.plans import PlanSender
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import NudgeStatus, PlanMessage, PlanStep
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.nudge_fixtures import add_member

# START is Monday 16 November 2026; Ana (U1) is in London, nudges at 09:00.
THURSDAY = date(2026, 11, 19)


def plan_many(runtime: Runtime, count: int) -> None:
    ref = add_member(runtime, "U1", "Europe/London", contacts=0)
    now = runtime.clock()
    with transaction(runtime.sessions) as session:
        for i in range(count):
            make_plan(session, ref, OutsidePerson(f"Person {i}", "Acme"), THURSDAY, "coffee", now)


def follow_ups(fake: FakeSlack) -> list[str]:
    return [m["text"] for m in fake.messages.get("DU1", []) if m["text"].startswith("Did you")]


@pytest.fixture
def bound_parameters(db_runtime: Runtime) -> Iterator[list[int]]:
    """How many values each statement on the runtime's engine bound."""
    counts: list[int] = []

    def count(
        _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        batches = parameters if many else [parameters]
        counts.extend(len(batch or ()) for batch in batches)

    event.listen(db_runtime.engine, "before_cursor_execute", count)
    yield counts
    event.remove(db_runtime.engine, "before_cursor_execute", count)


def test_more_plans_than_a_page_each_get_their_follow_up_once(
    db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    plan_many(db_runtime, 12)
    clock.now = clock.now.replace(day=20, hour=9, minute=0)  # Friday 09:00 in London
    sender = PlanSender(db_runtime, web_client(db_runtime), page_size=5)
    summary = sender.run(clock.now)
    assert (summary.planned, summary.sent, summary.failed) == (12, 12, 0)
    assert sorted(follow_ups(fake_slack)) == sorted(
        f"Did you meet Person {i} (Acme)?" for i in range(12)
    )
    # Never answered, the plans stay open; the next runs send nothing again.
    clock.advance(hours=5)
    assert PlanSender(db_runtime, web_client(db_runtime), page_size=5).run(clock.now).planned == 0
    clock.advance(days=3)
    assert PlanSender(db_runtime, web_client(db_runtime), page_size=5).run(clock.now).planned == 0
    assert len(follow_ups(fake_slack)) == 12
    with db_runtime.sessions() as session:
        rows = session.scalars(select(PlanMessage)).all()
    assert {(r.step, r.status) for r in rows} == {(PlanStep.FOLLOW_UP, NudgeStatus.SENT)}
    assert len(rows) == 12


def test_no_statement_binds_more_than_a_page_of_values(
    db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, bound_parameters: list[int]
) -> None:
    plan_many(db_runtime, 60)
    clock.now = clock.now.replace(day=20, hour=9, minute=0)
    bound_parameters.clear()
    sent = PlanSender(db_runtime, web_client(db_runtime), page_size=5).run(clock.now).sent
    assert sent == 60
    # A page of five plans binds a few values per plan (a planned row has six columns) and a
    # few more for the clauses: far below the sixty plans, whatever their number.
    assert bound_parameters and max(bound_parameters) <= 40, max(bound_parameters)
    clock.advance(days=1)
    bound_parameters.clear()
    assert PlanSender(db_runtime, web_client(db_runtime), page_size=5).run(clock.now).planned == 0
    assert max(bound_parameters) <= 40, max(bound_parameters)
