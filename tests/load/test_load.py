"""Load on loopback: 16 members at once, each sending the same number of writes, against the
real multi-process HTTP server (gunicorn workers on one PostgreSQL database). Every answer must
be a success and every acknowledged write must be in the database exactly once. How fast is not
asked here: throughput is measured in bench/ (``python -m bench``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.serving import running_server
from tests.support.workload import WRITES, describe, focus_in, ledger_in, members, run_members

CLIENTS = 16
ROUNDS = 10  # each member sends every kind of write this many times
WORKERS = 3

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_sixteen_members_writing_at_once_lose_nothing(
    fake_slack: FakeSlack, pg_url: str, tmp_path: Path
) -> None:
    users = members(fake_slack, CLIENTS)
    with running_server(fake_slack, pg_url, tmp_path, workers=WORKERS) as server:
        tally = run_members(server, users, cycles=ROUNDS * len(WRITES))
        log = server.log()

    failed = tally.not_done()
    assert not failed, f"{len(failed)} of {len(tally.outcomes)} requests failed:\n" + describe(
        failed
    )
    assert "Traceback" not in log, log[-3000:]
    # Every member's every write was answered, and the members wrote at the same time: each
    # one's first request went out before anyone's last answer came.
    per_member = {u: [o for o in tally.outcomes if o.user == u] for u in users}
    assert {u: len(sent) for u, sent in per_member.items()} == dict.fromkeys(
        users, ROUNDS * len(WRITES)
    )
    last_answer = min(max(o.at for o in sent) for sent in per_member.values())
    assert all(min(o.sent for o in sent) < last_answer for sent in per_member.values())

    by_contact, by_what = ledger_in(pg_url)
    assert by_contact == tally.expected()
    assert max(by_what.values()) == 1  # each write's unique text is there once: no repeats
    assert focus_in(pg_url) == tally.last_focus()
