"""Start the real ``ally-bot`` as a subprocess, wait for it on a condition, stop it by signal."""

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

# Every variable Ally reads; the parent's values must not leak into the process under test.
ALLY_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "DATABASE_URL",
    "SLACK_API_URL",
    "PORT",
    "WEB_CONCURRENCY",
    "LOG_LEVEL",
    "ALLY_SCHEDULER",
    "ALLY_ENCRYPTION_KEY",
    "ALLY_CALENDAR_ALLOW_HTTP_HOSTS",
)
ALLY_BOT = str(Path(sys.executable).with_name("ally-bot"))
# Starting takes about a second; a loaded CI machine may take several.
START_DEADLINE = 30.0


def ally_env(**values: str) -> dict[str, str]:
    """The test process's environment without Ally's variables, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if k not in ALLY_VARIABLES}
    env.update(values)
    return env


def bot_env(api_url: str, database_url: str, secret: str = "", **values: str) -> dict[str, str]:
    """Environment for ``ally-bot run`` against a fake Slack: HTTP mode on a free port, or
    Socket Mode when ``SLACK_APP_TOKEN`` is among ``values``."""
    env = ally_env(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_API_URL=api_url,
        DATABASE_URL=database_url,
        ALLY_SCHEDULER="off",
    )
    env.update(values)
    if "SLACK_APP_TOKEN" not in values:
        env.update(SLACK_SIGNING_SECRET=secret, PORT=str(free_port()))
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, deadline: float = START_DEADLINE) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` once ``deadline`` seconds pass."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline:.0f}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Bot:
    process: subprocess.Popen[bytes]
    log_path: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def healthy(self) -> bool:
        if not self.running():
            raise AssertionError(f"ally-bot exited with {self.process.returncode}:\n{self.log()}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self, sig: signal.Signals = signal.SIGTERM, deadline: float = 20.0) -> int:
        """Send ``sig`` and return the exit code; the process must stop within ``deadline``."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"ally-bot ignored {sig.name}:\n{self.log()}") from None


@contextmanager
def running_bot(env: dict[str, str], cwd: Path, *args: str) -> Iterator[Bot]:
    """``ally-bot run`` (or ``args``) in ``cwd``; killed at the end if a test left it running."""
    log_path = cwd / "ally-bot.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [ALLY_BOT, *(args or ("run",))],
            cwd=cwd,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Its own process group, so that cleanup also reaches gunicorn's workers.
            start_new_session=True,
        )
    port = int(env["PORT"]) if "PORT" in env else None
    bot = Bot(process, log_path, port)
    try:
        yield bot
    finally:
        if bot.running():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a short ``ally-bot``/``python -m bot`` command to completion."""
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
