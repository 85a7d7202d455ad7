"""``ally-bot nudges preview|send`` as an operator runs them, including three sends at once."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.platform.runtime import Runtime
from storage.models import NudgeStatus, QuestionAsked
from tests.support.cli import AT, ally_bot, finish
from tests.support.fake_slack import FakeSlack, Params
from tests.support.nudge_fixtures import add_member, nudges


@pytest.fixture
def runtime(db_runtime: Runtime) -> Runtime:
    """This module's tests run on SQLite and on PostgreSQL."""
    return db_runtime


@pytest.mark.slow
def test_three_concurrent_sends_deliver_once(
    runtime: Runtime, fake_slack: FakeSlack, db_url: str, tmp_path: Path
) -> None:
    users = [f"UC{i}" for i in range(8)]
    for user in users:
        fake_slack.add_user(user, f"Member {user}", tz="Europe/London")
        add_member(runtime, user, "Europe/London", contacts=2)

    def slow_post(params: Params) -> dict:
        # Slack takes a moment to answer; that is when a second process would double-send.
        time.sleep(0.05)
        return fake_slack._chat_postMessage(params)

    fake_slack.on("chat.postMessage", slow_post)
    processes = [
        ally_bot(fake_slack, db_url, tmp_path, "nudges", "send", "--at", AT) for _ in range(3)
    ]
    results = [finish(p) for p in processes]
    for code, _out, err in results:
        assert code == 0, err
    sent = [int(re.search(r"sent (\d+)", out).group(1)) for _, out, _ in results]  # type: ignore[union-attr]
    assert sum(sent) == len(users)
    assert {channel: len(posted) for channel, posted in fake_slack.messages.items()} == {
        f"D{user}": 1 for user in users
    }
    assert [n.status for n in nudges(runtime)] == [NudgeStatus.SENT] * len(users)


def test_send_prints_a_summary_and_runs_once(
    runtime: Runtime, fake_slack: FakeSlack, db_url: str, tmp_path: Path
) -> None:
    add_member(runtime, "U1", "Europe/London")
    add_member(runtime, "U2", "America/New_York")  # 14:00 UTC: not due at 10:00
    code, out, err = finish(ally_bot(fake_slack, db_url, tmp_path, "nudges", "send", "--at", AT))
    assert code == 0, err
    assert out.strip() == f"nudges at {AT}: planned 1, sent 1, skipped 0, failed 0"
    assert err == ""  # not a terminal: no progress line
    code, out, _ = finish(ally_bot(fake_slack, db_url, tmp_path, "nudges", "send", "--at", AT))
    assert "planned 0, sent 0" in out
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_send_failure_exits_non_zero_and_says_so(
    runtime: Runtime, fake_slack: FakeSlack, db_url: str, tmp_path: Path
) -> None:
    add_member(runtime, "U1", "Europe/London")
    fake_slack.fail("chat.postMessage", status=200, error="fatal_error")
    code, out, _ = finish(ally_bot(fake_slack, db_url, tmp_path, "nudges", "send", "--at", AT))
    assert code == 1
    assert "planned 1, sent 0, skipped 0, failed 1" in out


def test_preview_prints_the_dm_without_sending(
    runtime: Runtime, fake_slack: FakeSlack, db_url: str, tmp_path: Path
) -> None:
    add_member(runtime, "U2", "America/New_York", contacts=2)
    code, out, err = finish(
        ally_bot(
            fake_slack,
            db_url,
            tmp_path,
            "nudges",
            "preview",
            "--team",
            "T1",
            "--user",
            "U2",
            "--at",
            AT,
        )
    )
    assert code == 0, err
    assert "week 2026-W47" in out
    assert "Monday 16 Nov 09:00 America/New_York (2026-11-16 14:00 UTC): not due yet" in out
    assert "*Stay in touch:*" in out and "Contact 1 (Acme)" in out
    assert "[Log a catch-up]" in out
    assert fake_slack.calls_to("chat.postMessage") == []
    assert nudges(runtime) == []
    # The questions the DM would carry are shown, and a preview does not use them up.
    questions = [line for line in out.splitlines() if line[:3] in ("1. ", "2. ", "3. ")]
    assert len(questions) == 3, out
    with runtime.sessions() as session:
        assert session.scalars(select(QuestionAsked)).all() == []


def test_preview_of_an_unknown_member_and_a_bad_time(
    runtime: Runtime, fake_slack: FakeSlack, db_url: str, tmp_path: Path
) -> None:
    code, out, _ = finish(
        ally_bot(fake_slack, db_url, tmp_path, "nudges", "preview", "--team", "T1", "--user", "U9")
    )
    assert code == 0
    assert "not a member yet" in out and "Welcome to your weekly nudge" in out
    code, _, err = finish(
        ally_bot(fake_slack, db_url, tmp_path, "nudges", "send", "--at", "monday")
    )
    assert code == 2
    assert "'monday' is not an ISO-8601 time" in err
