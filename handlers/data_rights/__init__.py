"""``/ally export``, ``/ally forget``, and the workspace erased when Ally is uninstalled."""

from __future__ import annotations

from slack_bolt import App

from bot.platform.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    """Register this capability's listeners on ``app``."""
    from handlers.data_rights import answers, commands, lifecycle

    answers.register(app, runtime)
    commands.register(app, runtime)
    lifecycle.register(app, runtime)
