"""The in-process scheduler: wakes every few minutes and sends the nudges that are due, and
deletes in Slack the copies an erasure listed (bot.data_rights.deletions); with OAuth, also
sweeps every hour: the data of each workspace Slack says Ally left is erased
(bot.data_rights.sweep).

APScheduler only times the wake-ups; it does not coordinate processes (its FAQ says so), so any
number of processes may run this job at once: bot/nudges/delivery.py claims work in the database.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.data_rights.deletions import delete_due
from bot.data_rights.sweep import sweep_uninstalled
from bot.nudges.delivery import send_due
from bot.nudges.plans import send_plans
from bot.platform import metrics
from bot.platform.runtime import Runtime

JOB_ID = "ally-send-nudges"
EVERY = timedelta(minutes=5)
SWEEP_JOB_ID = "ally-sweep-uninstalled"
SWEEP_EVERY = timedelta(hours=1)
DELETIONS_JOB_ID = "ally-slack-deletions"
CALENDAR_JOB_ID = "ally-calendar-sync"
log = logging.getLogger(__name__)


def send_nudges(runtime: Runtime) -> None:
    """One wake-up: send the weekly DMs due now, then the meeting plans' reminders and
    follow-ups; a failure is logged and retried on the next one."""
    now = runtime.clock()
    try:
        # Also what a sender that died mid-run had claimed, about a minute after it stopped.
        summary = send_due(runtime, now, take_over=True)
    except Exception:
        log.exception("sending nudges failed; the next run retries")
        metrics.nudge_run(ok=False)
    else:
        metrics.nudge_run(ok=True)
        if summary.planned or summary.unavailable:
            log.info("nudges: %s", summary)
    try:
        plans = send_plans(runtime, now)
    except Exception:
        log.exception("sending plan reminders failed; the next run retries")
        return
    if plans.planned:
        log.info("plan reminders and follow-ups: %s", plans)


def sweep(runtime: Runtime) -> None:
    """One sweep (bot.data_rights.sweep): each workspace with data is checked with Slack, and
    erased only when Slack says Ally left it; a failure waits for the next."""
    try:
        sweep_uninstalled(runtime)
    except Exception:
        log.exception("sweeping uninstalled workspaces failed; the next run retries")


def sync_calendars(runtime: Runtime) -> None:
    """One run of the calendar feeds due now (each every 4 hours, claimed by one process);
    a failure waits for the next."""
    from bot.calendar.service import sync_due

    try:
        counts = sync_due(runtime, runtime.clock())
    except Exception:
        log.exception("reading calendar feeds failed; the next run retries")
        return
    if counts["synced"] or counts["failed"]:
        log.info("calendars: %s", counts)


def delete_copies(runtime: Runtime) -> None:
    """One run of the Slack deletions an erasure listed; a failure waits for the next."""
    try:
        delete_due(runtime)
    except Exception:
        log.exception("deleting Ally's copies in Slack failed; the next run retries")


def start(
    runtime: Runtime, every: timedelta = EVERY, first_run_in: timedelta = timedelta(seconds=10)
) -> BackgroundScheduler:
    """Start the nudge job (explicit UTC trigger, one instance, missed runs coalesced)."""
    scheduler = BackgroundScheduler(timezone=UTC)
    first_run = datetime.now(UTC) + first_run_in

    def every_so_often(job: Callable[[Runtime], None], job_id: str, period: timedelta) -> None:
        # One instance at a time, missed runs coalesced into one; the first run soon after
        # start-up, so a restart catches up without waiting.
        scheduler.add_job(
            job,
            IntervalTrigger(seconds=period.total_seconds(), timezone=UTC),
            args=[runtime],
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(period.total_seconds()),
            next_run_time=first_run,
        )

    every_so_often(send_nudges, JOB_ID, every)
    every_so_often(delete_copies, DELETIONS_JOB_ID, every)
    every_so_often(sync_calendars, CALENDAR_JOB_ID, every)
    if runtime.settings.oauth:
        every_so_often(sweep, SWEEP_JOB_ID, SWEEP_EVERY)
    scheduler.start()
    log.info("nudge scheduler started: every %s", every)
    return scheduler


def stop(scheduler: BackgroundScheduler) -> None:
    """Stop cleanly: no new runs, and wait for a run in progress to finish."""
    if scheduler.running:
        scheduler.shutdown(wait=True)
        log.info("nudge scheduler stopped")


def start_until_exit(runtime: Runtime) -> BackgroundScheduler:
    """Start the job and stop it cleanly when the process exits (Socket Mode or a worker)."""
    scheduler = start(runtime)
    atexit.register(stop, scheduler)
    return scheduler
