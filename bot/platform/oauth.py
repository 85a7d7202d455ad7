"""Installing Ally into many workspaces: Bolt's OAuth flow on the app's own database.

The installation and state stores are slack_sdk's SQLAlchemy ones on the same engine as the rest
of Ally, so every process behind the load balancer sees every install. Their tables are created
by Alembic (revision 0002), never by ``create_tables()`` at run time. The installation store is
wrapped so that every token it writes is sealed with ``ALLY_ENCRYPTION_KEY`` (storage.sealed)
and every token it reads is opened: Bolt, the weekly delivery and the CLI all go through it.
"""

from __future__ import annotations

import copy
import logging
import threading
from typing import Any, TypeVar

from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.ledger.people import MemberRef
from bot.platform import oauth_pages
from bot.platform.runtime import Runtime
from storage.sealed import BOT_TOKENS, INSTALLATION_TOKENS, Sealer

# The bot scopes Ally asks for at install; the same list as manifest.yml's oauth_config.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "users:read",
    "users:read.email",  # importing an address book matches people by their Slack email
    "channels:read",  # a guest reaches only people they share a channel with
    "groups:read",  # ... private channels Ally is in included
    "reactions:read",
    "files:write",
    "files:read",  # importing an address book a member DMs Ally
)
# An install link is good for ten minutes, Bolt's default.
STATE_EXPIRES_SECONDS = 600

log = logging.getLogger(__name__)


Entity = TypeVar("Entity", Installation, Bot)


def _fields(entity: Installation | Bot) -> tuple[str, ...]:
    return INSTALLATION_TOKENS if isinstance(entity, Installation) else BOT_TOKENS


class SealedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy installation store with bot, user and refresh tokens sealed.

    Writes hand the SDK a copy whose tokens are sealed with the newest key; reads open them
    with any listed key (a plain value, stored before sealing, is read as it is).
    """

    def __init__(self, sealer: Sealer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sealer = sealer

    def _convert(self, entity: Entity, change: Any) -> Entity:
        converted = copy.copy(entity)
        for name in _fields(entity):
            setattr(converted, name, change(getattr(entity, name, None)))
        return converted

    def save(self, installation: Installation) -> None:
        # The SDK's save() also calls self.save_bot() with the (already sealed) copy's bot.
        super().save(self._convert(installation, self.sealer.seal))

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(self._convert(bot, self.sealer.seal))

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = super().find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if found is None else self._convert(found, self.sealer.open)

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = super().find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if found is None else self._convert(found, self.sealer.open)


def installation_store(runtime: Runtime) -> SealedInstallationStore:
    """The installations (one row per install, bots and user tokens) in Ally's database."""
    settings = runtime.settings
    assert settings.client_id is not None
    return SealedInstallationStore(
        Sealer(settings.encryption_keys),
        client_id=settings.client_id,
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
        callback_options=oauth_pages.CALLBACKS,
        logger=logging.getLogger("ally.oauth"),
    )


class AllyOAuthFlow(OAuthFlow):
    """Bolt's OAuth flow, with Ally's own install page (bot/platform/oauth_pages.py)."""

    def build_install_page_html(self, url: str, request: BoltRequest) -> str:
        return oauth_pages.install_page(url)


def oauth_flow(runtime: Runtime) -> OAuthFlow | None:
    """The OAuth flow when ``SLACK_CLIENT_ID`` is set; None for a single workspace."""
    settings = oauth_settings(runtime)
    if settings is None:
        return None
    return AllyOAuthFlow(settings=settings, logger=logging.getLogger("ally.oauth"))


def workspace_bot(store: SealedInstallationStore, enterprise_id: str, team_id: str) -> Bot | None:
    """The bot installed for a workspace (or for its whole Enterprise Grid organisation)."""
    enterprise = enterprise_id or None
    bot = store.find_bot(enterprise_id=enterprise, team_id=team_id or None)
    if bot is None and enterprise is not None:
        # An org-wide install on Enterprise Grid is stored without a team.
        bot = store.find_bot(enterprise_id=enterprise, team_id=None, is_enterprise_install=True)
    return bot


def is_installed(store: SealedInstallationStore, enterprise_id: str, team_id: str) -> bool:
    """Whether any installation (a bot, or an install row) is left for the workspace."""
    if workspace_bot(store, enterprise_id, team_id) is not None:
        return True
    enterprise = enterprise_id or None
    found = store.find_installation(enterprise_id=enterprise, team_id=team_id or None)
    if found is None and enterprise is not None:
        found = store.find_installation(
            enterprise_id=enterprise, team_id=None, is_enterprise_install=True
        )
    return found is not None


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
        # Workspaces are sent in parallel threads, each asking for its own client.
        self._lock = threading.Lock()

    def for_member(self, ref: MemberRef) -> WebClient | None:
        return self.for_workspace(ref.enterprise_id, ref.team_id)

    def for_workspace(self, enterprise_id: str, team_id: str) -> WebClient | None:
        """The workspace's client (its token from the installation store), None if not installed."""
        if self._store is None:
            return self._single
        key = (enterprise_id, team_id)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        bot = workspace_bot(self._store, enterprise_id, team_id)
        client = self._make(self._runtime, token=bot.bot_token) if bot and bot.bot_token else None
        with self._lock:
            self._cache[key] = client
        return client
