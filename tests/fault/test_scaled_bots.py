"""Three ``ally-bot run`` processes on one PostgreSQL, each with its scheduler on, as
``docker compose up --scale bot=3`` runs them: every due member gets exactly one weekly DM.

The fake Slack answers each DM slowly, so the three processes' first runs (each about ten
seconds after it starts) overlap: all three plan the same members, and the ones that find them
leased by another process pass over them.
"""

from __future__ import annotations

import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.platform.clock import utc_now
from bot.platform.runtime import Runtime
from storage.models import NudgeStatus
from tests.support.fake_slack import FakeSlack, Params
from tests.support.nudge_fixtures import add_member, nudges
from tests.support.process import Bot, bot_env, running_bot, wait_until
from tests.support.runtime import MakeRuntime
from tests.support.settings import SECRET

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
MEMBERS = [f"UR{i:02d}" for i in range(12)]
PROCESSES = 3
POST_DELAY = 0.15  # seconds the fake Slack takes per DM
# The scheduler's first run comes about ten seconds after start-up (bot/nudges/scheduler.py).
FIRST_RUNS_DEADLINE = 90.0


@pytest.fixture
def real_time_runtime(make_runtime: MakeRuntime, pg_url: str) -> Runtime:
    """The processes plan with the real clock, so the seeding does too."""
    return make_runtime(pg_url, clock=utc_now, sleep=time.sleep)


def metric(bot: Bot, name: str, **labels: str) -> float:
    with urllib.request.urlopen(f"{bot.url}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and sample.labels == labels
    )


def test_three_bots_with_schedulers_send_each_member_one_dm(
    real_time_runtime: Runtime, fake_slack: FakeSlack, pg_url: str, tmp_path: Path
) -> None:
    for user in MEMBERS:
        fake_slack.add_user(user, f"Member {user}", tz="UTC")
        # Monday 00:00 UTC: due at any moment of the current week.
        add_member(real_time_runtime, user, "UTC", weekday=0, minute=0, contacts=2)

    def slow_post(params: Params) -> dict:
        time.sleep(POST_DELAY)
        return fake_slack._chat_postMessage(params)

    fake_slack.on("chat.postMessage", slow_post)

    with ExitStack() as stack:
        bots = []
        for i in range(PROCESSES):
            folder = tmp_path / f"bot{i}"
            folder.mkdir()
            env = bot_env(fake_slack.base_url, pg_url, SECRET, ALLY_SCHEDULER="on")
            bots.append(stack.enter_context(running_bot(env, folder)))
        for bot in bots:
            wait_until(bot.healthy, "GET /healthz to answer 200")
        # Every process's scheduler has run once (and found the week done, or done its share).
        for bot in bots:
            wait_until(
                lambda bot=bot: metric(bot, "ally_nudge_runs_total", outcome="ok") >= 1,
                "every process's first nudge run",
                FIRST_RUNS_DEADLINE,
            )
        sent = [metric(bot, "ally_nudge_dms_total", outcome="sent") for bot in bots]
        for bot in bots:
            assert bot.stop() == 0
            assert "Traceback" not in bot.log()

    assert {channel: len(posted) for channel, posted in fake_slack.messages.items()} == {
        f"D{user}": 1 for user in MEMBERS
    }
    assert [n.status for n in nudges(real_time_runtime)] == [NudgeStatus.SENT] * len(MEMBERS)
    # Each DM was counted once, by the process that sent it.
    assert sum(sent) == len(MEMBERS)
