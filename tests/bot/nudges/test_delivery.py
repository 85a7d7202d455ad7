"""Delivery against the fake Slack on SQLite and PostgreSQL: once, on time, never lost."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, update

from bot.nudges.delivery import EVENT_TYPE, Delivery
from bot.nudges.planning import planned_batches
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Member, NudgeStatus
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack, Params
from tests.support.nudge_fixtures import add_member, nudges


@pytest.fixture
def runtime(db_runtime: Runtime) -> Runtime:
    """This module's tests run on SQLite and on PostgreSQL."""
    return db_runtime


def deliver(runtime: Runtime, **options: object) -> Delivery:
    return Delivery(runtime, web_client(runtime), **options)  # type: ignore[arg-type]


def dms(fake: FakeSlack, channel: str | None = None) -> list:
    return [c for c in fake.calls_to("chat.postMessage") if channel in (None, c["channel"])]


def test_one_dm_at_local_time_and_none_before(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U2", "America/New_York")  # Monday 09:00 EST = 14:00 UTC
    clock.now = datetime(2026, 11, 16, 13, 59, tzinfo=UTC)
    assert deliver(runtime).run(clock.now).planned == 0
    assert dms(fake_slack) == []

    clock.now = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
    summary = deliver(runtime).run(clock.now)
    assert (summary.planned, summary.sent, summary.skipped, summary.failed) == (1, 1, 0, 0)
    [dm] = dms(fake_slack)
    assert dm["channel"] == "U2"  # the user id: Slack posts it in the app's DM with them
    assert fake_slack.calls_to("conversations.open") == []
    assert dm["metadata"]["event_type"] == EVENT_TYPE
    assert dm["metadata"]["event_payload"]["week"] == "2026-W47"
    assert "Contact 0" in str(dm["blocks"])
    [row] = nudges(runtime)
    assert row.status == NudgeStatus.SENT and row.message_ts and row.channel_id == "DU2"
    assert row.claimed_by is None and row.attempts == 1


def test_none_twice_in_a_week_and_again_next_week(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London")
    for hours in (0, 1, 24, 24 * 5):
        deliver(runtime).run(clock.now + timedelta(hours=hours))
    assert len(dms(fake_slack)) == 1
    deliver(runtime).run(datetime(2026, 11, 23, 9, tzinfo=UTC))
    assert len(dms(fake_slack)) == 2
    assert [n.week for n in nudges(runtime)] == ["2026-W47", "2026-W48"]
    # The DM Slack named the first week is kept: the second week posts straight to it.
    assert [dm["channel"] for dm in dms(fake_slack)] == ["U1", "DU1"]
    assert len(fake_slack.messages["DU1"]) == 2


def test_caught_up_later_the_same_week(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U3", "Asia/Tokyo")  # Monday 09:00 JST = Monday 00:00 UTC
    clock.now = datetime(2026, 11, 21, 12, tzinfo=UTC)  # the process was down until Saturday
    assert deliver(runtime).run(clock.now).sent == 1
    assert nudges(runtime)[0].week == "2026-W47"


def test_opted_out_and_paused_members_get_nothing(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London", enabled=False)
    add_member(runtime, "U4", "Europe/Berlin")
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Member)
            .where(Member.user_id == "U4")
            .values(nudges_paused_until=datetime(2026, 11, 30).date())
        )
    assert deliver(runtime).run(clock.now).planned == 0
    assert dms(fake_slack) == []


def test_member_who_moves_is_followed(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U2", "Europe/London")  # on record: London, checked 8 days ago
    with transaction(runtime.sessions) as session:
        session.execute(update(Member).values(tz_checked_at=clock.now - timedelta(days=8)))
    # Slack says U2 now lives in New York: 10:00 UTC is 05:00 there, not due yet.
    assert deliver(runtime).run(clock.now).planned == 0
    assert [c["user"] for c in fake_slack.calls_to("users.info")] == ["U2"]
    with runtime.sessions() as session:
        assert session.query(Member.tz).scalar() == "America/New_York"
    assert deliver(runtime).run(datetime(2026, 11, 16, 14, tzinfo=UTC)).sent == 1


def test_429_then_success_delivers_once(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London")
    fake_slack.fail("chat.postMessage", status=429, retry_after=0)
    summary = deliver(runtime).run(clock.now)
    assert (summary.sent, summary.failed) == (1, 0)
    assert len(dms(fake_slack)) == 2  # the 429, then the retry the SDK made
    assert len(fake_slack.messages["DU1"]) == 1
    assert nudges(runtime)[0].status == NudgeStatus.SENT


def test_a_dm_slack_accepted_but_answered_too_late_is_not_posted_twice(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London")
    client = web_client(runtime)
    client.timeout = 0.3
    answered_late = threading.Event()

    def post_then_stall(params: Params) -> dict:
        # Slack posts the DM, then its answer is lost in a read timeout.
        answer = fake_slack._chat_postMessage(params)
        if not answered_late.is_set():
            answered_late.set()
            time.sleep(client.timeout + 0.4)
        return answer

    fake_slack.on("chat.postMessage", post_then_stall)
    first = Delivery(runtime, client).run(clock.now)
    assert (first.sent, first.failed) == (0, 1)
    assert len(fake_slack.messages["DU1"]) == 1  # posted once; no retry after the timeout

    second = Delivery(runtime, client).run(clock.advance(minutes=5))
    assert second.sent == 1
    assert len(fake_slack.messages["DU1"]) == 1  # found in the DM's history, not posted again
    assert [n.status for n in nudges(runtime)] == [NudgeStatus.SENT]


def test_a_dm_that_failed_with_a_5xx_stays_planned_and_is_checked_before_a_retry(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London")
    fake_slack.fail("chat.postMessage", status=503, error="service_unavailable")
    summary = deliver(runtime).run(clock.now)
    assert (summary.planned, summary.sent, summary.failed) == (1, 0, 1)
    assert len(dms(fake_slack)) == 1  # a 5xx is not retried: Slack may have posted
    [row] = nudges(runtime)
    assert row.status == NudgeStatus.PLANNED and row.attempts == 1
    assert row.error is not None and "service_unavailable" in row.error
    assert row.claimed_by is None  # released for the next run
    assert row.post_started_at is not None  # its outcome is unknown

    summary = deliver(runtime).run(clock.advance(minutes=5))
    assert summary.sent == 1
    assert len(fake_slack.messages["DU1"]) == 1
    [row] = nudges(runtime)
    assert (row.status, row.attempts, row.error) == (NudgeStatus.SENT, 2, None)
    # Before re-sending, the DM's history was checked for this week's nudge.
    [history] = fake_slack.calls_to("conversations.history")
    assert history["channel"] == "DU1" and history["include_all_metadata"] in ("1", "true")


def test_crash_after_slack_accepted_is_resolved_without_a_second_dm(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_member(runtime, "U1", "Europe/London")

    def crash(*args: object) -> None:
        raise SystemExit("killed between chat.postMessage and marking the nudge sent")

    with monkeypatch.context() as patch:
        patch.setattr(Delivery, "_mark_sent", crash)
        with pytest.raises(SystemExit):
            deliver(runtime, worker="dead").run(clock.now)
    assert len(fake_slack.messages["DU1"]) == 1
    [row] = nudges(runtime)
    assert row.status == NudgeStatus.PLANNED and row.claimed_by == "dead"

    # While the dead worker's lease runs, others leave the nudge alone.
    assert deliver(runtime).run(clock.advance(minutes=1)).skipped == 1
    # After it expires, the next run finds this week's DM in the history and records it.
    summary = deliver(runtime).run(clock.advance(minutes=10))
    assert summary.sent == 1
    assert len(fake_slack.messages["DU1"]) == 1
    [row] = nudges(runtime)
    assert row.status == NudgeStatus.SENT
    assert row.message_ts == fake_slack.messages["DU1"][0]["ts"]


def test_permanent_slack_errors_skip_the_member(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London")
    fake_slack.fail("chat.postMessage", status=200, error="cannot_dm_bot")
    summary = deliver(runtime).run(clock.now)
    assert (summary.sent, summary.skipped, summary.failed) == (0, 1, 0)
    assert nudges(runtime)[0].status == NudgeStatus.SKIPPED
    assert deliver(runtime).run(clock.advance(hours=1)).planned == 0


def count_statements(runtime: Runtime) -> list[str]:
    statements: list[str] = []

    @event.listens_for(runtime.engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.strip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            statements.append(statement)

    return statements


def test_planning_is_a_constant_number_of_queries_per_batch(
    runtime: Runtime, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London", contacts=2)
    add_member(runtime, "U2", "Asia/Kolkata", contacts=1)
    statements = count_statements(runtime)
    small = [
        p.member.ref.user_id
        for batch in planned_batches(runtime.sessions, clock.now)
        for p in batch
    ]
    small_count = len(statements)
    assert sorted(small) == ["U1", "U2"]

    for i in range(10):
        add_member(runtime, f"UX{i}", "Pacific/Auckland", contacts=12)
    statements.clear()
    big = [p for batch in planned_batches(runtime.sessions, clock.now) for p in batch]
    assert len(big) == 12
    assert sum(len(p.content.stay_in_touch) for p in big) == 3 * 10 + 2 + 1
    assert len(statements) == small_count  # more members and contacts, same queries

    # Smaller batches: the same queries again for each batch, plus the last empty read.
    statements.clear()
    batches = list(planned_batches(runtime.sessions, clock.now, batch_size=5))
    assert [len(b) for b in batches] == [5, 5, 2]
    per_batch = small_count - 1
    assert len(statements) == 3 * per_batch + 1


def test_sending_cost_does_not_grow_with_contacts(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London", contacts=1)
    add_member(runtime, "U2", "Asia/Kolkata", contacts=1)
    statements = count_statements(runtime)
    deliver(runtime).run(clock.now)
    few = len(statements)

    add_member(runtime, "U3", "Europe/London", contacts=25)
    add_member(runtime, "U4", "Asia/Kolkata", contacts=25)
    statements.clear()
    assert deliver(runtime).run(clock.now).sent == 2
    assert len(statements) == few


def test_dm_brings_three_new_questions_for_this_weeks_person(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    from sqlalchemy import select

    from storage.models import QuestionAsked

    add_member(runtime, "U1", "Europe/London", contacts=1)
    deliver(runtime).run(clock.now)
    [message] = fake_slack.messages["DU1"]
    [block] = [b for b in message["blocks"] if "Three questions to ask" in str(b)]
    text = block["text"]["text"]
    # In this week's person's own section: they appear once in the DM.
    assert text.startswith("*This week's person: Contact 0 (Acme)*")
    assert all(f"\n{i}. " in text for i in (1, 2, 3))
    with runtime.sessions() as session:
        asked = session.execute(select(QuestionAsked.scope, QuestionAsked.question_id)).all()
    assert len(asked) == 3 and {scope for scope, _ in asked} == {"~contact 0"}

    # A week later the only contact was last week's person: no person, so no questions.
    deliver(runtime).run(datetime(2026, 11, 23, 9, tzinfo=UTC))
    assert "Three questions" not in str(fake_slack.messages["DU1"][1]["blocks"])
