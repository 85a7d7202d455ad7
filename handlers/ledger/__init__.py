"""The ledger in Slack: ``/ally`` ledger subcommands, the Record and contact modals, shortcuts,
say-thanks, reaction capture and referrals."""

from __future__ import annotations

from slack_bolt import App

from bot.platform.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    """Register this capability's listeners on ``app``."""
    from handlers.ledger import (
        commands,
        contact_modal,
        corrections,
        directory_events,
        imports,
        log_modal,
        people,
        reactions,
        referrals,
        shortcuts,
        thanks,
    )

    commands.register(app, runtime)
    contact_modal.register(app, runtime)
    corrections.register(app, runtime)
    directory_events.register(app, runtime)
    imports.register(app, runtime)
    log_modal.register(app, runtime)
    people.register(app, runtime)
    reactions.register(app, runtime)
    referrals.register(app, runtime)
    shortcuts.register(app, runtime)
    thanks.register(app, runtime)
