"""One place where an unexpected failure in any listener becomes a log line, not a traceback."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse

from bot.runtime import Runtime

log = logging.getLogger(__name__)


def register(app: App, runtime: Runtime) -> None:
    @app.error
    def on_error(error: Exception, body: dict) -> BoltResponse:
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
        return BoltResponse(status=200, body="")
