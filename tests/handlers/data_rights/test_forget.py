"""``/ally forget``: asks first; only the member who asked can confirm; confirming deletes all
of their data and nobody else's; cancelling deletes nothing."""

from __future__ import annotations

import pytest

import handlers
from bot.ledger.people import MemberRef
from bot.platform.app import create_app
from bot.platform.runtime import Runtime
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.member_data import counts, give_data, member_counts
from tests.support.runtime import MakeRuntime
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver

ANA = MemberRef(team_id="T1", user_id="U1")
BOB = MemberRef(team_id="T1", user_id="U3")


@pytest.fixture
def db_runtime(make_runtime: MakeRuntime, db_url: str, clock: FrozenClock) -> Runtime:
    runtime = make_runtime(db_url)
    give_data(runtime.sessions, ANA, clock())
    give_data(runtime.sessions, BOB, clock())
    return runtime


@pytest.fixture
def driver(db_runtime: Runtime) -> SlackDriver:
    return SlackDriver(create_app(db_runtime, register=[handlers.register]), SECRET)


def press(driver: SlackDriver, fake: FakeSlack, action: str, *, user: str, owner: str) -> str:
    """Press a confirmation button; returns what replaced the confirmation message."""
    fake.reset()
    reply = driver.action(
        action, user=user, value=owner, extra={"response_url": fake.response_url("respond")}
    )
    assert reply.status == 200
    [answer] = fake.calls_to("respond")
    assert answer["replace_original"] is True
    return str(answer["text"])


def test_forget_asks_first_and_deletes_nothing_yet(
    driver: SlackDriver, db_runtime: Runtime
) -> None:
    before = counts(db_runtime.sessions)
    reply = driver.command("forget", user="U1")
    assert "Delete all your Ally data?" in reply.text
    buttons = reply.json["blocks"][1]["elements"]
    assert [b["action_id"] for b in buttons] == ["forget_confirm", "forget_cancel"]
    assert {b["value"] for b in buttons} == {"U1"}
    assert counts(db_runtime.sessions) == before


def test_confirm_deletes_all_of_the_members_data_only(
    driver: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    bob_before = member_counts(db_runtime.sessions, BOB)
    said = press(driver, fake_slack, "forget_confirm", user="U1", owner="U1")
    assert "all your Ally data is deleted" in said and "2 contacts" in said
    assert member_counts(db_runtime.sessions, ANA) == {}
    assert member_counts(db_runtime.sessions, BOB) == bob_before
    assert counts(db_runtime.sessions)["home_visits"] == 1  # Bob's
    # Forgetting again is harmless.
    said = press(driver, fake_slack, "forget_confirm", user="U1", owner="U1")
    assert "0 contacts" in said


def test_only_the_member_who_asked_can_confirm(
    driver: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    before = counts(db_runtime.sessions)
    said = press(driver, fake_slack, "forget_confirm", user="U3", owner="U1")
    assert "Only the person who asked" in said
    assert counts(db_runtime.sessions) == before


def test_cancel_deletes_nothing(
    driver: SlackDriver, db_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    before = counts(db_runtime.sessions)
    said = press(driver, fake_slack, "forget_cancel", user="U1", owner="U1")
    assert "Nothing was deleted" in said
    assert counts(db_runtime.sessions) == before
