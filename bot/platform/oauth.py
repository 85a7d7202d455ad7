"""Installing Ally into many workspaces: Bolt's OAuth flow on the app's own database.

The installation and state stores are slack_sdk's SQLAlchemy ones on the same engine as the rest
of Ally, so every process behind the load balancer sees every install. Their tables are created
by Alembic (revision 0002), never by ``create_tables()`` at run time.
"""

from __future__ import annotations

import logging

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.ledger.people import MemberRef
from bot.platform.runtime import Runtime

# The bot scopes Ally asks for at install; the same list as manifest.yml's oauth_config.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "users:read",
    "users:read.email",  # importing an address book matches people by their Slack email
    "reactions:read",
    "files:write",
    "files:read",  # importing an address book a member DMs Ally
)
# An install link is good for ten minutes, Bolt's default.
STATE_EXPIRES_SECONDS = 600

log = logging.getLogger(__name__)


def installation_store(runtime: Runtime) -> SQLAlchemyInstallationStore:
    """The installations (one row per install, bots and user tokens) in Ally's database."""
    assert runtime.settings.client_id is not None
    return SQLAlchemyInstallationStore(
        client_id=runtime.settings.client_id,
        engine=runtime.engine,
        logger=logging.getLogger("ally.oauth.installations"),
    )


def oauth_settings(runtime: Runtime) -> OAuthSettings | None:
    """Bolt's OAuth settings when ``SLACK_CLIENT_ID`` is set; None for a single workspace."""
    settings = runtime.settings
    if not settings.oauth:
        return None
    return OAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        installation_store=installation_store(runtime),
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_EXPIRES_SECONDS,
            engine=runtime.engine,
            logger=logging.getLogger("ally.oauth.states"),
        ),
        state_expiration_seconds=STATE_EXPIRES_SECONDS,
        logger=logging.getLogger("ally.oauth"),
    )


class WorkspaceClients:
    """Web API clients for work that runs outside a Slack request (the weekly nudges).

    One workspace: the ``SLACK_BOT_TOKEN`` client for everyone. Many workspaces: each member's
    workspace token from the installation store, looked up once per workspace per run; a
    workspace with no installation (uninstalled, revoked) gets None.
    """

    def __init__(self, runtime: Runtime) -> None:
        from bot.platform.app import web_client

        self._runtime = runtime
        self._make = web_client
        self._single = None if runtime.settings.oauth else web_client(runtime)
        self._store = installation_store(runtime) if runtime.settings.oauth else None
        self._cache: dict[tuple[str, str], WebClient | None] = {}

    def for_member(self, ref: MemberRef) -> WebClient | None:
        if self._store is None:
            return self._single
        key = (ref.enterprise_id, ref.team_id)
        if key not in self._cache:
            enterprise = ref.enterprise_id or None
            bot = self._store.find_bot(enterprise_id=enterprise, team_id=ref.team_id or None)
            if bot is None and enterprise is not None:
                # An org-wide install on Enterprise Grid is stored without a team.
                bot = self._store.find_bot(
                    enterprise_id=enterprise, team_id=None, is_enterprise_install=True
                )
            self._cache[key] = (
                self._make(self._runtime, token=bot.bot_token) if bot and bot.bot_token else None
            )
        return self._cache[key]
