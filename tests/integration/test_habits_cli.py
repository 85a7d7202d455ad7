"""Project allies and meeting plans through ``ally-bot nudges preview|send`` on SQLite and
PostgreSQL, as an operator runs them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ledger import projects
from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.platform.runtime import Runtime
from storage.db import transaction
from tests.conftest import FrozenClock, make_settings
from tests.fake_slack import FakeSlack
from tests.integration.nudge_fixtures import add_member
from tests.integration.test_nudge_cli import AT, ally_bot, finish


@pytest.fixture
def runtime(fake_slack: FakeSlack, db_url: str, clock: FrozenClock) -> Iterator[Runtime]:
    rt = Runtime.start(make_settings(fake_slack, db_url), clock=clock)
    yield rt
    rt.close()


def test_preview_and_send_put_the_unmet_project_ally_first(
    runtime: Runtime, fake_slack: FakeSlack, db_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    ref = add_member(runtime, "U1", "Europe/London", contacts=2)
    with transaction(runtime.sessions) as session:
        projects.start(
            session,
            ref,
            "Q3 launch",
            [SlackPerson("U2", "Maria Lopez"), OutsidePerson("Dana Lee", "Acme")],
            clock.now,
        )
    code, out, _ = finish(
        ally_bot(fake_slack, db_url, tmp_path, "nudges", "preview", "--team", "T1", "--user", "U1")
    )
    assert code == 0
    first = out.split("\n\n", 1)[1].splitlines()
    assert "This week's person: Maria Lopez" in "\n".join(first[2:5])
    assert "One of your allies for “Q3 launch”" in out
    code, out, _ = finish(ally_bot(fake_slack, db_url, tmp_path, "nudges", "send", "--at", AT))
    assert code == 0 and "sent 1" in out
    [message] = fake_slack.messages["DU1"]
    assert "meet Maria Lopez for your project" in message["text"]


def test_a_member_only_sees_their_own_projects(runtime: Runtime, clock: FrozenClock) -> None:
    with transaction(runtime.sessions) as session:
        projects.start(session, MemberRef("T1", "U1"), "Mine", [SlackPerson("U2", "M")], clock.now)
        projects.start(session, MemberRef("T2", "U1"), "Other", [SlackPerson("U2", "M")], clock.now)
    with transaction(runtime.sessions) as session:
        assert [p.name for p in projects.active(session, MemberRef("T1", "U1"), clock.now)] == [
            "Mine"
        ]
