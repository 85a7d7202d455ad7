"""Run the real ``python -m bot run`` HTTP server (gunicorn, several workers) as a subprocess,
and talk to it the way Slack does: signed commands and modal submissions over loopback HTTP.

Shared by the load test and the fault tests. The server reads the same settings as production
(environment variables only: it runs in an empty directory, so no ``.env`` leaks in).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.fake_slack import FakeSlack
from tests.support.settings import SECRET
from tests.support.slack_requests import TEAM, Reply, command_body, interactive_body, post

FORM = "application/x-www-form-urlencoded"
START_DEADLINE = 60.0  # seconds for gunicorn and its workers to answer /healthz
STOP_DEADLINE = 20.0
# Settings that would switch the server to another mode if the caller's shell had them.
FOREIGN = ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "DATABASE_URL", "PORT")


def free_port() -> int:
    """A port nobody listens on right now (the server cannot bind port 0 and tell us which)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], deadline: float, what: str) -> None:
    """Poll ``condition`` until it holds, or fail after ``deadline`` seconds naming ``what``."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up after {deadline:.0f} s waiting for {what}")
        time.sleep(0.05)


@dataclass
class AllyServer:
    """A running ``ally-bot run`` on loopback."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def _post(self, body: str) -> Reply:
        try:
            return post(self.base_url + "/slack/events", SECRET, body, FORM)
        except (OSError, urllib.error.URLError) as error:
            # No HTTP answer at all (connection refused or reset, or no reply in time).
            return Reply(0, f"no answer: {error!r}")

    def command(self, text: str, *, user: str) -> Reply:
        return self._post(command_body(text, user=user, team=TEAM))

    def submit(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        user: str,
        private_metadata: str = "",
        serial: str,
    ) -> Reply:
        """Submit a modal as Slack does; ``serial`` keeps each signed body unique."""
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A1",
            "trigger_id": f"trig-{serial}",
            "view": {
                "id": f"V{serial}",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": f"{int(time.time())}.{serial}",
            },
        }
        return self._post(interactive_body(payload))


def server_env(fake: FakeSlack, database_url: str, port: int, workers: int) -> dict[str, str]:
    fake.add_token("xoxb-load-test", "T1")  # the workspace the load runs in
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    env.update(
        SLACK_BOT_TOKEN="xoxb-load-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.base_url,
        DATABASE_URL=database_url,
        ALLY_SCHEDULER="off",
        WEB_CONCURRENCY=str(workers),
        PORT=str(port),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def running_server(
    fake: FakeSlack, database_url: str, workdir: Path, *, workers: int = 2
) -> Iterator[AllyServer]:
    """``python -m bot run`` with ``workers`` gunicorn workers, stopped (and reaped) on exit."""
    port = free_port()
    log_path = workdir / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=workdir,
            env=server_env(fake, database_url, port, workers),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers stop with it
        )
    server = AllyServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_for(
            lambda: process.poll() is not None or server.healthy(),
            START_DEADLINE,
            "the server's /healthz",
        )
        assert process.poll() is None, f"the server exited at start:\n{server.log()[-3000:]}"
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (gunicorn's graceful stop); SIGKILL to the whole group if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_DEADLINE)
            return
        except subprocess.TimeoutExpired:
            # Not reaped yet, so the group id still names this server's processes only.
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(STOP_DEADLINE)
