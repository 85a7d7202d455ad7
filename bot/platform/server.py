"""Serving Ally: Socket Mode, or HTTP through gunicorn (a production WSGI server).

HTTP routes: ``POST /slack/events`` for every Slack request, ``GET /healthz`` for the load
balancer, ``GET /metrics`` for Prometheus (bot/platform/metrics.py), and the OAuth install
pages when ``SLACK_CLIENT_ID`` is set. Both modes stop cleanly on SIGTERM (what process managers and
``docker stop`` send) and SIGINT (Ctrl+C).
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.platform import metrics
from bot.platform.malformed import body_problem, refuse
from bot.platform.runtime import Runtime

# Slack's own payloads are far smaller; anything larger is refused before it is read.
MAX_BODY_BYTES = 1024 * 1024
log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class AllyWSGI:
    """Bolt's WSGI adapter plus a health check, metrics, a request size limit and a UTF-8
    check. ``/healthz`` and ``/metrics`` are answered here, before Bolt: no signature."""

    def __init__(self, app: App, runtime: Runtime) -> None:
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.runtime = runtime

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self._health(start_response)
        if path == "/metrics" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            body, content_type = metrics.exposition()
            start_response(
                "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))]
            )
            return [body]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            return _plain(start_response, "413 Content Too Large", "Request body too large\n")
        if length:
            # Bolt decodes the body as UTF-8 and would fail with a 500 on anything else:
            # such a request cannot come from Slack, so it is refused up front.
            body = environ["wsgi.input"].read(length)
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                return _plain(start_response, "400 Bad Request", "Request body is not UTF-8\n")
            environ["wsgi.input"] = io.BytesIO(body)
            if path == self.slack.path and environ.get("REQUEST_METHOD") == "POST":
                content_type = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip()
                problem = body_problem(body.decode("utf-8"), content_type or None)
                if problem is not None:
                    refuse(problem)
                    return _plain(start_response, "400 Bad Request", "Malformed request\n")
        return self.slack(environ, start_response)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            with self.runtime.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check: database unreachable")
            return _plain(start_response, "503 Service Unavailable", "database unreachable\n")
        return _plain(start_response, "200 OK", "ok\n")


def _plain(start_response: StartResponse, status: str, body: str) -> list[bytes]:
    data = body.encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    )
    return [data]


class ServerLog(GunicornLogger):
    """gunicorn's own lines (start, workers, signals) through Ally's log handlers, so the whole
    process logs one format (JSON lines, bot.platform.logs) instead of two."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for server_log in (self.error_log, self.access_log):
            for handler in list(server_log.handlers):
                server_log.removeHandler(handler)
            server_log.propagate = True


def serve_http(build: Callable[[], tuple[App, Runtime]], port: int, workers: int) -> None:
    """Run gunicorn in this process; each worker builds its own app, engine and scheduler.

    gunicorn's arbiter handles SIGTERM (graceful stop) and SIGINT (quick stop) and exits 0.
    Every worker counts its metrics in files under one temporary folder, made here before the
    workers start and removed when the server stops, so ``/metrics`` adds them all up.
    """
    from gunicorn.app.base import BaseApplication

    metrics_dir = tempfile.mkdtemp(prefix="ally-metrics-")
    os.environ[metrics.MULTIPROC_ENV] = metrics_dir

    def child_exit(_server: Any, worker: Any) -> None:
        metrics.worker_exited(worker.pid)

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
            self.cfg.set("logger_class", ServerLog)
            self.cfg.set("child_exit", child_exit)
            # gunicorn >= 24 opens a control socket at one fixed path per user, which several
            # Ally processes on one machine would fight over; Ally does not use it.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)

        def load(self) -> AllyWSGI:
            app, runtime = build()
            return AllyWSGI(app, runtime)

    try:
        Gunicorn().run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def serve_socket_mode(app: App, app_token: str) -> None:
    """Connect to Slack over Socket Mode (no public URL) and serve until SIGTERM or SIGINT.

    The Socket Mode client asks ``apps.connections.open`` for its WebSocket URL through
    ``app.client``, so ``SLACK_API_URL`` applies to it as to every other call.
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s: disconnecting from Slack", signal.Signals(signum).name)
        stop.set()

    handler = SocketModeHandler(app, app_token, web_client=app.client)
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        handler.connect()
        log.info("Ally is connected to Slack over Socket Mode")
        stop.wait()
    finally:
        handler.close()
        for sig, old in previous.items():
            signal.signal(sig, old)
