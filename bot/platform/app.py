"""The Bolt app factory.

The listeners live in handlers/ and are found through the ``ally.listeners`` entry point, so
that this layer never imports the one above it (handlers -> bot -> storage).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from http.client import RemoteDisconnected
from importlib.metadata import entry_points
from urllib.error import URLError

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from bot.platform import metrics
from bot.platform.config import ConfigError
from bot.platform.logs import describe, log_request
from bot.platform.malformed import refuse, request_problem
from bot.platform.metrics import CountingRateLimitRetryHandler
from bot.platform.oauth import oauth_flow
from bot.platform.replay import release, replay_guard
from bot.platform.runtime import Runtime

Register = Callable[[App, Runtime], None]
log = logging.getLogger(__name__)


# The SDK's default connection errors, plus a read timeout: urllib raises that bare
# (not as a URLError) when Slack accepts the connection but does not answer in time.
CONNECTION_ERRORS: list[type[Exception]] = [
    URLError,
    ConnectionResetError,
    RemoteDisconnected,
    TimeoutError,
]


def retry_handlers() -> list[RetryHandler]:
    """Retry connection errors and timeouts, 429s (honouring Retry-After) and Slack's 5xx."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2, error_types=CONNECTION_ERRORS),
        CountingRateLimitRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def web_client(runtime: Runtime, token: str | None = None) -> WebClient:
    """A Web API client on ``SLACK_API_URL`` with Ally's retry policy.

    Without ``token``, the single-workspace ``SLACK_BOT_TOKEN`` (None in OAuth mode, where each
    request's client gets its workspace's token from the installation store).
    """
    return WebClient(
        token=token or (None if runtime.settings.oauth else runtime.settings.bot_token),
        base_url=runtime.settings.api_base_url,
        retry_handlers=retry_handlers(),
        timeout=10,
    )


def installed_listeners() -> list[Register]:
    return [ep.load() for ep in entry_points(group="ally.listeners")]


class AllyApp(App):
    """Bolt's App, writing the one structured log line per Slack request once it is answered,
    and counting it for ``/metrics``; a failed request's replay keys are given back so that
    Slack's retry is handled."""

    runtime: Runtime | None = None

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        problem = request_problem(req)
        if problem is not None:
            # Before Bolt reads it: its middleware would raise on this shape (a 500).
            return refuse(problem)
        started = time.perf_counter()
        response = super().dispatch(req)
        if response.status >= 500 and self.runtime is not None:
            release(self.runtime, req)
        elapsed = time.perf_counter() - started
        log_request(req, response, elapsed * 1000)
        kind, _name = describe(req.body or {})
        retried = bool(req.headers.get("x-slack-retry-num"))
        metrics.slack_request(kind, response.status, elapsed, retried=retried)
        return response


def create_app(runtime: Runtime, register: list[Register] | None = None) -> App:
    """Build the Bolt app for ``runtime`` and register the listeners on it.

    With ``SLACK_CLIENT_ID`` set, the app serves any number of workspaces: each request's token
    comes from the installation store (OAuth) instead of ``SLACK_BOT_TOKEN``.
    """
    settings = runtime.settings
    app = AllyApp(
        # The client carries SLACK_BOT_TOKEN (none in OAuth mode) and Bolt takes the token from it.
        signing_secret=settings.signing_secret or "",
        oauth_flow=oauth_flow(runtime),
        client=web_client(runtime),
        # Answer Slack after the listener returns: no ack polling loop, and work that must
        # happen inside Slack's 3 seconds (views.open) is done before the response.
        process_before_response=True,
        token_verification_enabled=False,
        logger=logging.getLogger("ally.bolt"),
    )
    app.runtime = runtime
    app.use(replay_guard(runtime))
    listeners = installed_listeners() if register is None else register
    if not listeners:
        raise ConfigError(
            "No Ally listeners are installed: run `make run` (or `pip install -e .`) "
            "from the project folder."
        )
    for add in listeners:
        add(app, runtime)
    return app
