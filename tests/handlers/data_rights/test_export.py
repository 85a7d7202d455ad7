"""``/ally export``: Slack gets its answer at once; the JSON file with everything Ally holds about
the member (checked against every table of the metadata) is DMed after, by files upload v2,
exactly once however often the command arrives, with nobody else's data in it; Slack's refusals
reach the member through the command's response URL."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qsl, urlencode

import pytest
from slack_bolt import App

import handlers
from bot.ledger.people import MemberRef
from bot.platform.app import create_app
from bot.platform.runtime import Runtime
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.member_data import BY_IDENTITY, BY_MEMBER, OWNERSHIP, give_data, rows_about
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver, command_body, sign

ANA = MemberRef(team_id="T1", user_id="U1")
FORM = "application/x-www-form-urlencoded"
# Where each table's rows appear in the export.
EXPORT_KEYS = {"members": "member", "slack_users": "slack_profile"}


def finish(app: App) -> None:
    """Wait for the work Ally does after answering Slack."""
    app.listener_runner.listener_executor.shutdown(wait=True)


def the_upload(fake: FakeSlack) -> dict:
    [upload] = fake.calls_to("upload")
    return json.loads(upload["content"])


def with_response_url(body: str, url: str) -> str:
    fields = dict(parse_qsl(body))
    fields["response_url"] = url
    return urlencode(fields)


def test_export_holds_everything_and_only_the_members_data(
    runtime: Runtime, app: App, slack: SlackDriver, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    give_data(runtime.sessions, ANA, clock(), secret="ana-secret")
    give_data(runtime.sessions, MemberRef(team_id="T1", user_id="U3"), clock(), secret="bob-secret")
    give_data(runtime.sessions, MemberRef(team_id="T2", user_id="U1"), clock(), secret="t2-secret")
    held = rows_about(runtime.sessions, ANA)

    reply = slack.command("export", user="U1")
    assert "direct message" in reply.text
    finish(app)

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
    assert [q["question_id"] for q in data["questions_asked"]] == ["q-first"]
    assert [n["week"] for n in data["nudges"]] == ["2026-W47"]
    assert [p["name"] for p in data["slack_profile"]] == ["Member U1"]
    assert len(data["home_visits"]) == 1
    text = json.dumps(data)
    assert "bob-secret" not in text and "t2-secret" not in text

    # Every table that holds rows about a member is in the export, row for row.
    for table, how in OWNERSHIP.items():
        if how not in (BY_MEMBER, BY_IDENTITY):
            continue
        key = EXPORT_KEYS.get(table, table)
        assert key in data, f"the export leaves out {table}"
        exported = data[key] if isinstance(data[key], list) else [data[key]]
        # The export in progress is recorded (export_files) before the file is built.
        extra = 1 if table == "export_files" else 0
        assert len(exported) == held[table] + extra, table


def test_export_answers_slack_before_the_file_is_sent(
    app: App, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    slack_may_answer = threading.Event()

    def slow_upload_url(params: dict) -> dict:
        slack_may_answer.wait(10)
        return fake_slack._files_getUploadURLExternal(params)

    fake_slack.on("files.getUploadURLExternal", slow_upload_url)
    reply = slack.command("export", user="U1")
    # Slack has its answer while the upload is still waiting on Slack.
    assert reply.status == 200 and "in a moment" in reply.text
    assert fake_slack.calls_to("files.completeUploadExternal") == []
    slack_may_answer.set()
    finish(app)
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 1


def test_a_command_that_arrives_twice_sends_one_file(
    db_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    """The same command (same response URL) signed again, as a retry would be: one export.
    Two processes share the database, as two gunicorn workers would."""
    first, second = (
        create_app(db_runtime, register=[handlers.register]),
        create_app(db_runtime, register=[handlers.register]),
    )
    body = command_body("export", user="U1")
    # A new timestamp each, so a new signature: the replay guard lets each copy through. The
    # clock is read once, so a second that ticks between two copies cannot give them one.
    now = int(time.time())
    for seconds_ago, app in enumerate((first, second, first)):
        headers = sign(SECRET, body, now - seconds_ago)
        reply = SlackDriver(app, SECRET).send(body, FORM, headers)
        assert reply.status == 200 and "in a moment" in reply.text
    finish(first)
    finish(second)
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 1
    # A new command is a new export.
    third = create_app(db_runtime, register=[handlers.register])
    SlackDriver(third, SECRET).command("export", user="U1")
    finish(third)
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 2


def test_export_for_someone_who_never_used_ally(
    app: App, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    slack.command("export", user="U4")
    finish(app)
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
def test_slack_refusals_reach_the_member_after_the_answer(
    app: App, slack: SlackDriver, fake_slack: FakeSlack, method: str, error: str, says: str
) -> None:
    fake_slack.fail(method, status=200, error=error, retry_after=None)
    body = with_response_url(command_body("export", user="U1"), fake_slack.response_url("respond"))
    reply = slack.send(body, FORM)
    assert reply.status == 200 and "in a moment" in reply.text
    finish(app)
    [told] = fake_slack.calls_to("respond")
    assert "couldn't send your export" in told["text"] and says in told["text"]
    assert told["response_type"] == "ephemeral"


def test_export_on_both_databases(
    db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    give_data(db_runtime.sessions, ANA, clock(), secret="on-every-database")
    app = create_app(db_runtime, register=[handlers.register])
    assert "direct message" in SlackDriver(app, SECRET).command("export", user="U1").text
    finish(app)
    data = the_upload(fake_slack)
    assert len(data["contacts"]) == 2 and len(data["interactions"]) == 4
    assert "notes: on-every-database" in json.dumps(data)
