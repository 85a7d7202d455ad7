"""The database goes away under load and comes back: while it is down members get a friendly
"try again" (never a traceback or a bare error), the server recovers by itself (no restart), and
every write it acknowledged is in the database, once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from storage.migrate import upgrade
from tests.support.fake_slack import FakeSlack
from tests.support.private_pg import PrivateCluster, private_postgres
from tests.support.serving import AllyServer, running_server, wait_for
from tests.support.workload import (
    FRIENDLY_FAILURES,
    Outcome,
    Tally,
    describe,
    ledger_in,
    members,
    run_members,
)

CLIENTS = 6
# Members write until the database has been down and back and each of them has had a write
# through since; this long only if that never happens (the test then fails).
DEADLINE = 90.0
pytestmark = pytest.mark.slow


def friendly(outcome: Outcome) -> bool:
    """A reply a member can read and act on, whether or not the write was done."""
    reply = outcome.reply
    if reply.status != 200 or "Traceback" in reply.body:
        return False
    return outcome.write.done(reply) or any(word in reply.text for word in FRIENDLY_FAILURES)


def restart_under_load(
    cluster: PrivateCluster, server: AllyServer, tally: Tally, marks: dict[str, float]
) -> None:
    """Once every member is writing, stop the database until members have felt it, then start
    it again. ``marks`` gets when the outage began and ended."""
    wait_for(lambda: len(tally.outcomes) >= CLIENTS * 6, 30, "every member to start writing")
    cluster.stop()
    marks["down"] = time.monotonic()
    wait_for(
        lambda: sum(o.at > marks["down"] for o in tally.outcomes) >= CLIENTS,
        15,
        "answers while the database is down",
    )
    cluster.start()
    marks["up"] = time.monotonic()


def test_the_server_recovers_from_a_database_restart_and_keeps_every_acknowledged_write(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    with private_postgres() as cluster:
        upgrade(cluster.url)
        users = members(fake_slack, CLIENTS)
        tally = Tally()
        marks: dict[str, float] = {}
        with running_server(fake_slack, cluster.url, tmp_path, workers=2) as server:
            pid = server.process.pid
            restarter = threading.Thread(
                target=restart_under_load, args=(cluster, server, tally, marks)
            )
            restarter.start()

            def recovered() -> bool:
                """Every member has had a write through that went out after the restart."""
                if "up" not in marks:
                    return not restarter.is_alive()  # it gave up: stop, and fail below
                return {o.user for o in tally.done() if o.sent > marks["up"]} == set(users)

            run_members(server, users, seconds=DEADLINE, tally=tally, until=recovered)
            restarter.join()
            assert "up" in marks, "the database was not restarted"
            assert server.process.poll() is None and server.process.pid == pid
            assert server.healthy()
        by_contact, by_what = ledger_in(cluster.url)

    rude = [o for o in tally.outcomes if not friendly(o)]
    assert not rude, describe(rude)
    during = [o for o in tally.outcomes if marks["down"] < o.at < marks["up"]]
    assert any(not o.write.done(o.reply) for o in during), "the outage was never felt"
    # Recovered without a restart: every member's writes go through again afterwards.
    after = [o for o in tally.done() if o.sent > marks["up"]]
    assert {o.user for o in after} == set(users), describe(tally.not_done()[-5:])

    acknowledged = tally.expected()
    attempted = tally.expected(tally.outcomes)
    # Every acknowledged write is there; a write whose reply was "sorry" may or may not be
    # (the commit can land as the connection drops), but nothing is there twice.
    assert all(by_contact[key] >= n for key, n in acknowledged.items()), acknowledged - by_contact
    assert all(n <= attempted[key] for key, n in by_contact.items()), by_contact - attempted
    assert max(by_what.values()) == 1
    assert sum(acknowledged.values()) > 0 and Counter(by_contact) != Counter()
