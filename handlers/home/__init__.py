"""The Home tab: its listeners (``tab``) and its pure view builders (``views``)."""

from __future__ import annotations

from slack_bolt import App

from bot.platform.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    """Register this capability's listeners on ``app``."""
    from handlers.home import tab

    tab.register(app, runtime)
