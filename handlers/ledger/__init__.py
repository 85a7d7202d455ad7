"""The ledger in Slack: ``/ally`` ledger subcommands, the Record and contact modals, shortcuts,
say-thanks, reaction capture and referrals."""

from __future__ import annotations

from importlib import import_module

from slack_bolt import App

from bot.platform.runtime import Runtime

# This capability's modules with listeners, each registering its own.
LISTENERS = (
    "commands",
    "contact_modal",
    "corrections",
    "directory_events",
    "imports",
    "log_modal",
    "people",
    "reactions",
    "referrals",
    "shortcuts",
    "thanks",
)


def register(app: App, runtime: Runtime) -> None:
    """Register this capability's listeners on ``app``."""
    for name in LISTENERS:
        import_module(f"{__name__}.{name}").register(app, runtime)
