"""The WSGI app that gunicorn serves, called in-process for the paths a live server rarely hits:
an unreachable database, a lying Content-Length, a body that is not UTF-8."""

from __future__ import annotations

from pathlib import Path

from slack_bolt import App

from bot.platform.runtime import Runtime
from bot.platform.server import MAX_BODY_BYTES, AllyWSGI
from storage.db import make_engine, make_session_factory
from tests.support.settings import SECRET
from tests.support.slack_requests import command_body, sign
from tests.support.wsgi import call


def test_healthz_answers_for_the_database(app: App, runtime: Runtime) -> None:
    assert call(AllyWSGI(app, runtime), "GET", "/healthz") == (200, b"ok\n")
    assert call(AllyWSGI(app, runtime), "HEAD", "/healthz")[0] == 200


def test_healthz_is_503_when_the_database_is_unreachable(
    app: App, runtime: Runtime, tmp_path: Path
) -> None:
    # A folder where the SQLite file should be: connecting fails as an unreachable server does.
    engine = make_engine(f"sqlite:///{tmp_path}")
    broken = Runtime(runtime.settings, engine, make_session_factory(engine))
    try:
        assert call(AllyWSGI(app, broken), "GET", "/healthz") == (503, b"database unreachable\n")
    finally:
        broken.close()


def test_a_signed_command_goes_through(app: App, runtime: Runtime) -> None:
    body = command_body("help", user="U1")
    status, content = call(
        AllyWSGI(app, runtime), "POST", "/slack/events", body.encode(), **sign(SECRET, body)
    )
    assert status == 200
    assert b"Record who helped you" in content


def test_bodies_that_cannot_come_from_slack(app: App, runtime: Runtime) -> None:
    wsgi = AllyWSGI(app, runtime)
    too_big = str(MAX_BODY_BYTES + 1)
    assert call(wsgi, "POST", "/slack/events", b"", content_length=too_big)[0] == 413
    assert call(wsgi, "POST", "/slack/events", b"", content_length="-5")[0] == 413
    assert call(wsgi, "POST", "/slack/events", b"", content_length="lots")[0] == 413
    latin1 = "text=caf\xe9".encode("latin-1")
    assert call(wsgi, "POST", "/slack/events", latin1, **sign(SECRET, "text=café"))[0] == 400
