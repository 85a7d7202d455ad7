"""The in-process scheduler: UTC interval trigger, one instance, coalesced, stops cleanly."""

from __future__ import annotations

import time
from datetime import UTC, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from bot.nudges import scheduler
from bot.platform.runtime import Runtime
from tests.support.fake_slack import FakeSlack
from tests.support.nudge_fixtures import add_member, nudges


def wait_for(condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_job_sends_due_nudges_and_stops_cleanly(runtime: Runtime, fake_slack: FakeSlack) -> None:
    add_member(runtime, "U1", "Europe/London")
    running = scheduler.start(runtime, first_run_in=timedelta(0))
    try:
        # The nudges, and the Slack deletions that forget and uninstall list.
        assert {j.id for j in running.get_jobs()} == {
            scheduler.JOB_ID,
            scheduler.DELETIONS_JOB_ID,
            scheduler.CALENDAR_JOB_ID,
        }
        job = running.get_job(scheduler.JOB_ID)
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.timezone == UTC
        assert job.trigger.interval == scheduler.EVERY
        assert (job.coalesce, job.max_instances) == (True, 1)
        assert wait_for(lambda: [n.status for n in nudges(runtime)] == ["sent"])
    finally:
        scheduler.stop(running)
    assert not running.running
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_failing_run_is_logged_not_raised(runtime: Runtime, caplog) -> None:  # type: ignore[no-untyped-def]
    runtime.engine.dispose()
    runtime.sessions.configure(bind=None)
    scheduler.send_nudges(runtime)
    assert "sending nudges failed" in caplog.text
