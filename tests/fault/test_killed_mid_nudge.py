"""``ally-bot nudges send`` killed (SIGKILL) while Slack holds a DM open, then run again: every
member gets exactly one DM that week, whether Slack had posted the held message or not."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Nudge, NudgeStatus
from tests.support.fake_slack import FakeSlack, Params
from tests.support.nudge_fixtures import add_member, nudges
from tests.support.runtime import MakeRuntime

AT = "2026-11-16T10:00:00+00:00"  # Monday 10:00 in London: every member below is due
MEMBERS = ("UK1", "UK2", "UK3", "UK4")
DEADLINE = 60  # seconds for any one step
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def runtime(make_runtime: MakeRuntime, pg_url: str) -> Runtime:
    return make_runtime(pg_url)


def nudges_send(fake: FakeSlack, database_url: str, cwd: Path) -> subprocess.Popen[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID")},
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "ALLY_SCHEDULER": "off",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "nudges", "send", "--at", AT],
        cwd=cwd,  # no .env here
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=DEADLINE)
    assert process.returncode == 0, err
    return out


class HeldPost:
    """``chat.postMessage`` that holds the second DM open until released; on release Slack
    either posts it (the answer was lost with the process) or never got it."""

    def __init__(self, fake: FakeSlack, *, slack_posts_it: bool) -> None:
        self.fake = fake
        self.slack_posts_it = slack_posts_it
        self.held = threading.Event()
        self.release = threading.Event()
        self.answered = threading.Event()  # the held call is over (its answer goes nowhere)
        self._count = 0
        self._lock = threading.Lock()

    def __call__(self, params: Params) -> dict | tuple[int, dict, dict]:
        with self._lock:
            self._count += 1
            hold = self._count == 2
        if not hold:
            return self.fake._chat_postMessage(params)
        self.held.set()
        self.release.wait(DEADLINE)
        try:
            if not self.slack_posts_it:
                return 503, {}, {"ok": False, "error": "service_unavailable"}
            return self.fake._chat_postMessage(params)
        finally:
            self.answered.set()


@pytest.mark.parametrize("slack_posts_it", [True, False], ids=["posted", "never-posted"])
def test_a_send_killed_mid_dm_then_run_again_sends_each_member_one_dm(
    runtime: Runtime, fake_slack: FakeSlack, pg_url: str, tmp_path: Path, slack_posts_it: bool
) -> None:
    for user in MEMBERS:
        fake_slack.add_user(user, f"Member {user}", tz="Europe/London")
        add_member(runtime, user, "Europe/London", contacts=2)
    post = HeldPost(fake_slack, slack_posts_it=slack_posts_it)
    fake_slack.on("chat.postMessage", post)

    first = nudges_send(fake_slack, pg_url, tmp_path)
    try:
        assert post.held.wait(DEADLINE), "the first run never reached its second DM"
    finally:
        first.kill()  # SIGKILL: no clean-up, no "failed" record, the lease stays taken
        first.communicate(timeout=DEADLINE)
    post.release.set()
    assert post.answered.wait(DEADLINE)
    assert len(fake_slack.messages) == (2 if slack_posts_it else 1)

    # Straight away, the dead run's leases keep a second run from racing its DMs.
    assert "sent 0" in finish(nudges_send(fake_slack, pg_url, tmp_path))
    # Ten minutes on, the leases have run out and the next run finishes the week.
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Nudge)
            .where(Nudge.status == NudgeStatus.PLANNED.value)
            .values(claimed_until=Nudge.planned_at)
        )
    finish(nudges_send(fake_slack, pg_url, tmp_path))

    assert {channel: len(posted) for channel, posted in fake_slack.messages.items()} == {
        f"D{user}": 1 for user in MEMBERS
    }
    assert [n.status for n in nudges(runtime)] == [NudgeStatus.SENT] * len(MEMBERS)
