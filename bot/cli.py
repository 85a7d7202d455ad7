"""The ``ally-bot`` command line: run the bot, migrate the database, preview and send nudges."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sqlalchemy import inspect

from bot import nudge_cli
from bot.config import ConfigError, Settings, load_environment, settings_from_env
from bot.runtime import Runtime

log = logging.getLogger("ally")


def configure_logging(level: str) -> None:
    """JSON lines on stderr, one per event, with no tokens or note text (bot.logs)."""
    from bot.logs import configure

    configure(level, sys.stderr)


def _check_schema(runtime: Runtime) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    head = ScriptDirectory.from_config(
        alembic_config(runtime.settings.database_url)
    ).get_current_head()
    with runtime.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        if current != head:
            has_tables = bool(inspect(connection).get_table_names())
            what = "is out of date" if has_tables else "has no tables yet"
            raise ConfigError(
                f"DATABASE_URL's database {what} (at {current or 'nothing'}, needs {head}): "
                "run `ally-bot migrate` first (`make run` does it for you)."
            )


def cmd_run(settings: Settings) -> int:
    from bot.app import create_app
    from bot.server import serve_http, serve_socket_mode

    def build() -> tuple:
        runtime = Runtime.start(settings)
        _check_schema(runtime)
        app = create_app(runtime)
        if settings.scheduler:
            from bot.scheduler import start_until_exit

            start_until_exit(runtime)
        return app, runtime

    if settings.socket_mode:
        app, _runtime = build()
        log.info("Ally is connecting to Slack over Socket Mode")
        assert settings.app_token is not None
        serve_socket_mode(app, settings.app_token)
        return 0
    # Check the schema once before forking workers, so a bad database fails fast and loud.
    probe = Runtime.start(settings)
    try:
        _check_schema(probe)
    finally:
        probe.close()
    log.info("Ally is serving HTTP on port %s with %s worker(s)", settings.port, settings.workers)
    serve_http(build, settings.port, settings.workers)
    return 0


def cmd_migrate(settings: Settings) -> int:
    from storage.migrate import upgrade

    upgrade(settings.database_url)
    log.info("database is up to date")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ally-bot", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve Slack (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    nudge_cli.add_parser(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    env = load_environment()
    try:
        settings = settings_from_env(env, for_serving=args.command == "run")
        configure_logging(settings.log_level)
        if args.command == "run":
            return cmd_run(settings)
        if args.command == "migrate":
            return cmd_migrate(settings)
        if args.command == "nudges":
            return nudge_cli.run(args, settings, _check_schema)
    except ConfigError as error:
        print(f"ally-bot: {error}", file=sys.stderr)
        return 2
    return 1
