"""The ``ally-bot`` command line: run the bot, migrate the database, preview and send nudges."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from bot.nudges import cli as nudge_cli
from bot.platform.config import ConfigError, Settings, load_environment, settings_from_env
from bot.platform.logs import fields as _fields
from bot.platform.runtime import Runtime
from storage.migrate import ForeignKeyViolation
from storage.sealed import BadKey, MissingKey

log = logging.getLogger("ally")


def configure_logging(level: str) -> None:
    """JSON lines on stderr, one per event, with no tokens or note text (bot.platform.logs)."""
    from bot.platform.logs import configure

    configure(level, sys.stderr)
    # Alembic announces each of its plugins at INFO on every start; only its own work matters.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _check_schema(runtime: Runtime) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    head = ScriptDirectory.from_config(
        alembic_config(runtime.settings.database_url)
    ).get_current_head()
    # Reading the revision is not news: keep Alembic's "Context impl" lines out of the log.
    alembic_log = logging.getLogger("alembic.runtime.migration")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)
    try:
        with runtime.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            has_tables = bool(inspect(connection).get_table_names())
    finally:
        alembic_log.setLevel(level)
    if current != head:
        what = "is out of date" if has_tables else "has no tables yet"
        raise ConfigError(
            f"DATABASE_URL's database {what} (at {current or 'nothing'}, needs {head}): "
            "run `ally-bot migrate` first (`make run` does it for you)."
        )


def cmd_run(settings: Settings) -> int:
    from bot.platform.app import create_app
    from bot.platform.server import serve_http, serve_socket_mode

    def build() -> tuple:
        runtime = Runtime.start(settings)
        _check_schema(runtime)
        app = create_app(runtime)
        if settings.scheduler:
            from bot.nudges.scheduler import start_until_exit

            start_until_exit(runtime)
        return app, runtime

    if settings.socket_mode:
        assert settings.app_token is not None
        app, runtime = build()
        log.info("Ally is connecting to Slack over Socket Mode")
        try:
            serve_socket_mode(app, settings.app_token)
        except SlackApiError as error:
            raise ConfigError(
                f"SLACK_APP_TOKEN was refused by Slack ({error.response.get('error')}): create an "
                "App-Level Token with the connections:write scope under Basic Information and put "
                "it in .env."
            ) from None
        finally:
            runtime.close()
        log.info("Ally stopped")
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


def cmd_check(settings: Settings, live: bool) -> int:
    """Check the configuration; with ``live``, also the token (``auth.test``) and the database.

    Quiet when all is well apart from one line, so it serves as a container's health check.
    """
    mode = "Socket Mode" if settings.socket_mode else f"HTTP on port {settings.port}"
    if not live:
        print(f"ally-bot: configuration is complete ({mode})")
        if settings.oauth and _database_exists(settings.database_url):
            # With OAuth the tokens live in the database: name workspaces that have none.
            for line in _unstored_if_readable(settings):
                print(line)
        return 0
    runtime = Runtime.start(settings)
    try:
        _check_schema(runtime)  # connects: an unreachable database is a DBAPIError
        if settings.oauth:
            slack = "OAuth: each workspace's token is checked when it is used"
        else:
            from bot.platform.app import web_client

            # The one line below says what went wrong; the SDK's retry lines would bury it.
            logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)
            try:
                identity = web_client(runtime).auth_test()
            except SlackApiError as error:
                code = error.response.get("error") if error.response is not None else error
                raise SlackRefused(
                    f"SLACK_BOT_TOKEN was refused by Slack's auth.test ({code}): copy the Bot "
                    "User OAuth Token (xoxb-...) again from OAuth & Permissions, or reinstall "
                    "the app."
                ) from None
            slack = f"Slack accepts the token for team {identity.get('team_id')}"
        unstored = _unstored(runtime)
    finally:
        runtime.close()
    print(f"ally-bot: live check passed ({mode}; database migrated and answering; {slack})")
    for line in unstored:
        print(line)
    return 0


def _unstored_if_readable(settings: Settings) -> list[str]:
    """``_unstored``, or one line saying why the database could not tell."""
    try:
        runtime = Runtime.start(settings)
        try:
            return _unstored(runtime)
        finally:
            runtime.close()
    except (ConfigError, DBAPIError) as error:
        cause = error.orig if isinstance(error, DBAPIError) and error.orig else error
        reason = str(cause).strip().splitlines()[0]
        return [f"ally-bot: workspaces without an installation not listed: {reason}"]


def _database_exists(url: str) -> bool:
    """Whether ``url`` names a database that may already exist (a SQLite file is not created
    by looking for it)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    return bool(parsed.database) and Path(str(parsed.database)).exists()


