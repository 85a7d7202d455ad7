"""Socket Mode: the real ``ally-bot run`` (with SLACK_APP_TOKEN) connects to a local fake Socket
Mode server and answers an ``/ally`` envelope, as it would answer Slack's own."""

from __future__ import annotations

import json
import queue
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.support.fake_slack import FakeSlack
from tests.support.process import bot_env, running_bot, wait_until
from tests.support.slack_requests import command_body

pytestmark = pytest.mark.slow
APP_TOKEN = "xapp-1-A1-test"


@dataclass
class FakeSocketMode:
    """Slack's side of a Socket Mode WebSocket: says hello, sends envelopes, collects acks."""

    server: Server
    received: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    connections: list[ServerConnection] = field(default_factory=list)
    closed: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        host, port = self.server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=test-ticket&app_id=A1"

    def send(self, envelope: dict[str, Any]) -> None:
        self.connections[-1].send(json.dumps(envelope))

    def ack_for(self, envelope_id: str, timeout: float = 20.0) -> dict[str, Any]:
        """The client's next message for ``envelope_id`` (skipping anything else)."""
        while True:
            message = self.received.get(timeout=timeout)
            if message.get("envelope_id") == envelope_id:
                return message


@pytest.fixture
def socket_server() -> Iterator[FakeSocketMode]:
    fake: FakeSocketMode

    def session(connection: ServerConnection) -> None:
        fake.connections.append(connection)
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "fake", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": "A1"},
                }
            )
        )
        try:
            for raw in connection:
                fake.received.put(json.loads(raw))
        except ConnectionClosed:
            pass
        fake.closed.set()

    server = serve(session, "127.0.0.1", 0, ping_interval=None)
    fake = FakeSocketMode(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    thread.join(timeout=10)


def test_ally_answers_a_slash_command_envelope(
    fake_slack: FakeSlack, socket_server: FakeSocketMode, sqlite_url: str, tmp_path: Path
) -> None:
    fake_slack.socket_url = socket_server.url
    # With the nudge scheduler on, as in production: its thread must not hold up the stop.
    env = bot_env(fake_slack.base_url, sqlite_url, SLACK_APP_TOKEN=APP_TOKEN, ALLY_SCHEDULER="on")
    with running_bot(env, tmp_path) as bot:

        def connected() -> bool:
            if not bot.running():
                raise AssertionError(f"ally-bot exited with {bot.process.returncode}:\n{bot.log()}")
            return bool(socket_server.connections)

        wait_until(connected, "ally-bot to open the Socket Mode WebSocket")
        # It asked the fake Slack (SLACK_API_URL) for the URL, with its app-level token.
        (opened,) = fake_slack.calls_to("apps.connections.open")
        assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"

        payload = dict(parse_qsl(command_body("help", user="U1")))
        socket_server.send(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": payload,
            }
        )
        ack = socket_server.ack_for("env-1")
        assert ack["payload"]["response_type"] == "ephemeral"
        texts = json.dumps(ack["payload"]["blocks"])
        assert "Record who helped you" in texts
        assert "Only you can see what you log" in texts

        assert bot.stop(signal.SIGTERM) == 0
        wait_until(socket_server.closed.is_set, "ally-bot to close its WebSocket", deadline=10)
        assert "Traceback" not in bot.log()
        assert "nudge scheduler started" in bot.log()
        assert "nudge scheduler stopped" in bot.log()


def test_a_refused_app_token_is_one_clear_line(
    fake_slack: FakeSlack, sqlite_url: str, tmp_path: Path
) -> None:
    # socket_url unset: the fake answers apps.connections.open with invalid_auth, as Slack does.
    env = bot_env(fake_slack.base_url, sqlite_url, SLACK_APP_TOKEN=APP_TOKEN)
    with running_bot(env, tmp_path) as bot:
        assert bot.process.wait(timeout=30) == 2
    last = bot.log().strip().splitlines()[-1]
    assert last.startswith("ally-bot: SLACK_APP_TOKEN was refused by Slack (invalid_auth)")
    assert "Traceback" not in bot.log()
