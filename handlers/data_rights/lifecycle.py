"""Ally removed from a workspace (``app_uninstalled``) or its tokens revoked (``tokens_revoked``).

Uninstalling erases the workspace's data in one transaction and drops its installation. A
revocation drops the revoked tokens; when it took the workspace's last bot token (none is left in
the installation store, not even an organisation-wide one), Slack has said Ally left, and the
workspace's data and installation are erased as on uninstall. A revocation of user tokens only
erases nothing. In single-workspace mode the token lives in the environment, so only
``app_uninstalled`` erases. Slack may send the two in either order, and each step is idempotent,
so any order (or a repeat) ends in the same state. A failure is answered 503
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
from slack_sdk.oauth.installation_store import InstallationStore

from bot.data_rights import service as data_rights
from bot.platform.logs import fields
from bot.platform.oauth import SealedInstallationStore, workspace_bot
from bot.platform.runtime import Runtime
from handlers.data_rights.commands import delete_copies_later

log = logging.getLogger(__name__)


def register(app: App, runtime: Runtime) -> None:
    # Bolt's own listeners delete installations from the store; in single-workspace mode there
    # is no store (the token lives in the environment), so only the data is Ally's to delete.
    store = app.installation_store
    revocation = TokenRevocationListeners(store) if store is not None else None

    def erase_workspace(context: BoltContext) -> data_rights.Erased:
        """Erase the event's workspace (the whole organisation for an organisation-wide
        install) and its installation, then delete Ally's copies in Slack after the answer, as
        far as the token still allows (an uninstall or revocation mostly leaves none: the
        list is dropped, logged)."""
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
            app.listener_runner.listener_executor.submit(
                delete_copies_later,
                runtime,
                enterprise_id,
                None if whole_org else context.team_id or "",
            )
        return erased

    @app.event("app_uninstalled")
    def on_uninstalled(context: BoltContext) -> None:
        enterprise_id = context.enterprise_id or ""
        whole_org = bool(context.is_enterprise_install)
        erased = erase_workspace(context)
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
        bots = tokens.get("bot") or []
        enterprise_id = context.enterprise_id or ""
        erased = None
        if revocation is not None:
            revocation.handle_tokens_revoked_events(event, context)
            if bots and _no_bot_left(revocation.installation_store, enterprise_id, context):
                erased = erase_workspace(context)
        said = "tokens revoked" if erased is None else "tokens revoked: workspace data erased"
        log.info(
            said,
            extra=fields(
                enterprise=enterprise_id,
                team=context.team_id,
                bot_tokens=len(bots),
                user_tokens=len(tokens.get("oauth") or []),
                installation_removed=revocation is not None,
                rows=erased.total if erased is not None else 0,
                **(erased.counts if erased is not None else {}),
            ),
        )


def _no_bot_left(store: InstallationStore, enterprise_id: str, context: BoltContext) -> bool:
    """Whether the workspace has no bot token left in Ally's store (an organisation-wide one
    counts); a store Ally cannot read that way is never taken for empty."""
    if not isinstance(store, SealedInstallationStore):
        return False
    return workspace_bot(store, enterprise_id, context.team_id or "") is None
