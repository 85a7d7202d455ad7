"""The Home tab: published when a member opens it, republished after any write they make.

How republishing works, in one place: Bolt calls a start handler before each listener and a
completion handler after it, in the listener's own thread (with or without
``process_before_response``). We wrap both: the start handler begins tracking commits
(``bot.home.begin_changes``; ``bot.home.watch_commits`` sees every commit of the session factory);
the completion handler asks whether any commit changed a member, a contact or the ledger and, if
so, republishes the acting member's Home on Bolt's listener executor, so the reply to Slack never
waits on ``views.publish`` or its rate-limit retries. One publish per listener, whatever it wrote,
and no handler has to remember to call it. Code that writes outside a listener (the scheduler)
calls ``publish`` itself.
"""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.listener.listener_completion_handler import ListenerCompletionHandler
from slack_bolt.listener.listener_start_handler import ListenerStartHandler
from slack_sdk import WebClient

from bot.home import begin_changes, end_changes, home, watch_commits
from bot.people import MemberRef
from bot.runtime import Runtime
from handlers.home_views import home_view
from handlers.members import member_of
from storage.db import transaction

log = logging.getLogger(__name__)


def publish(client: WebClient, runtime: Runtime, member: MemberRef) -> None:
    """Build ``member``'s Home from the database as it is now and publish it."""
    with transaction(runtime.sessions) as session:
        data = home(session, member, runtime.clock())
    client.views_publish(user_id=member.user_id, view=home_view(data))


class TrackChanges(ListenerStartHandler):
    """Before each listener: start tracking the commits it makes."""

    def __init__(self, inner: ListenerStartHandler) -> None:
        self.inner = inner

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        begin_changes()
        self.inner.handle(request=request, response=response)


class RepublishHome(ListenerCompletionHandler):
    """After each listener: republish the acting member's Home if it changed their data."""

    def __init__(self, inner: ListenerCompletionHandler, app: App, runtime: Runtime) -> None:
        self.inner = inner
        self.app = app
        self.runtime = runtime

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        try:
            self.inner.handle(request=request, response=response)
        finally:
            changed = end_changes()
            member = member_of(request.context)
            client = request.context.client
            if changed and member is not None and client is not None:
                executor = self.app.listener_runner.listener_executor
                executor.submit(self._republish, client, member)

    def _republish(self, client: WebClient, member: MemberRef) -> None:
        try:
            publish(client, self.runtime, member)
        except Exception:
            log.exception(
                "Home republish failed for team=%s user=%s", member.team_id, member.user_id
            )


def register(app: App, runtime: Runtime) -> None:
    watch_commits(runtime.sessions)
    runner = app.listener_runner
    runner.listener_start_handler = TrackChanges(runner.listener_start_handler)
    runner.listener_completion_handler = RepublishHome(
        runner.listener_completion_handler, app, runtime
    )

    @app.event("app_home_opened")
    def on_home_opened(event: dict, context: BoltContext, client: WebClient) -> None:
        member = member_of(context)
        if event.get("tab", "home") != "home" or member is None:
            return
        publish(client, runtime, member)
