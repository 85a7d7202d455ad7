"""Serving Ally: Socket Mode, or HTTP through gunicorn (a production WSGI server).

HTTP routes: ``POST /slack/events`` for every Slack request, ``GET /healthz`` for the load
balancer, and the OAuth install pages when ``SLACK_CLIENT_ID`` is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.runtime import Runtime

# Slack's own payloads are far smaller; anything larger is refused before it is read.
MAX_BODY_BYTES = 1024 * 1024
log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class AllyWSGI:
    """Bolt's WSGI adapter plus a health check and a request size limit."""

    def __init__(self, app: App, runtime: Runtime) -> None:
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.runtime = runtime

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self._health(start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            start_response("413 Content Too Large", [("Content-Type", "text/plain")])
            return [b"Request body too large"]
        return self.slack(environ, start_response)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            with self.runtime.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check: database unreachable")
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"database unreachable\n"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]


def serve_http(build: Callable[[], tuple[App, Runtime]], port: int, workers: int) -> None:
    """Run gunicorn in this process; each worker builds its own app, engine and scheduler."""
    from gunicorn.app.base import BaseApplication

    class Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"0.0.0.0:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("timeout", 30)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("accesslog", None)
            self.cfg.set("proc_name", "ally-bot")

        def load(self) -> AllyWSGI:
            app, runtime = build()
            return AllyWSGI(app, runtime)

    Gunicorn().run()


def serve_socket_mode(app: App, app_token: str) -> None:
    """Connect to Slack over Socket Mode (no public URL) and serve until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()
