"""The Bolt app factory.

The listeners live in handlers/ and are found through the ``ally.listeners`` entry point, so
that this layer never imports the one above it (handlers -> bot -> storage).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from http.client import RemoteDisconnected
from importlib.metadata import entry_points
from urllib.error import URLError

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.platform import metrics
from bot.platform.config import ConfigError
from bot.platform.logs import describe, log_request
from bot.platform.malformed import refuse, request_problem
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


RATE_LIMIT_RETRIES = 3
# Extra wait after Retry-After, as a share of it: spreads out clients that were limited
# together without doubling a short wait (slack_sdk's own handler adds up to a whole second).
RETRY_JITTER = 0.1


class RateLimitRetry(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, counting each 429 for ``/metrics`` and waiting ``Retry-After``
    through ``sleep`` (the runtime's).

    With ``max_wait`` it gives up, rather than wait, when Slack asks for longer than that.
    """

    def __init__(
        self,
        sleep: Callable[[float], None],
        max_retry_count: int,
        max_wait: float | None = None,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep
        self.max_wait = max_wait

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        # Every 429 is counted, the last one too when the retries are used up.
        if response is not None and response.status_code == 429:
            metrics.rate_limited(request.url)
        if not super().can_retry(state=state, request=request, response=response, error=error):
            return False
        return self.max_wait is None or retry_after(response) <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("a 429 retry without a response")
        state.next_attempt_requested = True
        self.sleep(retry_after(response) * (1 + RETRY_JITTER * random.random()))
        state.increment_current_attempt()


def retry_after(response: HttpResponse | None) -> float:
    """Slack's ``Retry-After`` in seconds (docs.slack.dev/apis/web-api/rate-limits); 1 if absent."""
    headers = response.headers if response is not None else {}
    values = next((v for k, v in headers.items() if k.lower() == "retry-after"), [])
    try:
        return float(values[0]) if values else 1.0
    except ValueError:
        return 1.0


def retry_handlers(
    sleep: Callable[[float], None] = time.sleep, rate_limit_retries: int = RATE_LIMIT_RETRIES
) -> list[RetryHandler]:
    """Retry connection errors and timeouts, 429s (honouring Retry-After) and Slack's 5xx."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2, error_types=CONNECTION_ERRORS),
        RateLimitRetry(sleep, rate_limit_retries),
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
        retry_handlers=retry_handlers(runtime.sleep),
        timeout=10,
    )


def posting_client(
    client: WebClient,
    sleep: Callable[[float], None],
    *,
    retries: int = RATE_LIMIT_RETRIES,
    max_wait: float | None = None,
) -> WebClient:
    """``client`` for a call that must not be made twice blindly (a post): it retries 429s only.

    A 429 means Slack did not do it, so waiting out Retry-After (up to ``max_wait``) and asking
    again is safe. A 5xx, a dropped connection or a read timeout may come after Slack did it
    ("It's possible some aspect of the operation succeeded", Slack's ``internal_error``): those
    are never retried here; the caller records that the outcome is unknown and reconciles.
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[RateLimitRetry(sleep, retries, max_wait=max_wait)],
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
