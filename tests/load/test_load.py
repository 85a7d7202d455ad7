"""Load on loopback: 16 members at once, for 20 seconds, against the real multi-process HTTP
server (gunicorn workers on one PostgreSQL database). Every answer must be a success and every
acknowledged write must be in the database exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.serving import running_server
from tests.support.workload import describe, focus_in, ledger_in, member, run_members

CLIENTS = 16
SECONDS = 20.0
WORKERS = 3

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_sixteen_members_writing_for_twenty_seconds_lose_nothing(
    fake_slack: FakeSlack, pg_url: str, tmp_path: Path
) -> None:
    users = [member(i) for i in range(CLIENTS)]
    with running_server(fake_slack, pg_url, tmp_path, workers=WORKERS) as server:
        tally = run_members(server, users, seconds=SECONDS)
        log = server.log()

    failed = tally.not_done()
    assert not failed, f"{len(failed)} of {len(tally.outcomes)} requests failed:\n" + describe(
        failed
    )
    assert "Traceback" not in log, log[-3000:]
    # Every member got through several whole cycles: the run really was concurrent load.
    per_member = {u: sum(o.user == u for o in tally.outcomes) for u in users}
    assert min(per_member.values()) >= 12, per_member

    by_contact, by_what = ledger_in(pg_url)
    assert by_contact == tally.expected()
    assert max(by_what.values()) == 1  # each write's unique text is there once: no repeats
    assert focus_in(pg_url) == tally.last_focus()
