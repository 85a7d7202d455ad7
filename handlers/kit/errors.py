"""One place where an unexpected failure in any listener (or in the middleware before it, such as
the replay guard when the database is unreachable) becomes a log line and a friendly answer,
never a traceback, a bare error status or a silently closed modal."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse

from bot.platform.runtime import Runtime

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side, so that wasn't done. Please try again in a moment."
SORRY_MODAL = "Sorry, I couldn't save this just now. Please submit it again in a moment."


# Events whose work must not be lost: an erasure that failed is answered 5xx, so that Slack
# retries it (up to three times, with X-Slack-Retry-Num), instead of 200, which would end it.
# https://api.slack.com/apis/events-api#retries ("http_error": any answer other than 2xx)
MUST_RETRY = frozenset({"app_uninstalled", "tokens_revoked"})


def apology(body: dict) -> BoltResponse:
    """What Slack shows the member after a failure: an ephemeral reply to a command; a modal
    kept open (with what they typed) and a note on its first field; a 503 for an event Slack
    must deliver again; otherwise a plain ack."""
    event = body.get("event") if body.get("type") == "event_callback" else None
    if isinstance(event, dict) and event.get("type") in MUST_RETRY:
        return BoltResponse(status=503, body="")
    if body.get("command"):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": SORRY})
    if body.get("type") == "view_submission":
        values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
        first = next(iter(values), None)
        if first is not None:
            return BoltResponse(
                status=200, body={"response_action": "errors", "errors": {first: SORRY_MODAL}}
            )
    return BoltResponse(status=200, body="")


def register(app: App, runtime: Runtime) -> None:
    @app.error
    def on_error(
        error: Exception, body: dict, response: BoltResponse | None
    ) -> BoltResponse | None:
        team = (
            (body.get("team") or {}).get("id")
            if isinstance(body.get("team"), dict)
            else body.get("team_id")
        )
        user = (
            (body.get("user") or {}).get("id")
            if isinstance(body.get("user"), dict)
            else body.get("user_id")
        )
        log.error("listener failed team=%s user=%s: %r", team, user, error, exc_info=error)
        if response is not None and response.status == 200 and response.body:
            return None  # the listener had already answered: keep its answer
        return apology(body)
