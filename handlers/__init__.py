"""Slack in and out: read payloads, call bot/, render Block Kit, ack. No SQL here.

``register`` is the ``ally.listeners`` entry point that ``bot.platform.app`` uses to wire every
listener; each capability package registers its own.
"""

from __future__ import annotations

from slack_bolt import App

from bot.platform.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    """Register every Ally listener on ``app``; each capability registers its own explicitly."""
    from handlers import calendar, commands, data_rights, home, ledger, nudges, questions
    from handlers.kit import errors

    # The error handler first, then the command router the capabilities add subcommands to.
    for capability in (
        errors,
        commands,
        ledger,
        questions,
        data_rights,
        home,
        nudges,
        calendar,
    ):
        capability.register(app, runtime)
