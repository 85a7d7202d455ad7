"""``ally-bot run`` as a real process in HTTP mode, driven over HTTP exactly as Slack drives it."""

from __future__ import annotations

import json
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.process import Bot, bot_env, running_bot, wait_until
from tests.support.settings import SECRET
from tests.support.slack_requests import Reply, command_body, post

pytestmark = pytest.mark.slow
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def bot(fake_slack: FakeSlack, sqlite_url: str, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(bot_env(fake_slack.base_url, sqlite_url, SECRET), tmp_path) as started:
        wait_until(started.healthy, "GET /healthz to answer 200")
        yield started


def ally(bot: Bot, text: str, user: str = "U1") -> Reply:
    return post(f"{bot.url}/slack/events", SECRET, command_body(text, user=user), FORM)


def test_help_over_http_then_a_clean_stop_on_sigterm(bot: Bot) -> None:
    reply = ally(bot, "help")
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "Record who helped you" in reply.text
    assert "Only you can see what you log" in reply.text

    assert bot.stop(signal.SIGTERM) == 0
    assert "Traceback" not in bot.log()
    # One log format for the whole process, gunicorn's own lines included.
    events = [json.loads(line)["event"] for line in bot.log().splitlines() if line.strip()]
    assert "Handling signal: term" in events


def test_a_favour_recorded_over_http_shows_in_who_and_network(
    bot: Bot, fake_slack: FakeSlack
) -> None:
    recorded = ally(bot, "thanks <@U2|maria> for the custom report")
    assert recorded.status == 200
    assert "<@U2>" in recorded.text and "the custom report" in recorded.text
    # The name came from the fake Slack: the process's client is on SLACK_API_URL (after U1's
    # own record, to know whether U1 is a guest).
    assert [call["user"] for call in fake_slack.calls_to("users.info")] == ["U1", "U2"]

    who = ally(bot, "who <@U2>")
    assert who.status == 200
    assert "Your history with <@U2>" in who.text
    assert "the custom report" in who.text

    network = ally(bot, "network")
    assert network.status == 200
    assert "*Your network*: 1 people" in network.text
    assert "1 of your contacts have no network or level yet" in network.text

    assert ally(bot, "add <@U2> strategic above alliance").status == 200
    placed = ally(bot, "network")
    assert "*Strategic*  :muscle: strongest · 1 person" in placed.text
    assert "*Alliances* (the people you deliver with): 1 person" in placed.text
    assert "no network or level yet" not in placed.text

    # Another member sees none of it.
    assert "the custom report" not in ally(bot, "who <@U2>", user="U3").text
    assert bot.stop(signal.SIGTERM) == 0


def test_sigint_stops_it_cleanly_too(bot: Bot) -> None:
    assert bot.stop(signal.SIGINT) == 0
    assert "Traceback" not in bot.log()


def test_health_404_and_413(bot: Bot) -> None:
    with urllib.request.urlopen(f"{bot.url}/healthz", timeout=5) as response:
        assert response.status == 200
        assert response.read() == b"ok\n"
    assert post(f"{bot.url}/nowhere", SECRET, "a=b", FORM).status == 404

    oversized = "text=" + "x" * (1024 * 1024)
    assert post(f"{bot.url}/slack/events", SECRET, oversized, FORM).status == 413
    # Refused before it is read, and the server is still there for the next request.
    assert ally(bot, "help").status == 200
