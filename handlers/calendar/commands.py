"""``/ally calendar [<feed URL>|off|sync]``.

Reading a feed may take up to 20 seconds, longer than Slack waits for an answer: connecting and
syncing answer at once and tell the result through the command's response URL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk.webhook import WebhookClient

from bot.calendar import service
from bot.calendar.fetch import FeedError, check_address
from bot.platform.logs import fields
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, escape, say

log = logging.getLogger(__name__)
USAGE = "/ally calendar [<feed URL>|off|sync]"


def _when(at: datetime) -> str:
    return f"{at:%-d %b} at {at:%H:%M} UTC"


def _names(names: tuple[str, ...]) -> str:
    shown = sorted(set(names))
    listed = ", ".join(escape(name) for name in shown[:5])
    return listed + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")


def synced_text(done: service.Synced, host: str | None = None) -> str:
    where = f" ({escape(host)})" if host else ""
    if done.busy:
        return "I'm reading your calendar right now: ask again in a minute."
    if done.error:
        return f"I couldn't read your calendar{where}. {escape(done.error)}"
    if not done.logged:
        return (
            f"Your calendar{where} is synced: no new meetings with people in your network. "
            "I read it again every 4 hours."
        )
    return (
        f"Your calendar{where} is synced: I logged {done.logged} catch-up"
        f"{'' if done.logged == 1 else 's'} with {_names(done.names)}. "
        "I read it again every 4 hours."
    )


def _tell(command: Command, text: str) -> None:
    if not command.response_url:
        return
    try:
        WebhookClient(command.response_url, timeout=10).send(
            text=text, response_type="ephemeral", replace_original=False
        )
    except Exception as error:
        log.warning("calendar reply not delivered", extra=fields(error=repr(error)))


def _later(command: Command, work: Callable[[], None]) -> None:
    """Run ``work`` after Slack has its answer (at once outside a Slack request)."""
    if command.later is not None:
        command.later(work)
    else:
        work()


def calendar_command(command: Command) -> Reply:
    runtime, member = command.runtime, command.member
    text = command.args.strip()
    word = text.casefold()
    if not text:
        found = service.status(runtime, member)
        if found is None:
            return say(
                "You haven't connected a calendar. Send `/ally calendar <address>` with your "
                "calendar's secret address in iCal format (Google Calendar: Settings > your "
                "calendar > *Secret address in iCal format*; Outlook: Settings > Calendar > "
                "Shared calendars > *Publish a calendar*, ICS link; iCloud: share the calendar "
                "as a public calendar). Past meetings with people in your network are then "
                "logged as catch-ups."
            )
        lines = [f"Your calendar ({escape(found.host)}) is connected."]
        if found.last_synced_at is None:
            lines.append("It hasn't been read yet.")
        else:
            lines.append(
                f"Last read {_when(found.last_synced_at)}: "
                f"{found.last_logged} catch-up{'' if found.last_logged == 1 else 's'} logged."
            )
        if found.last_error:
            lines.append(f"The last try failed: {escape(found.last_error)}")
        lines.append("`/ally calendar sync` reads it now; `/ally calendar off` disconnects it.")
        return say(" ".join(lines))
    if word in ("off", "remove", "disconnect"):
        if service.remove(runtime, member):
            return say(
                "Your calendar is disconnected and its address deleted. The catch-ups it "
                "logged stay in your ledger (`/ally who` edits or deletes each)."
            )
        return say("You had no calendar connected, so there was nothing to remove.")
    if word == "sync":
        if service.status(runtime, member) is None:
            return say("You haven't connected a calendar: send `/ally calendar <address>` first.")

        def sync() -> None:
            try:
                done = service.sync_member(runtime, command.client, member, runtime.clock())
            except Exception:
                log.exception("calendar sync failed", extra=fields(team=member.team_id))
                _tell(command, "Something went wrong on my side while reading your calendar.")
                return
            _tell(command, synced_text(done))

        _later(command, sync)
        return say("Reading your calendar: I'll tell you here what I logged in a moment.")
    address = check_address(text.split()[0], runtime.settings.calendar_http_hosts)
    service.check_can_seal(runtime)

    def connect() -> None:
        try:
            done = service.connect(runtime, command.client, member, address.url, runtime.clock())
        except FeedError as error:
            _tell(
                command,
                f"I didn't connect that calendar: {escape(error.message)} Nothing was changed.",
            )
            return
        except Exception:
            log.exception("calendar connect failed", extra=fields(team=member.team_id))
            _tell(command, "Something went wrong on my side and nothing was changed: try again.")
            return
        _tell(command, "Connected. " + synced_text(done, address.host))

    _later(command, connect)
    return say(f"Checking your calendar at {escape(address.host)}: I'll tell you here in a moment.")


SUBCOMMANDS: dict[str, Subcommand] = {
    "calendar": Subcommand(
        calendar_command,
        USAGE,
        "connect, show, sync or remove your calendar feed (past meetings logged as catch-ups)",
    ),
}
