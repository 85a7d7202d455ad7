"""The try mode is not part of the app that serves Slack: nothing in bot/, handlers/ or
storage/ imports it (``ally-bot`` finds ``try`` through the ``ally.commands`` entry point)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_layer_of_the_app_imports_the_try_mode() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for layer in ("bot", "handlers", "storage")
        for path in (ROOT / layer).rglob("*.py")
        if any(name == "tryout" or name.startswith("tryout.") for name in imported(path))
    ]
    assert offenders == []


def test_try_is_an_installed_command() -> None:
    from bot.platform.cli import installed_commands, parser

    commands = installed_commands()
    assert "try" in commands
    args = parser(commands).parse_args(["try", "--script", "session.txt"])
    assert str(args.script) == "session.txt"
