"""Refuse to do the same Slack request twice, across every process that shares the database.

Bolt has already checked the signature and the five-minute timestamp window when this runs. A
request whose exact signature was seen before is a replay: it is acknowledged and dropped. An
event that Slack retries (``X-Slack-Retry-Num``) after the first delivery arrived is
acknowledged without redoing its work, so a slow first attempt is not run twice.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.platform import metrics
from bot.platform.logs import fields
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.seen_requests import prune, remember

PRUNE_EVERY = 200  # requests per process between clean-ups of old keys

log = logging.getLogger(__name__)
Middleware = Callable[[BoltRequest, BoltResponse, Callable[[], BoltResponse]], BoltResponse]


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values else None


def replay_guard(runtime: Runtime) -> Middleware:
    """A Bolt global middleware that acknowledges replays and retries without running them."""
    counter = itertools.count()

    def guard(
        req: BoltRequest, resp: BoltResponse, next_: Callable[[], BoltResponse]
    ) -> BoltResponse:
        signature = _header(req, "x-slack-signature")
        timestamp = _header(req, "x-slack-request-timestamp")
        if req.mode == "socket_mode" or not signature or not timestamp or not timestamp.isdigit():
            # Socket Mode requests are not signed; unsigned HTTP ones never get this far.
            return next_()
        request_ts = int(timestamp)
        body = req.body or {}
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        retry = _header(req, "x-slack-retry-num")
        with transaction(runtime.sessions) as session:
            if next(counter) % PRUNE_EVERY == 0:
                prune(session, request_ts)
                metrics.purge()
            fresh = remember(session, "sig:" + signature, request_ts)
            event_fresh = event_id is None or remember(session, f"event:{event_id}", request_ts)
        if not fresh or (retry is not None and not event_fresh):
            log.info(
                "slack request ignored",
                extra=fields(
                    reason="replayed" if not fresh else "retry of a delivered event",
                    team=req.context.team_id,
                    user=req.context.user_id,
                    retry=retry,
                ),
            )
            return BoltResponse(status=200, body="")
        return next_()

    return guard
