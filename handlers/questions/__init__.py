"""``/ally questions``, ``/ally focus`` and the [Three more] button."""

from __future__ import annotations

from slack_bolt import App

from bot.platform.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    """Register this capability's listeners on ``app``."""
    from handlers.questions import commands

    commands.register(app, runtime)