class SlackRefused(Exception):
    """Slack answered, and said no (a revoked or mistyped token)."""


def cmd_migrate(settings: Settings) -> int:
    from storage.migrate import upgrade

    upgrade(settings.database_url, encryption_keys=settings.encryption_keys)
    log.info("database is up to date")
    return 0


def cmd_sweep(settings: Settings) -> int:
    """Ask Slack about every workspace with data (OAuth mode); erase those it says Ally left.

    One line per workspace erased or kept for a reason worth acting on, and one for the count of
    installed workspaces kept.
    """
    from bot.data_rights.sweep import Reason, sweep_uninstalled

    if not settings.oauth:
        print(
            "ally-bot: nothing to sweep: with SLACK_BOT_TOKEN (one workspace) a workspace's data "
            "is erased when Slack sends app_uninstalled"
        )
        return 0
    runtime = Runtime.start(settings)
    try:
        _check_schema(runtime)
        checked = sweep_uninstalled(runtime)
    finally:
        runtime.close()
    installed = 0
    for one in checked:
        if one.erased is not None:
            print(f"ally-bot: {one.workspace}: erased {one.erased.total} row(s): {one.why}")
        elif one.answer == Reason.INSTALLED:
            installed += 1
        else:
            print(f"ally-bot: {one.workspace}: {one.why}")
    print(f"ally-bot: {installed} installed workspace(s) with data kept")
    return 0


def cmd_deletions(settings: Settings) -> int:
    """Delete in Slack the DMs and files that forget and uninstall listed, now."""
    from bot.data_rights.deletions import delete_due, waiting

    runtime = Runtime.start(settings)
    try:
        _check_schema(runtime)
        done = delete_due(runtime)
        left = waiting(runtime)
    finally:
        runtime.close()
    print(
        f"ally-bot: {done.deleted} message(s) and file(s) deleted in Slack, "
        f"{done.dropped} dropped, {left} left to retry later"
    )
    return 0


def cmd_calendar_sync(settings: Settings, at: datetime | None) -> int:
    """Read every calendar feed due at ``at`` (default: now) once, and log its meetings."""
    from bot.calendar.service import sync_due

    runtime = Runtime.start(settings)
    try:
        _check_schema(runtime)
        now = at or runtime.clock()
        counts = sync_due(runtime, now)
    finally:
        runtime.close()
    print(
        f"ally-bot: calendars at {now.isoformat()}: {counts['synced']} read, "
        f"{counts['failed']} failed, {counts['logged']} catch-up(s) logged"
    )
    return 0


def _unstored(runtime: Runtime) -> list[str]:
    """Lines naming each workspace with data and no stored token (OAuth mode), and the fix."""
    from bot.data_rights.sweep import INSTALL_THERE, uninstalled_workspaces

    _check_schema(runtime)
    return [
        f"ally-bot: workspace {one.workspace} has data but no installation: its data is kept; "
        f"{INSTALL_THERE}"
        for one in uninstalled_workspaces(runtime)
    ]


def cmd_keygen() -> int:
    """Print a fresh key for ALLY_ENCRYPTION_KEY (needs no configuration)."""
    from storage.sealed import new_key

    print(new_key())
    return 0


