"""``/ally export``: a JSON file with everything Ally holds about the member, DMed to them by
files upload v2, with nobody else's data in it; Slack's refusals become a clear reply."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import handlers
from bot.app import create_app
from bot.people import MemberRef
from bot.runtime import Runtime
from tests.conftest import SECRET, FrozenClock, make_settings
from tests.fake_slack import FakeSlack
from tests.member_data import give_data
from tests.slack_requests import SlackDriver

ANA = MemberRef(team_id="T1", user_id="U1")


@pytest.fixture
def db_runtime(fake_slack: FakeSlack, db_url: str, clock: FrozenClock) -> Iterator[Runtime]:
    runtime = Runtime.start(make_settings(fake_slack, db_url), clock=clock, sleep=fake_slack.sleep)
    yield runtime
    runtime.close()


def the_upload(fake: FakeSlack) -> dict:
    [upload] = fake.calls_to("upload")
    return json.loads(upload["content"])


def test_export_holds_everything_and_only_the_members_data(
    runtime: Runtime, slack: SlackDriver, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    give_data(runtime.sessions, ANA, clock(), secret="ana-secret")
    give_data(runtime.sessions, MemberRef(team_id="T1", user_id="U3"), clock(), secret="bob-secret")
    give_data(runtime.sessions, MemberRef(team_id="T2", user_id="U1"), clock(), secret="t2-secret")

    reply = slack.command("export", user="U1")

    assert "direct message" in reply.text
    [opened] = fake_slack.calls_to("conversations.open")
    assert opened["users"] == "U1"
    [complete] = fake_slack.calls_to("files.completeUploadExternal")
    assert complete["channel_id"] == "DU1"
    [asked] = fake_slack.calls_to("files.getUploadURLExternal")
    assert asked["filename"] == "ally-export-2026-11-16.json"
    data = the_upload(fake_slack)
    assert data["format"] == "ally-export/1"
    assert data["user_id"] == "U1" and data["workspace"]["team_id"] == "T1"
    assert data["member"]["nudge_weekday"] == 0
    assert {c["name"] for c in data["contacts"]} == {"Maria Lopez", "Dana Lee"}
    maria = next(c for c in data["contacts"] if c["name"] == "Maria Lopez")
    assert maria["notes"] == "notes: ana-secret" and maria["level"] == "above"
    assert {i["kind"] for i in data["interactions"]} == {
        "favour_received",
        "favour_given",
        "intro_received",
    }
    assert [q["question_id"] for q in data["questions_asked"]] == ["q-first"]
    assert [n["week"] for n in data["nudges"]] == ["2026-W47"]
    text = json.dumps(data)
    assert "bob-secret" not in text and "t2-secret" not in text


def test_export_for_someone_who_never_used_ally(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    slack.command("export", user="U4")
    data = the_upload(fake_slack)
    assert data["member"] is None and data["contacts"] == []


@pytest.mark.parametrize(
    ("method", "error", "says"),
    [
        ("conversations.open", "user_not_found", "can't find"),
        ("conversations.open", "account_inactive", "reinstall"),
        ("files.completeUploadExternal", "channel_not_found", "can't reach"),
        ("files.getUploadURLExternal", "not_in_channel", "not in that conversation"),
    ],
)
def test_slack_refusals_become_a_clear_reply(
    slack: SlackDriver, fake_slack: FakeSlack, method: str, error: str, says: str
) -> None:
    fake_slack.fail(method, status=200, error=error, retry_after=None)
    reply = slack.command("export", user="U1")
    assert reply.status == 200
    assert "couldn't send your export" in reply.text
    assert says in reply.text


def test_export_on_both_databases(
    db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    give_data(db_runtime.sessions, ANA, clock(), secret="on-every-database")
    slack = SlackDriver(create_app(db_runtime, register=[handlers.register]), SECRET)
    assert "direct message" in slack.command("export", user="U1").text
    data = the_upload(fake_slack)
    assert len(data["contacts"]) == 2 and len(data["interactions"]) == 3
    assert "notes: on-every-database" in json.dumps(data)
