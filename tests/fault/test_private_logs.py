"""Nothing a member wrote reaches the log, whatever fails: a locked SQLite file, a value too long
for PostgreSQL, an unreachable database, forged and malformed requests that carry the text. Every
line any logger emits at DEBUG goes through Ally's handler (bot.platform.logs.configure on the root
logger) and is searched for the member's words."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import event

import handlers
from bot.ledger.people import MemberRef
from bot.platform import logs
from bot.platform.app import create_app
from bot.platform.runtime import Runtime
from bot.platform.server import AllyWSGI
from storage.db import sqlite_path
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.member_data import give_data
from tests.support.runtime import MakeRuntime
from tests.support.settings import SECRET
from tests.support.slack_requests import (
    SlackDriver,
    command_body,
    interactive_body,
    sign,
    wsgi_post,
)

MARK = "leaving-in-spring-7f3a"
FORM = "application/x-www-form-urlencoded"
ANA = MemberRef(team_id="T1", user_id="U1")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every record from every logger at DEBUG, through Ally's own handler and filter."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    chatty = {name: logging.getLogger(name).level for name in logs.CHATTY}
    stream = io.StringIO()
    handler = logs.configure("DEBUG", stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(saved[0])
    for name, level in chatty.items():
        logging.getLogger(name).setLevel(level)


def assert_private(stream: io.StringIO, *, expect: str) -> list[dict]:
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    # The fault really was logged (so the test had something to search)...
    assert any(expect in json.dumps(line) for line in lines), expect
    # ...and the member's words are nowhere in it.
    assert MARK not in text
    return lines


def test_a_locked_sqlite_database_logs_no_values(
    captured: io.StringIO, make_runtime: MakeRuntime, sqlite_url: str
) -> None:
    runtime = make_runtime(sqlite_url)

    @event.listens_for(runtime.engine, "connect")
    def _short_wait(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    path = sqlite_path(sqlite_url)
    assert path is not None
    holder = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process is writing
        slack = SlackDriver(create_app(runtime, register=[handlers.register]), SECRET)
        reply = slack.command(f"thanks <@U2|maria> for {MARK}", user="U1")
        assert "something went wrong" in reply.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        runtime.close()
    assert_private(captured, expect="database is locked")


@pytest.mark.postgres
def test_a_value_too_long_for_postgresql_logs_no_values(
    captured: io.StringIO,
    make_runtime: MakeRuntime,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Let the domain's length check pass so that PostgreSQL is the one to refuse the value.
    monkeypatch.setattr("bot.ledger.service.WHAT_MAX", 100_000)
    runtime = make_runtime(pg_url)
    try:
        slack = SlackDriver(create_app(runtime, register=[handlers.register]), SECRET)
        reply = slack.command(f"thanks <@U2|maria> for {MARK * 100}", user="U1")
        assert "something went wrong" in reply.text
    finally:
        runtime.close()
    assert_private(captured, expect="value too long")


@pytest.mark.postgres
def test_a_unique_violation_on_postgresql_logs_no_key(
    captured: io.StringIO, make_runtime: MakeRuntime, pg_url: str, clock: FrozenClock
) -> None:
    """PostgreSQL quotes a refused key in its DETAIL line: ``Key (...)=(1, ~<name>)``."""
    from sqlalchemy.exc import IntegrityError

    from storage.db import transaction
    from storage.models import Contact
    from storage.repository import find_member

    runtime = make_runtime(pg_url)
    refused = False
    try:
        give_data(runtime.sessions, ANA, clock())
        with transaction(runtime.sessions) as session:
            member = find_member(session, "", "T1", "U1")
            assert member is not None
            for _ in range(2):
                session.add(
                    Contact(member_id=member.id, key=f"~{MARK}", name=MARK, created_at=clock())
                )
                session.flush()
    except IntegrityError:
        refused = True
        logging.getLogger("ally.test").exception("write refused")
    finally:
        runtime.close()
    assert refused
    lines = assert_private(captured, expect="duplicate key")
    assert any("DETAIL: [dropped]" in line.get("error", "") for line in lines)


def test_an_unreachable_database_logs_no_values(
    captured: io.StringIO, make_runtime: MakeRuntime
) -> None:
    # Nothing listens on port 1: every connection is refused at once.
    url = "postgresql://ally@127.0.0.1:1/ally"
    runtime = make_runtime(url)
    try:
        slack = SlackDriver(create_app(runtime, register=[handlers.register]), SECRET)
        reply = slack.command(f"thanks <@U2|maria> for {MARK}", user="U1")
        assert "something went wrong" in reply.text
    finally:
        runtime.close()
    assert_private(captured, expect="listener failed")


def forged_and_malformed() -> list[tuple[str, str, str, dict[str, str]]]:
    """(name, body, content type, headers) for requests no one but Slack may send."""
    command = command_body(f"thanks <@U2|maria> for {MARK}", user="U1")
    now = str(int(time.time()))
    return [
        ("forged signature", command, FORM, sign("not-the-secret", command)),
        ("stale timestamp", command, FORM, sign(SECRET, command, int(time.time()) - 400)),
        ("non-numeric timestamp", command, FORM, {"X-Slack-Request-Timestamp": MARK}),
        ("JSON array", json.dumps([MARK]), "application/json", sign(SECRET, json.dumps([MARK]))),
        ("payload not JSON", "payload=" + quote(MARK), FORM, {"X-Slack-Request-Timestamp": now}),
        (
            "event that is a list",
            json.dumps({"type": "event_callback", "event": [MARK]}),
            "application/json",
            {},
        ),
        (
            "actions that is text",
            interactive_body({"type": "block_actions", "actions": MARK}),
            FORM,
            {},
        ),
        ("long unsigned form", urlencode({"text": MARK * 5000}), FORM, {}),
    ]


def test_forged_and_malformed_requests_log_one_short_line_each_and_no_text(
    captured: io.StringIO, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    server = AllyWSGI(create_app(runtime, register=[handlers.register]), runtime)
    statuses = {}
    for name, body, content_type, headers in forged_and_malformed():
        statuses[name] = wsgi_post(server, body, content_type, headers)[0]
    assert statuses == {
        "forged signature": 401,
        "stale timestamp": 401,
        "non-numeric timestamp": 400,
        "JSON array": 400,
        "payload not JSON": 400,
        "event that is a list": 400,
        "actions that is text": 400,
        "long unsigned form": 401,
    }
    lines = assert_private(captured, expect="malformed request refused")
    assert not any("error" in line for line in lines), "no traceback"
    assert all(len(json.dumps(line)) < 2500 for line in lines)
    assert fake_slack.calls == []


LINE_LIMIT = 4096


def huge_request(size: int) -> str:
    """A JSON body whose kind, workspace and member ids are each ``size`` characters long."""
    return json.dumps(
        {
            "type": "k" * size,
            "team_id": "T" * size,
            "user": {"id": "U" * size, "team_id": "T" * size},
            "api_app_id": "A1",
        }
    )


@pytest.mark.parametrize(
    "how",
    ["unsigned", "forged signature", "signed", "signed with multibyte ids"],
)
def test_no_log_line_is_longer_than_4_kb_whatever_a_request_carries(
    captured: io.StringIO, runtime: Runtime, fake_slack: FakeSlack, how: str
) -> None:
    server = AllyWSGI(create_app(runtime, register=[handlers.register]), runtime)
    body = huge_request(200_000)
    if how == "signed with multibyte ids":
        # Characters of three bytes each in UTF-8: the limit is on bytes, not characters.
        body = body.replace("T" * 200_000, "\u2603" * 50_000)
    headers = {
        "unsigned": {"X-Slack-Request-Timestamp": str(int(time.time()))},
        "forged signature": sign("not-the-secret", body),
    }.get(how, sign(SECRET, body))
    status, _answer = wsgi_post(server, body, "application/json", headers)
    assert status == (401 if how in ("unsigned", "forged signature") else 404)

    lines = captured.getvalue().splitlines()
    request_lines = []
    for raw in lines:
        assert len(raw.encode("utf-8")) <= LINE_LIMIT, raw[:200]
        line = json.loads(raw)  # still one JSON object per line
        if line["event"] == "slack request":
            request_lines.append(line)
    [line] = request_lines
    assert line["status"] == status
    # The oversized fields are shortened and named as cut; the short ones are whole.
    assert {"kind", "team", "user"} <= set(line["cut"])
    assert line["kind"].startswith("kkkk") and line["user"].startswith("UUUU")
    assert line["mode"] == "http"


def test_a_long_error_keeps_its_last_lines_within_the_limit(captured: io.StringIO) -> None:
    def deep(level: int) -> None:
        if level == 0:
            raise ValueError("x" * 6000 + " the innermost cause")
        deep(level - 1)

    try:
        deep(200)
    except ValueError:
        logging.getLogger("ally.test").exception(
            "failed " + "e" * 10_000, extra=logs.fields(team="T1", note="n" * 10_000)
        )
    [raw] = captured.getvalue().splitlines()
    assert len(raw.encode("utf-8")) <= LINE_LIMIT
    line = json.loads(raw)
    assert line["team"] == "T1"
    assert line["error"].startswith("[cut]")
    assert line["error"].rstrip().endswith("x the innermost cause")
    assert {"event", "note", "error"} <= set(line["cut"])


def test_a_line_with_hundreds_of_fields_keeps_its_event_within_the_limit(
    captured: io.StringIO,
) -> None:
    many = {f"field{i}": "v" * 150 for i in range(500)}
    logging.getLogger("ally.test").warning("too much", extra=logs.fields(**many))
    [raw] = captured.getvalue().splitlines()
    assert len(raw.encode("utf-8")) <= LINE_LIMIT
    line = json.loads(raw)
    assert (line["event"], line["level"], line["cut"]) == ("too much", "WARNING", ["every field"])
