"""Forget and uninstall delete every message Ally sent the member (weekly DMs, plan reminders
and follow-ups) and every export file, from a list that outlives the member's rows
(``slack_deletions``): Slack's failures are retried by a later run, a restart included; what
Slack says is gone is done; a revoked token drops the list, logged. Through the real Bolt app,
the scheduler's job and ``ally-bot deletions``, against the fake Slack, on SQLite and
PostgreSQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App
from sqlalchemy import select

import handlers
from bot.data_rights.deletions import Deleter, delete_due
from bot.nudges.scheduler import DELETIONS_JOB_ID, send_nudges, start, stop
from bot.platform.app import create_app, web_client
from bot.platform.runtime import Runtime
from storage.models import ExportFile, ExportStatus, SlackDeletion
from tests.support.cli import ally_bot, finish
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.nudge_fixtures import add_member
from tests.support.runtime import MakeRuntime
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver
from tests.support.waiting import wait_for


@pytest.fixture
def app(db_runtime: Runtime) -> Iterator[App]:
    bolt = create_app(db_runtime, register=[handlers.register])
    yield bolt
    bolt.listener_runner.listener_executor.shutdown(wait=True)


@pytest.fixture
def slack(app: App) -> SlackDriver:
    return SlackDriver(app, SECRET)


def allys_dms(fake: FakeSlack, channel: str = "DU1") -> list[dict[str, Any]]:
    """The messages Ally itself posted in ``channel`` (not the ones people wrote there)."""
    return [m for m in fake.messages.get(channel, []) if "user" not in m]


def listed(runtime: Runtime) -> list[SlackDeletion]:
    with runtime.sessions() as session:
        rows = list(session.scalars(select(SlackDeletion).order_by(SlackDeletion.id)))
        session.expunge_all()
        return rows


def forget(app: App, slack: SlackDriver, fake: FakeSlack) -> None:
    reply = slack.action(
        "forget_confirm", user="U1", value="U1", extra={"response_url": fake.response_url()}
    )
    assert reply.status == 200
    # The deletion runs after the answer, on Bolt's executor: wait for it.
    app.listener_runner.listener_executor.shutdown(wait=True)


def weekly_dm_and_plan(
    runtime: Runtime, slack: SlackDriver, fake: FakeSlack, clock: FrozenClock
) -> None:
    """Ana gets her weekly DM (Monday), her plan's reminder (Thursday) and its "did you
    meet?" (Friday) from the scheduler's job, and an export file."""
    add_member(runtime, "U1", "Europe/London")
    assert "Planned: coffee with <@U2>" in slack.command("plan <@U2|maria> thursday coffee").text
    send_nudges(runtime)  # Monday 10:00: the weekly DM (due at 09:00)
    clock.now = clock.now.replace(day=19, hour=9)  # Thursday 09:00 in London: the reminder
    send_nudges(runtime)
    clock.advance(days=1)  # Friday 09:00: did you meet?
    send_nudges(runtime)
    texts = [m["text"] for m in allys_dms(fake)]
    assert len(texts) == 3, texts
    assert texts[1:] == ["Today: coffee with Maria Lopez.", "Did you meet Maria Lopez?"]
    assert "I'm putting your data together" in slack.command("export").text

    def exported() -> bool:
        with runtime.sessions() as session:
            return session.scalar(select(ExportFile.status)) == ExportStatus.SENT

    wait_for(exported)
    assert len(fake.uploads) == 1


