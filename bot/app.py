"""The Bolt app factory.

The listeners live in handlers/ and are found through the ``ally.listeners`` entry point, so
that this layer never imports the one above it (handlers -> bot -> storage).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from bot.config import ConfigError
from bot.runtime import Runtime

Register = Callable[[App, Runtime], None]
log = logging.getLogger(__name__)


def retry_handlers() -> list[RetryHandler]:
    """Retry connection errors, 429s (honouring Retry-After) and Slack's 5xx answers."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def web_client(runtime: Runtime, token: str | None = None) -> WebClient:
    """A Web API client on ``SLACK_API_URL`` with Ally's retry policy."""
    return WebClient(
        token=token or runtime.settings.bot_token,
        base_url=runtime.settings.api_base_url,
        retry_handlers=retry_handlers(),
        timeout=10,
    )


def installed_listeners() -> list[Register]:
    return [ep.load() for ep in entry_points(group="ally.listeners")]


def create_app(runtime: Runtime, register: list[Register] | None = None) -> App:
    """Build the Bolt app for ``runtime`` and register the listeners on it."""
    settings = runtime.settings
    app = App(
        token=settings.bot_token,
        signing_secret=settings.signing_secret or "",
        client=web_client(runtime),
        # Answer Slack after the listener returns: no ack polling loop, and work that must
        # happen inside Slack's 3 seconds (views.open) is done before the response.
        process_before_response=True,
        token_verification_enabled=False,
        logger=logging.getLogger("ally.bolt"),
    )
    listeners = installed_listeners() if register is None else register
    if not listeners:
        raise ConfigError(
            "No Ally listeners are installed: run `make run` (or `pip install -e .`) "
            "from the project folder."
        )
    for add in listeners:
        add(app, runtime)
    return app
