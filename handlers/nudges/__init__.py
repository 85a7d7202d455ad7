"""``/ally nudges`` and the weekly DM's buttons; ``/ally plan``, Plan it and "did you meet?"."""

from __future__ import annotations

from slack_bolt import App

from bot.platform.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    """Register this capability's listeners on ``app``."""
    from handlers.nudges import dm, plans, settings_modal

    dm.register(app, runtime)
    plans.register(app, runtime)
    settings_modal.register(app, runtime)
