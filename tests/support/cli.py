"""``ally-bot`` run as a command, as an operator runs it: its environment and its answer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.fake_slack import FakeSlack

AT = "2026-11-16T10:00:00+00:00"


def ally_bot(fake: FakeSlack, db_url: str, cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": fake.base_url,
        "DATABASE_URL": db_url,
        "ALLY_SCHEDULER": "off",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,  # no .env here: the environment above is all the configuration
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def one_line_error(result: subprocess.CompletedProcess[str], *, code: int = 2) -> str:
    """The one stderr line of a command that must fail with ``code``."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in lines[0]
    assert lines[0].startswith("ally-bot: ")
    return lines[0]
