"""Requests not signed by Slack are refused with 401 and change nothing: not the database, not
Slack. Checked through ``app.dispatch`` and over HTTP against a running ``ally-bot run``."""

from __future__ import annotations

import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from slack_bolt import Ack, App, BoltRequest
from sqlalchemy import create_engine, func, select

import handlers
from bot.ledger.people import MemberRef, outside_person
from bot.ledger.service import record_favour
from bot.platform.app import create_app
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Base, InteractionKind
from tests.support.fake_slack import FakeSlack
from tests.support.process import bot_env, running_bot, wait_until
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver, command_body, sign

FORM = "application/x-www-form-urlencoded"
THANKS = "thanks <@U2|maria> for the custom report"


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: connection.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def register_probe(app: App, runtime: Runtime) -> None:
    """``/ally-probe`` writes a favour: proof that a request reaching the listeners writes."""

    @app.command("/ally-probe")
    def probe(ack: Ack, body: dict) -> None:
        ref = MemberRef(team_id=body["team_id"], user_id=body["user_id"])
        with transaction(runtime.sessions) as session:
            person = outside_person('"Dana Lee (Acme)"')
            record_favour(
                session, ref, person, InteractionKind.FAVOUR_RECEIVED, "probe", runtime.clock()
            )
        ack("written")


Forgery = Callable[[str], dict[str, str]]
FORGERIES: dict[str, Forgery] = {
    "forged signature": lambda body: sign("not-the-secret", body),
    "stale timestamp": lambda body: sign(SECRET, body, int(time.time()) - 301),
    "future timestamp": lambda body: sign(SECRET, body, int(time.time()) + 301),
    "signature of another body": lambda body: sign(SECRET, body + "&x=1"),
    "missing headers": lambda body: {},
    "missing signature": lambda body: {"X-Slack-Request-Timestamp": str(int(time.time()))},
}


@pytest.fixture
def probed(runtime: Runtime) -> SlackDriver:
    return SlackDriver(create_app(runtime, register=[handlers.register, register_probe]), SECRET)


def send(url: str, body: str, headers: dict[str, str]) -> int:
    """POST ``body`` with exactly ``headers`` (``slack_requests.post`` always signs)."""
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": FORM, **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def dispatch(app: App, body: str, headers: dict[str, str]) -> int:
    return app.dispatch(BoltRequest(body=body, headers={"Content-Type": FORM, **headers})).status


def test_a_signed_request_writes(
    probed: SlackDriver, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    before = row_counts(runtime.settings.database_url)
    body = command_body("", user="U1").replace("%2Fally", "%2Fally-probe")
    assert dispatch(probed.app, body, sign(SECRET, body)) == 200
    assert row_counts(runtime.settings.database_url)["interactions"] == before["interactions"] + 1


@pytest.mark.parametrize("command", ["/ally-probe", "/ally"])
def test_unsigned_requests_are_refused_and_write_nothing(
    probed: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, command: str
) -> None:
    before = row_counts(runtime.settings.database_url)
    body = command_body(THANKS, user="U1").replace("%2Fally", command.replace("/", "%2F"))
    for forgery, headers in FORGERIES.items():
        assert dispatch(probed.app, body, headers(body)) == 401, forgery
    assert row_counts(runtime.settings.database_url) == before
    assert fake_slack.calls == []


@pytest.mark.slow
def test_over_http_the_running_bot_refuses_them_too(
    fake_slack: FakeSlack, sqlite_url: str, tmp_path: Path
) -> None:
    with running_bot(bot_env(fake_slack.base_url, sqlite_url, SECRET), tmp_path) as bot:
        wait_until(bot.healthy, "GET /healthz to answer 200")
        before = row_counts(sqlite_url)
        body = command_body(THANKS, user="U1")
        for forgery, headers in FORGERIES.items():
            assert send(f"{bot.url}/slack/events", body, headers(body)) == 401, forgery
        assert row_counts(sqlite_url) == before
        assert fake_slack.calls == []
        # The same request, signed by Slack, is recorded: the refusals above were the signature's.
        assert send(f"{bot.url}/slack/events", body, sign(SECRET, body)) == 200
        assert row_counts(sqlite_url)["interactions"] == before["interactions"] + 1
        assert bot.stop(signal.SIGTERM) == 0
