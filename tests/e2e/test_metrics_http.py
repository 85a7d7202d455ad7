"""``GET /metrics`` from ``ally-bot run`` with several gunicorn workers: every scrape, whichever
worker answers it, adds up the requests all workers served; the workers' metric files live in a
folder the server makes at start and removes when it stops."""

from __future__ import annotations

import signal
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.fake_slack import FakeSlack
from tests.support.process import bot_env, running_bot, wait_until
from tests.support.settings import SECRET
from tests.support.slack_requests import command_body, post

pytestmark = pytest.mark.slow
FORM = "application/x-www-form-urlencoded"
REQUESTS = 8


def commands_answered(url: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = response.read().decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "ally_slack_requests_total" and sample.labels == {
                "kind": "command",
                "outcome": "ok",
            }:
                total += sample.value
    return total


def test_metrics_add_up_across_workers(
    fake_slack: FakeSlack, sqlite_url: str, tmp_path: Path
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = bot_env(fake_slack.base_url, sqlite_url, SECRET, WEB_CONCURRENCY="2", TMPDIR=str(scratch))
    with running_bot(env, tmp_path) as bot:
        wait_until(bot.healthy, "GET /healthz to answer 200")
        [metrics_dir] = scratch.glob("ally-metrics-*")
        assert commands_answered(bot.url) == 0

        for _ in range(REQUESTS):
            reply = post(f"{bot.url}/slack/events", SECRET, command_body("help", user="U1"), FORM)
            assert reply.status == 200

        # Each scrape is answered by one worker or the other; each sees every worker's counts.
        assert [commands_answered(bot.url) for _ in range(6)] == [REQUESTS] * 6
        assert any(metrics_dir.iterdir())
        assert bot.stop(signal.SIGTERM) == 0
    assert not metrics_dir.exists()
