"""``ally-bot try [--script FILE]``: Ally in a terminal, before creating a Slack app."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

NAME = "try"


def add_parser(commands: argparse._SubParsersAction) -> None:
    tryout = commands.add_parser(
        NAME, help="try Ally in this terminal, in a local workspace (no Slack app, no token)"
    )
    tryout.add_argument(
        "--script",
        type=Path,
        help="read the commands (and a form's answers) from FILE and print the transcript",
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from bot.platform.logs import configure
    from tryout.session import Lines, TrySession

    script = None
    if args.script is not None:
        try:
            script = iter(args.script.read_text(encoding="utf-8").splitlines())
        except (OSError, UnicodeDecodeError) as error:
            print(f"ally-bot: cannot read the script {args.script}: {error}", file=sys.stderr)
            return 2
    if script is None:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history at the prompt)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 100)
    # Ally's log lines would bury the conversation: only problems, on stderr.
    configure("ERROR", sys.stderr)
    session = TrySession(console, Lines(script, console, echo=script is not None))
    try:
        session.run()
    except KeyboardInterrupt:
        console.print()
    finally:
        session.close()
    return 0