def test_forget_deletes_the_weekly_dm_the_plan_reminder_and_the_follow_up_in_slack(
    app: App, slack: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    ana_wrote = fake_slack.post_as("U1", "DU1", "thanks Ally")
    asked = slack.command("forget").text
    assert "deletes my DMs to you (weekly nudges, plan reminders and follow-ups)" in asked

    forget(app, slack, fake_slack)

    assert allys_dms(fake_slack) == []
    assert fake_slack.uploads == {}
    # What Ana wrote in the DM is hers: Ally does not try to delete it.
    assert [m["ts"] for m in fake_slack.messages["DU1"]] == [ana_wrote]
    assert ana_wrote not in {c["ts"] for c in fake_slack.calls_to("chat.delete")}
    assert listed(db_runtime) == []


def test_a_failed_delete_is_retried_after_a_restart_until_slack_confirms(
    app: App,
    slack: SlackDriver,
    db_runtime: Runtime,
    fake_slack: FakeSlack,
    clock: FrozenClock,
    make_runtime: MakeRuntime,
    db_url: str,
    tmp_path: Path,
) -> None:
    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    # Slack has an outage: every chat.delete answers 500 for a while.
    fake_slack.fail("chat.delete", status=500, error="fatal_error", retry_after=None, times=50)
    forget(app, slack, fake_slack)

    assert len(allys_dms(fake_slack)) == 3
    left = listed(db_runtime)
    assert len(left) == 4  # three DMs and the export file
    assert {(row.attempts, row.last_error) for row in left} >= {(1, "http_500")}
    assert all(row.next_attempt_at > clock.now for row in left)
    assert all(row.claimed_by is None for row in left)
    db_runtime.close()  # Ally stops (or the process dies) before anything else happens

    # A new process on the same database, once the outage is over.
    fake_slack.recover()
    clock.advance(minutes=5)
    restarted = make_runtime(db_url)
    assert delete_due(restarted).deleted == 4
    assert allys_dms(fake_slack) == [] and fake_slack.uploads == {}
    assert listed(restarted) == []
    # And ``ally-bot deletions`` finds nothing left.
    code, out, err = finish(ally_bot(fake_slack, db_url, tmp_path, "deletions"))
    assert code == 0, err
    assert out.strip() == (
        "ally-bot: 0 message(s) and file(s) deleted in Slack, 0 dropped, 0 left to retry later"
    )


def test_a_rate_limited_delete_waits_for_slacks_retry_after_then_the_cli_deletes_it(
    app: App,
    slack: SlackDriver,
    db_runtime: Runtime,
    fake_slack: FakeSlack,
    clock: FrozenClock,
    db_url: str,
    tmp_path: Path,
) -> None:
    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    fake_slack.fail("chat.delete", status=429, retry_after=600, times=50)
    forget(app, slack, fake_slack)
    assert len(allys_dms(fake_slack)) == 3
    left = listed(db_runtime)
    assert len(left) == 4
    assert {row.next_attempt_at for row in left} == {clock.now + timedelta(seconds=600)}
    # Before Retry-After is up, a run leaves them alone: no call to Slack.
    fake_slack.recover()
    fake_slack.reset()
    assert delete_due(db_runtime, clock.now + timedelta(seconds=599)).deleted == 0
    assert fake_slack.calls_to("chat.delete") == []

    # ``ally-bot deletions`` (real time, long after) deletes them all.
    code, out, err = finish(ally_bot(fake_slack, db_url, tmp_path, "deletions"))
    assert code == 0, err
    assert out.strip() == (
        "ally-bot: 4 message(s) and file(s) deleted in Slack, 0 dropped, 0 left to retry later"
    )
    assert allys_dms(fake_slack) == [] and fake_slack.uploads == {}
    assert listed(db_runtime) == []


def test_a_message_already_gone_is_done(
    app: App, slack: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    # Ana deleted the reminder herself; the export file is gone from Slack too.
    reminder = fake_slack.messages["DU1"].pop(1)
    fake_slack.uploads.clear()
    forget(app, slack, fake_slack)
    assert reminder["ts"] in {c["ts"] for c in fake_slack.calls_to("chat.delete")}
    assert len(fake_slack.calls_to("files.delete")) == 1
    assert allys_dms(fake_slack) == []
    assert listed(db_runtime) == []  # message_not_found and file_not_found: nothing to retry


def test_a_revoked_token_drops_the_list_and_says_so(
    app: App,
    slack: SlackDriver,
    db_runtime: Runtime,
    fake_slack: FakeSlack,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    fake_slack.revoke(db_runtime.settings.bot_token or "", "token_revoked")
    caplog.set_level(logging.INFO)
    fake_slack.reset()
    forget(app, slack, fake_slack)
    assert len(fake_slack.calls_to("chat.delete")) == 1  # then no call with a dead token
    assert listed(db_runtime) == []
    [line] = [
        r
        for r in caplog.records
        if r.getMessage() == "Slack copies dropped: Slack revoked the workspace's token"
    ]
    assert line.ally_fields == {  # type: ignore[attr-defined]
        "team": "T1",
        "slack_error": "token_revoked",
        "dropped": 4,
    }


def test_invalid_auth_is_retried_and_given_up_on_after_a_week(
    app: App,
    slack: SlackDriver,
    db_runtime: Runtime,
    fake_slack: FakeSlack,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``invalid_auth`` also comes from an IP allow-list, so it is not proof that Ally left:
    the list is kept and tried again, with a growing wait, for a week."""
    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    fake_slack.revoke(db_runtime.settings.bot_token or "", "invalid_auth")
    forget(app, slack, fake_slack)
    first = listed(db_runtime)
    assert len(first) == 4 and {r.last_error for r in first} == {"invalid_auth"}
    waits = []
    for _ in range(4):
        due = min(r.next_attempt_at for r in listed(db_runtime))
        waits.append(due - clock.now)
        clock.now = due
        assert delete_due(db_runtime).retry == 4
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    caplog.set_level(logging.INFO)
    clock.advance(days=7)
    done = delete_due(db_runtime)
    assert (done.deleted, done.dropped) == (0, 4)
    assert listed(db_runtime) == []
    assert "Slack copy given up on: still failing a week after the erasure" in caplog.messages


def test_the_list_holds_no_member_id_no_user_id_and_nothing_they_wrote(
    app: App, slack: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    fake_slack.fail("chat.delete", status=500, error="fatal_error", retry_after=None, times=50)
    fake_slack.fail("files.delete", status=500, error="fatal_error", retry_after=None, times=50)
    forget(app, slack, fake_slack)
    columns = set(SlackDeletion.__table__.columns.keys())
    assert columns == {
        "id",
        "enterprise_id",
        "team_id",
        "channel_id",
        "message_ts",
        "file_id",
        "created_at",
        "attempts",
        "next_attempt_at",
        "claimed_by",
        "claimed_until",
        "last_error",
    }
    rows = listed(db_runtime)
    assert len(rows) == 4
    posted = {("DU1", m["ts"]) for m in allys_dms(fake_slack)}
    assert {(r.channel_id, r.message_ts) for r in rows if r.file_id is None} == posted
    assert [r.file_id for r in rows if r.file_id] == list(fake_slack.uploads)
    for row in rows:
        values = [str(getattr(row, c)) for c in columns]
        assert "U1" not in values and "U2" not in values
        assert not any("Maria" in v or "coffee" in v for v in values)


def test_two_processes_never_delete_the_same_copy_twice(
    app: App, slack: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    fake_slack.fail("chat.delete", status=500, error="fatal_error", retry_after=None, times=50)
    fake_slack.fail("files.delete", status=500, error="fatal_error", retry_after=None, times=50)
    forget(app, slack, fake_slack)
    fake_slack.recover()
    fake_slack.reset()
    clock.advance(hours=1)
    start_together = threading.Barrier(2)
    results = []

    def one(worker: str) -> None:
        deleter = Deleter(db_runtime, web_client(db_runtime), worker=worker)
        start_together.wait()
        results.append(deleter.run(clock.now).deleted)

    threads = [threading.Thread(target=one, args=(w,)) for w in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 4
    deletes = [(c["channel"], c["ts"]) for c in fake_slack.calls_to("chat.delete")]
    assert len(deletes) == len(set(deletes)) == 3
    assert len(fake_slack.calls_to("files.delete")) == 1
    assert listed(db_runtime) == []


def test_an_uninstall_deletes_every_members_dms_with_a_token_that_still_works(
    app: App, slack: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    assert slack.event({"type": "app_uninstalled"}).status == 200
    app.listener_runner.listener_executor.shutdown(wait=True)
    assert allys_dms(fake_slack) == [] and fake_slack.uploads == {}
    assert listed(db_runtime) == []


def test_the_scheduler_runs_the_deletions(db_runtime: Runtime) -> None:
    scheduler = start(db_runtime, first_run_in=timedelta(hours=1))
    try:
        job = scheduler.get_job(DELETIONS_JOB_ID)
        assert job is not None and job.args == (db_runtime,)
        assert job.trigger.interval == timedelta(minutes=5)  # type: ignore[attr-defined]
    finally:
        stop(scheduler)


def test_the_deletions_job_deletes_what_is_listed(
    app: App, slack: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    from bot.nudges.scheduler import delete_copies

    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    fake_slack.fail("chat.delete", status=500, error="fatal_error", retry_after=None, times=50)
    forget(app, slack, fake_slack)
    assert len(listed(db_runtime)) == 4
    fake_slack.recover()
    clock.advance(minutes=5)
    delete_copies(db_runtime)
    assert listed(db_runtime) == [] and allys_dms(fake_slack) == []


def test_with_oauth_the_workspace_token_deletes_and_after_an_uninstall_nothing_can(
    make_runtime: MakeRuntime,
    db_url: str,
    fake_slack: FakeSlack,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.support.oauth import OAUTH, install, oauth_answer

    runtime = make_runtime(db_url, **OAUTH)
    installer = create_app(runtime, register=[handlers.register])
    install(installer, runtime, fake_slack, "code-1", oauth_answer("T1", "xoxb-for-T1"))
    add_member(runtime, "U1", "Europe/London")
    add_member(runtime, "U3", "Europe/London")
    send_nudges(runtime)
    assert len(allys_dms(fake_slack, "DU1")) == len(allys_dms(fake_slack, "DU3")) == 1
    app = create_app(runtime, register=[handlers.register])
    try:
        forget(app, SlackDriver(app, SECRET), fake_slack)
        [deleted] = fake_slack.calls_to("chat.delete")
        assert deleted.headers["Authorization"] == "Bearer xoxb-for-T1"
        assert allys_dms(fake_slack, "DU1") == []

        caplog.set_level(logging.INFO)
        app = create_app(runtime, register=[handlers.register])
        assert SlackDriver(app, SECRET).event({"type": "app_uninstalled"}).status == 200
        app.listener_runner.listener_executor.shutdown(wait=True)
    finally:
        app.listener_runner.listener_executor.shutdown(wait=True)
    # Slack revoked the token with the uninstall: Bob's DM can't be deleted any more, and the
    # list says so rather than trying forever.
    assert len(fake_slack.calls_to("chat.delete")) == 1
    assert listed(runtime) == []
    gone = "Slack copies dropped: Ally is not installed in the workspace any more"
    [line] = [r for r in caplog.records if r.getMessage() == gone]
    assert line.ally_fields == {"team": "T1", "dropped": 1}  # type: ignore[attr-defined]


def test_a_thank_you_sent_to_a_colleague_stays_with_them(
    app: App, slack: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    """The thank-you Ally delivered on Ana's behalf is Maria's message now: Ana's forget leaves
    it in Maria's DM with Ally (and never lists it)."""
    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    reply = slack.command("thanks <@U2> for the custom report")
    [favour] = [
        element["value"]
        for block in reply.json["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "say_thanks"
    ]
    words = {"message": {"message": {"type": "plain_text_input", "value": "You saved my week."}}}
    assert slack.submit("say_thanks_modal", words, private_metadata=str(favour)).status == 200
    [thank_you] = allys_dms(fake_slack, "DU2")

    forget(app, slack, fake_slack)

    assert allys_dms(fake_slack) == []  # Ana's own DMs from Ally are gone
    assert allys_dms(fake_slack, "DU2") == [thank_you]
    assert "DU2" not in {c["channel"] for c in fake_slack.calls_to("chat.delete")}


def test_a_worker_whose_lease_ran_out_leaves_the_rows_to_the_one_that_took_them(
    app: App, slack: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    from bot.data_rights.deletions import Deleted

    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    fake_slack.fail("chat.delete", status=500, error="fatal_error", retry_after=None, times=50)
    forget(app, slack, fake_slack)
    fake_slack.recover()
    fake_slack.reset()
    clock.advance(hours=1)
    slow = Deleter(db_runtime, web_client(db_runtime), worker="slow")
    rows = slow.claim(clock.now)
    assert len(rows) == 4
    other = Deleter(db_runtime, web_client(db_runtime), worker="other")
    assert other.run(clock.now).deleted == 0  # held
    clock.advance(minutes=11)  # the slow worker's lease runs out; the other takes the rows
    assert other.run(clock.now).deleted == 4
    assert len(fake_slack.calls_to("chat.delete")) == 3
    done = Deleted()
    slow.delete_claimed("", "T1", rows, clock.now, done)  # the slow worker wakes up
    assert len(fake_slack.calls_to("chat.delete")) == 3  # and calls Slack for none of them
    assert (done.deleted, done.dropped, done.retry) == (0, 0, 0)


def test_allys_answers_in_the_dm_are_deleted_too(
    app: App, slack: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    """Ally's answer to a message Ana wrote in its DM (what files it reads) and to a button she
    pressed on Home (questions sent to her DM) are hers to forget like the weekly DM."""
    weekly_dm_and_plan(db_runtime, slack, fake_slack, clock)
    event = {"type": "message", "channel": "DU1", "channel_type": "im", "user": "U1"}
    assert slack.event({**event, "text": "hello", "ts": "1.1"}).status == 200
    wait_for(lambda: [m for m in allys_dms(fake_slack) if "Connections.csv" in m["text"]])
    pressed = slack.action("show_questions", value="", extra={"view": {"type": "home"}})
    assert pressed.status == 200
    wait_for(lambda: len(allys_dms(fake_slack)) == 5)
    assert any("question" in m["text"].lower() for m in allys_dms(fake_slack)[3:])

    forget(app, slack, fake_slack)
    assert allys_dms(fake_slack) == []
    assert listed(db_runtime) == []


def test_a_revocation_that_erases_the_workspace_drops_its_list_and_says_so(
    make_runtime: MakeRuntime,
    db_url: str,
    fake_slack: FakeSlack,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.support.oauth import OAUTH, install, oauth_answer

    runtime = make_runtime(db_url, **OAUTH)
    app = create_app(runtime, register=[handlers.register])
    install(app, runtime, fake_slack, "code-1", oauth_answer("T1", "xoxb-for-T1"))
    add_member(runtime, "U1", "Europe/London")
    send_nudges(runtime)
    assert len(allys_dms(fake_slack)) == 1
    caplog.set_level(logging.INFO)
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    try:
        assert SlackDriver(app, SECRET).event(revoked).status == 200
    finally:
        app.listener_runner.listener_executor.shutdown(wait=True)
    assert fake_slack.calls_to("chat.delete") == []  # no token left to ask Slack with
    assert listed(runtime) == []
    gone = "Slack copies dropped: Ally is not installed in the workspace any more"
    [line] = [r for r in caplog.records if r.getMessage() == gone]
    assert line.ally_fields == {"team": "T1", "dropped": 1}  # type: ignore[attr-defined]
