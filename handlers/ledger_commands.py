"""``/ally`` subcommands for the ledger: thanks, gave, intro, introduced, met, add, who, network."""

from __future__ import annotations

from handlers.commands import Subcommand

SUBCOMMANDS: dict[str, Subcommand] = {}
