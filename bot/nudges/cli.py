"""``ally-bot nudges preview|send``: rehearse or send the weekly nudges from a terminal.

``--at`` sets the instant planning looks at (catch up a missed run, or rehearse a moment);
leases and "sent at" still use the real clock.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import select

from bot.ledger.people import MemberRef
from bot.nudges.delivery import Summary, interview_questions, send_due
from bot.nudges.message import preview_text
from bot.nudges.planning import WEEKDAYS, preview, with_questions
from bot.nudges.plans import send_plans
from bot.platform.config import ConfigError, Settings
from bot.platform.runtime import Runtime
from storage.models import Nudge, NudgeStatus


def instant(text: str) -> datetime:
    """An ISO-8601 instant; without an offset it is read as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 time: use e.g. 2026-11-16T09:00:00+00:00"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_parser(commands: argparse._SubParsersAction) -> None:
    nudges = commands.add_parser("nudges", help="preview or send the weekly nudge DMs")
    sub = nudges.add_subparsers(dest="nudges_command", required=True)
    show = sub.add_parser("preview", help="print the nudge one member would get")
    show.add_argument("--team", required=True, help="Slack team id, e.g. T012AB3C4")
    show.add_argument("--user", required=True, help="Slack user id, e.g. U012AB3C4")
    show.add_argument("--enterprise", default="", help="Enterprise Grid id, if any")
    show.add_argument("--at", type=instant, help="the instant to plan for (default: now)")
    send = sub.add_parser(
        "send", help="send every nudge, plan reminder and follow-up due at that instant, once"
    )
    send.add_argument("--at", type=instant, help="the instant to plan for (default: now)")


def run(
    args: argparse.Namespace,
    settings: Settings,
    check_schema: Callable[[Runtime], None],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    if args.nudges_command == "send" and settings.bot_token is None and not settings.oauth:
        # With OAuth installs each workspace's token comes from the installation store.
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: `nudges send` DMs members with the bot token (xoxb-...), "
            "or with each workspace's installation when SLACK_CLIENT_ID is set."
        )
    runtime = Runtime.start(settings)
    try:
        check_schema(runtime)
        now = args.at or runtime.clock()
        if args.nudges_command == "preview":
            ref = MemberRef(team_id=args.team, user_id=args.user, enterprise_id=args.enterprise)
            out.write(render_preview(runtime, ref, now) + "\n")
            return 0
        return send(runtime, now, out, err)
    finally:
        runtime.close()


def render_preview(runtime: Runtime, ref: MemberRef, now: datetime) -> str:
    with runtime.sessions() as session:
        member, slot, content = preview(session, ref, now)
        if member.id and content.person is not None:
            # The questions the DM would carry, chosen as at send time; the rollback below keeps
            # a preview from counting them as suggested.
            content = with_questions(content, interview_questions(session, member, content, now))
        status = None
        if member.id:
            status = session.scalars(
                select(Nudge.status).where(Nudge.member_id == member.id, Nudge.week == slot.week)
            ).one_or_none()
        session.rollback()
    schedule = member.schedule
    local = slot.local
    when = (
        f"{WEEKDAYS[local.weekday()]} {local:%d %b %H:%M} {schedule.tz} "
        f"({slot.due_at:%Y-%m-%d %H:%M} UTC)"
    )
    if not member.id:
        state = "not a member yet (they have never used Ally)"
    elif not schedule.enabled:
        state = "nudges are off"
    elif status == NudgeStatus.SENT:
        state = "already sent this week"
    elif status == NudgeStatus.SKIPPED:
        state = "skipped this week"
    elif schedule.paused_until and local.date() < schedule.paused_until:
        state = f"paused until {schedule.paused_until:%d %b %Y}"
    elif now >= slot.due_at:
        state = "due now"
    else:
        state = "not due yet"
    header = f"Nudge for {ref.user_id} in {ref.team_id}, week {slot.week}, slot {when}: {state}."
    return header + "\n\n" + preview_text(content, schedule)


def send(runtime: Runtime, now: datetime, out: TextIO, err: TextIO) -> int:
    tty = err.isatty()

    def progress(summary: Summary) -> None:
        if tty:
            err.write(f"\r{summary}")
            err.flush()

    summary = send_due(runtime, now, progress=progress)
    if tty:
        err.write("\n")
    out.write(f"nudges at {now.isoformat()}: {summary}\n")
    plans = send_plans(runtime, now)
    if plans.planned:
        out.write(f"plan reminders and follow-ups at {now.isoformat()}: {plans}\n")
    return 1 if summary.failed or plans.failed else 0
