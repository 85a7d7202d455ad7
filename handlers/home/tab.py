"""The Home tab: published when a member opens it, republished after any write they make.

How republishing works, in one place: every service that writes a member's data says so in its
result (``home_changed``), and the listener passes that on to the request's context
(``handlers.kit.members.home_changed``). Bolt calls a completion handler after each listener, in
the listener's own thread (with or without ``process_before_response``); ours asks the context
whether the request changed the member's Home and, if so, republishes it on Bolt's listener
executor, so the reply to Slack never waits on ``views.publish`` or its rate-limit retries. One
publish per request, whatever it wrote.

Only a member who may be looking at Home gets the republish: one who entered it in the last
``bot.home.service.LOOKING`` (recorded on ``app_home_opened`` and on every click of a Home
button). Slack sends ``app_home_opened`` each time someone enters Home, and that publishes it
fresh, so for anyone else a republish would be work (and a rate-limited call) nobody sees.
"""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.listener.listener_completion_handler import ListenerCompletionHandler
from slack_sdk import WebClient

from bot.home.service import (
    HomeData,
    home_to_republish,
    opened_home,
)
from bot.ledger.people import MemberRef
from bot.platform.runtime import Runtime
from handlers.home.views import home_view
from handlers.kit.members import home_is_stale, member_of

log = logging.getLogger(__name__)


def publish(client: WebClient, data: HomeData) -> None:
    """Publish a member's Home as ``data`` says."""
    client.views_publish(user_id=data.member.user_id, view=home_view(data))


class RepublishHome(ListenerCompletionHandler):
    """After each listener: republish the acting member's Home if it changed their data and they
    may be looking at it; note a click on a Home button as a visit."""

    def __init__(self, inner: ListenerCompletionHandler, app: App, runtime: Runtime) -> None:
        self.inner = inner
        self.app = app
        self.runtime = runtime

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        try:
            self.inner.handle(request=request, response=response)
        finally:
            changed = home_is_stale(request.context)
            on_home = from_home(request.body)
            member = member_of(request.context)
            client = request.context.client
            if (changed or on_home) and member is not None and client is not None:
                executor = self.app.listener_runner.listener_executor
                executor.submit(self._refresh, client, member, changed, on_home)

    def _refresh(self, client: WebClient, member: MemberRef, changed: bool, on_home: bool) -> None:
        try:
            now = self.runtime.clock()
            data = home_to_republish(self.runtime, member, now, on_home=on_home, changed=changed)
            if data is not None:
                publish(client, data)
        except Exception:
            log.exception(
                "Home republish failed for team=%s user=%s", member.team_id, member.user_id
            )


def from_home(body: dict) -> bool:
    """Whether the request is a click on one of the Home tab's buttons."""
    view = body.get("view") if body.get("type") == "block_actions" else None
    return isinstance(view, dict) and view.get("type") == "home"


def register(app: App, runtime: Runtime) -> None:
    runner = app.listener_runner
    runner.listener_completion_handler = RepublishHome(
        runner.listener_completion_handler, app, runtime
    )

    @app.event("app_home_opened")
    def on_home_opened(event: dict, context: BoltContext, client: WebClient) -> None:
        member = member_of(context)
        if event.get("tab", "home") != "home" or member is None:
            return
        publish(client, opened_home(runtime, member, runtime.clock()))
