"""Refuse to do the same Slack request twice, across every process that shares the database.

Bolt has already checked the signature and the five-minute timestamp window when this runs. A
request whose exact signature was seen before is a replay: it is acknowledged and dropped. An
event that Slack retries (``X-Slack-Retry-Num``) after the first delivery arrived is
acknowledged without redoing its work, so a slow first attempt is not run twice. A request that
failed (answered 5xx, so that Slack retries it) gives its keys back: the retry is then handled.
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
from storage.seen_requests import commit_lazily, forget, prune, remember

PRUNE_EVERY = 200  # requests per process between clean-ups of old keys

log = logging.getLogger(__name__)
Middleware = Callable[[BoltRequest, BoltResponse, Callable[[], BoltResponse]], BoltResponse]


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values else None


def _keys(req: BoltRequest) -> list[str]:
    """The keys ``replay_guard`` records for ``req`` (none for unsigned or Socket Mode ones)."""
    signature = _header(req, "x-slack-signature")
    timestamp = _header(req, "x-slack-request-timestamp")
    if req.mode == "socket_mode" or not signature or not timestamp or not timestamp.isdigit():
        return []
    keys = ["sig:" + signature]
    body = req.body or {}
    if body.get("type") == "event_callback" and body.get("event_id"):
        keys.append(f"event:{body['event_id']}")
    return keys


def release(runtime: Runtime, req: BoltRequest) -> None:
    """Forget a failed request's keys, so that Slack's retry of it is handled, not dropped."""
    keys = _keys(req)
    if not keys:
        return
    try:
        with runtime.engine.begin() as connection:
            for key in keys:
                forget(connection, key)
    except Exception:  # the database is what failed: a retry may then be dropped as a replay
        log.exception("could not release a failed request's replay keys")
        return
    log.info(
        "failed request released for Slack's retry",
        extra=fields(team=req.context.team_id, user=req.context.user_id, keys=len(keys)),
    )


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
        # One short transaction on a bare connection (no ORM session): every request runs it.
        with runtime.engine.begin() as connection:
            commit_lazily(connection)
            if next(counter) % PRUNE_EVERY == 0:
                prune(connection, request_ts)
                metrics.purge()
            fresh = remember(connection, "sig:" + signature, request_ts)
            event_fresh = event_id is None or remember(connection, f"event:{event_id}", request_ts)
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
