"""Ally removed from a workspace (``app_uninstalled``) or its tokens revoked (``tokens_revoked``).

Uninstalling erases the workspace's data in one transaction and drops its installation; a
revocation drops only the revoked tokens. Slack may send the two in either order, and each step
is idempotent, so any order (or a repeat) ends in the same state. A failure is answered 503
(handlers.kit.errors) so that Slack sends the event again, and the replay guard lets that retry
through (bot.platform.replay.release). The erasure lists Ally's DMs and files in Slack for
deletion in the same transaction; they are deleted after the answer as far as the token allows
(an uninstall usually revokes it, and then they are dropped, logged: bot.data_rights.deletions);
bot.data_rights.sweep is the backstop for the data.
"""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners

from bot.data_rights import service as data_rights
from bot.platform.logs import fields
from bot.platform.runtime import Runtime
from handlers.data_rights.commands import delete_copies_later

log = logging.getLogger(__name__)


def register(app: App, runtime: Runtime) -> None:
    # Bolt's own listeners delete installations from the store; in single-workspace mode there
    # is no store (the token lives in the environment), so only the data is Ally's to delete.
    store = app.installation_store
    revocation = TokenRevocationListeners(store) if store is not None else None

    @app.event("app_uninstalled")
    def on_uninstalled(context: BoltContext) -> None:
        enterprise_id = context.enterprise_id or ""
        whole_org = bool(context.is_enterprise_install)
        erased = data_rights.erase(
            runtime.unit_of_work,
            enterprise_id=enterprise_id,
            team_id=context.team_id,
            now=runtime.clock(),
            whole_enterprise=whole_org,
        )
        if revocation is not None:
            revocation.handle_app_uninstalled_events(context)
        if erased.copies:
            # Slack revokes the tokens on uninstall, so these are mostly dropped; with a token
            # that still works, the DMs and files go too.
            app.listener_runner.listener_executor.submit(
                delete_copies_later,
                runtime,
                enterprise_id,
                None if whole_org else context.team_id or "",
            )
        log.info(
            "app uninstalled: workspace data erased",
            extra=fields(
                enterprise=enterprise_id,
                team=context.team_id,
                enterprise_install=whole_org,
                rows=erased.total,
                slack_copies=erased.copies,
                installation_removed=revocation is not None,
                **erased.counts,
            ),
        )

    @app.event("tokens_revoked")
    def on_tokens_revoked(event: dict, context: BoltContext) -> None:
        tokens = event.get("tokens") or {}
        if revocation is not None:
            revocation.handle_tokens_revoked_events(event, context)
        log.info(
            "tokens revoked",
            extra=fields(
                enterprise=context.enterprise_id,
                team=context.team_id,
                bot_tokens=len(tokens.get("bot") or []),
                user_tokens=len(tokens.get("oauth") or []),
                installation_removed=revocation is not None,
            ),
        )
