"""Slack in and out: read payloads, call bot/, render Block Kit, ack. No SQL here.

``register`` is the ``ally.listeners`` entry point that bot.app uses to wire every listener.
"""

from __future__ import annotations

from slack_bolt import App

from bot.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    """Register every Ally listener on ``app``; each module registers its own explicitly."""
    from handlers import (
        commands,
        contact_modal,
        data_rights,
        directory_events,
        errors,
        home,
        ledger_commands,
        lifecycle,
        log_modal,
        nudges,
        questions,
        reactions,
        referrals,
        shortcuts,
        thanks,
    )

    errors.register(app, runtime)
    commands.register(app, runtime)
    ledger_commands.register(app, runtime)
    questions.register(app, runtime)
    thanks.register(app, runtime)
    data_rights.register(app, runtime)
    lifecycle.register(app, runtime)
    directory_events.register(app, runtime)
    home.register(app, runtime)
    reactions.register(app, runtime)
    referrals.register(app, runtime)
    nudges.register(app, runtime)
    log_modal.register(app, runtime)
    contact_modal.register(app, runtime)
    shortcuts.register(app, runtime)
