"""Request security beyond the signature: a signed request replayed inside Slack's five-minute
window is not done twice (the memory is in the database, so it holds across processes); Slack's
retries of a delivered event are acknowledged without redoing the work; an oversized body is
refused before it is read, and nothing is written."""

from __future__ import annotations

import io
from typing import Any
from wsgiref.util import setup_testing_defaults

from slack_bolt import App

import handlers
from bot.ledger.people import MemberRef
from bot.platform.app import create_app
from bot.platform.runtime import Runtime
from bot.platform.server import MAX_BODY_BYTES, AllyWSGI
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.member_data import counts, give_data
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver, command_body, interactive_body, sign

FORM = "application/x-www-form-urlencoded"


def two_processes(runtime: Runtime) -> tuple[SlackDriver, SlackDriver]:
    """Two apps on one database, as two gunicorn workers would be."""
    return (
        SlackDriver(create_app(runtime, register=[handlers.register]), SECRET),
        SlackDriver(create_app(runtime, register=[handlers.register]), SECRET),
    )


def test_a_replayed_command_is_done_once(db_runtime: Runtime, fake_slack: FakeSlack) -> None:
    first, second = two_processes(db_runtime)
    body = command_body("export", user="U1")
    headers = sign(SECRET, body)
    assert "direct message" in first.send(body, FORM, headers).text
    replay = second.send(body, FORM, headers)
    assert replay.status == 200 and replay.body == ""
    for driver in (first, second):  # the file is sent after the answer
        driver.app.listener_runner.listener_executor.shutdown(wait=True)
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 1


def test_a_replayed_confirmation_does_not_erase_again(
    db_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    """The replay arrives after the member started again: their new data must survive it."""
    ana = MemberRef(team_id="T1", user_id="U1")
    give_data(db_runtime.sessions, ana, clock())
    first, second = two_processes(db_runtime)
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1", "team_id": "T1"},
        "api_app_id": "A1",
        "response_url": fake_slack.response_url("respond"),
        "actions": [{"action_id": "forget_confirm", "value": "U1", "action_ts": "1.2"}],
    }
    body = interactive_body(payload)
    headers = sign(SECRET, body)
    first.send(body, FORM, headers)
    give_data(db_runtime.sessions, ana, clock(), secret="after")
    kept = counts(db_runtime.sessions)
    second.send(body, FORM, headers)
    assert counts(db_runtime.sessions) == kept


def test_a_retried_event_is_acknowledged_without_redoing_it(
    db_runtime: Runtime, clock: FrozenClock
) -> None:
    first, second = two_processes(db_runtime)
    first.event({"type": "app_uninstalled"}, event_id="Ev42")
    # Data arrives again (a reinstall) before Slack's retry of the first delivery lands.
    give_data(db_runtime.sessions, MemberRef(team_id="T1", user_id="U1"), clock())
    kept = counts(db_runtime.sessions)
    retry = second.event(
        {"type": "app_uninstalled"}, event_id="Ev42", headers={"X-Slack-Retry-Num": "1"}
    )
    assert retry.status == 200
    assert counts(db_runtime.sessions) == kept


def test_a_retry_of_an_event_that_never_arrived_is_handled(
    db_runtime: Runtime, clock: FrozenClock
) -> None:
    give_data(db_runtime.sessions, MemberRef(team_id="T1", user_id="U1"), clock())
    _, second = two_processes(db_runtime)
    second.event({"type": "app_uninstalled"}, event_id="Ev43", headers={"X-Slack-Retry-Num": "2"})
    assert counts(db_runtime.sessions)["members"] == 0


def _post(wsgi: AllyWSGI, body: bytes, length: int | None) -> int:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "CONTENT_TYPE": FORM,
        "wsgi.input": io.BytesIO(body),
    }
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length)
    for key, value in sign(SECRET, body.decode()).items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    status: list[str] = []
    b"".join(wsgi(environ, lambda s, h: status.append(s)))
    return int(status[0].split()[0])


def test_an_oversized_body_is_refused_and_nothing_is_written(
    db_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    wsgi = AllyWSGI(create_app(db_runtime, register=[handlers.register]), db_runtime)
    before = counts(db_runtime.sessions)
    big = (command_body("forget", user="U1") + "&pad=" + "x" * MAX_BODY_BYTES).encode()
    assert _post(wsgi, big, len(big)) == 413
    assert _post(wsgi, big, -5) == 413
    assert counts(db_runtime.sessions) == before
    assert fake_slack.calls == []
    small = command_body("forget", user="U1").encode()
    assert _post(wsgi, small, len(small)) == 200


def test_socket_mode_requests_are_not_held_back(app: App) -> None:
    from slack_bolt import BoltRequest

    body = command_body("help", user="U1")
    for _ in range(2):
        response = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
        assert response.status == 200 and "private" in str(response.body)