def cmd_reseal(settings: Settings) -> int:
    """Seal every stored Slack token with the newest key of ALLY_ENCRYPTION_KEY (rotation)."""
    from storage.sealed import MissingKey, Sealer, reseal_tokens

    if not settings.encryption_keys:
        raise MissingKey("ALLY_ENCRYPTION_KEY is not set: there is no key to seal tokens with.")
    runtime = Runtime.start(settings)
    try:
        _check_schema(runtime)
        count = reseal_tokens(runtime.engine, Sealer(settings.encryption_keys))
    finally:
        runtime.close()
    log.info("tokens resealed with the newest key", extra=_fields(tokens=count))
    print(f"ally-bot: {count} stored token(s) sealed with the newest key")
    return 0


def installed_commands() -> dict[str, Any]:
    """Commands other installed packages add to ``ally-bot`` (the ``ally.commands`` entry point):
    each a module with ``add_parser(commands)`` and ``run(args) -> int``, needing no settings."""
    return {ep.name: ep.load() for ep in entry_points(group="ally.commands")}


def parser(extra: dict[str, Any] | None = None) -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ally-bot", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve Slack (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    check = commands.add_parser(
        "check", help="check the configuration for `run`; print what to fix"
    )
    check.add_argument(
        "--live",
        action="store_true",
        help="also call Slack's auth.test and reach the database (a health check)",
    )
    commands.add_parser("keygen", help="print a fresh key for ALLY_ENCRYPTION_KEY")
    commands.add_parser(
        "sweep", help="erase the data of workspaces Slack says Ally left (OAuth); say what is kept"
    )
    commands.add_parser(
        "deletions", help="delete in Slack the DMs and files that forget and uninstall listed"
    )
    commands.add_parser(
        "reseal", help="seal every stored token with the newest ALLY_ENCRYPTION_KEY key"
    )
    nudge_cli.add_parser(commands)
    calendar = commands.add_parser("calendar", help="read the members' calendar feeds")
    calendar_sub = calendar.add_subparsers(dest="calendar_command", required=True)
    calendar_sync = calendar_sub.add_parser(
        "sync", help="read every calendar feed due at that instant, once, and log its meetings"
    )
    calendar_sync.add_argument(
        "--at", type=nudge_cli.instant, default=None, help="ISO-8601 instant (default: now)"
    )
    for command in (extra or {}).values():
        command.add_parser(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ally-bot``; problems a person must fix are one line on stderr, never a traceback."""
    extra = installed_commands()
    args = parser(extra).parse_args(argv)
    if args.command == "keygen":
        return cmd_keygen()
    if args.command in extra:
        return int(extra[args.command].run(args))
    env = load_environment()
    try:
        settings = settings_from_env(env, for_serving=args.command in ("run", "check"))
        configure_logging(settings.log_level)
        if args.command == "run":
            return cmd_run(settings)
        if args.command == "migrate":
            return cmd_migrate(settings)
        if args.command == "reseal":
            return cmd_reseal(settings)
        if args.command == "sweep":
            return cmd_sweep(settings)
        if args.command == "deletions":
            return cmd_deletions(settings)
        if args.command == "calendar":
            return cmd_calendar_sync(settings, args.at)
        if args.command == "check":
            return cmd_check(settings, args.live)
        if args.command == "nudges":
            return nudge_cli.run(args, settings, _check_schema)
    except (ConfigError, MissingKey, BadKey) as error:
        print(f"ally-bot: {error}", file=sys.stderr)
        return 2
    except SlackRefused as error:
        print(f"ally-bot: {error}", file=sys.stderr)
        return 1
    except ForeignKeyViolation as error:
        print(f"ally-bot: migration refused: {error}; nothing was committed.", file=sys.stderr)
        return 1
    except DBAPIError as error:
        log.debug("database error", exc_info=True)  # the whole story with LOG_LEVEL=DEBUG
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        print(
            f"ally-bot: cannot use the database at DATABASE_URL ({reason}): check the URL and "
            "that the database server is running.",
            file=sys.stderr,
        )
        return 2
    except (SlackClientError, OSError) as error:
        log.debug("Slack unreachable", exc_info=True)
        print(
            f"ally-bot: cannot reach Slack ({error}): check the network and SLACK_API_URL.",
            file=sys.stderr,
        )
        return 1
    return 1
