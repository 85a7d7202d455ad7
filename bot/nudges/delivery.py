"""Sending the weekly nudges: exactly one DM per member per ISO week, whatever runs or fails.

For each batch of due members (see bot/nudges/planning.py):

1. **Plan**: insert a ``planned`` row per (member, week); the unique key makes this idempotent
   across processes (``ON CONFLICT DO NOTHING``).
2. **Claim**: take a lease on planned rows (``claimed_by``, ``claimed_until``) in one conditional
   ``UPDATE``; on PostgreSQL the rows are first locked with ``FOR UPDATE SKIP LOCKED`` so
   concurrent processes pass over each other's work instead of queueing for it. On SQLite the
   ``UPDATE`` holds the database's write lock, so its condition is checked atomically.
3. **Send**: post the DM with message metadata (``ally_nudge`` and the week). A row that was
   attempted before may have reached Slack just before a crash, so its DM channel's history is
   checked for that week's message first; finding it marks the row sent without a second DM.
4. **Record**: mark the row ``sent`` (with the message ts), or on failure keep it ``planned``
   with the error and release the lease, so the next run retries it.

Slack's 429s, 5xx answers and connection errors are retried inside the client by slack_sdk's
retry handlers (bot.platform.app.retry_handlers); what still fails is left for the next run.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.models.metadata import Metadata
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.ledger import directory
from bot.ledger.people import MemberRef
from bot.nudges.message import render
from bot.nudges.planning import (
    BATCH_SIZE,
    MemberRow,
    NudgeContent,
    Slot,
    contents,
    due,
    due_members,
    finished,
    member_batches,
    with_questions,
)
from bot.platform import metrics
from bot.platform.clock import Clock
from bot.platform.oauth import WorkspaceClients
from bot.platform.runtime import Runtime
from bot.questions import service as questions
from storage.db import dialect_insert, transaction
from storage.models import Member, Nudge, NudgeStatus

EVENT_TYPE = "ally_nudge"
LEASE = timedelta(minutes=10)
TZ_FRESH_FOR = timedelta(days=1)
HISTORY_PAGES = 5
# Slack errors that will not go away by retrying: the member can't be DMed at all.
PERMANENT = frozenset(
    {"user_not_found", "account_inactive", "cannot_dm_bot", "user_disabled", "is_bot"}
)
log = logging.getLogger(__name__)

QuestionSource = Callable[[Session, MemberRow, NudgeContent, datetime], list[str]]


@dataclass
class Summary:
    """What one run did: due members, DMs sent, left to others or skipped, and failures."""

    planned: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (
            f"planned {self.planned}, sent {self.sent}, "
            f"skipped {self.skipped}, failed {self.failed}"
        )


@dataclass(frozen=True)
class Claim:
    nudge_id: int
    member: MemberRow
    slot: Slot
    attempts: int
    channel_id: str | None


def posting_client(client: WebClient) -> WebClient:
    """``client`` for the one call that posts a nudge, without the retry after a read timeout.

    The app's clients also retry a read timeout (Slack answered too slowly), which is safe for
    reads but not here: Slack has usually posted the DM by then. So this client keeps the SDK's
    own retries (429 with Retry-After, 5xx, its connection errors) and lets a timed-out attempt
    fail; the next run finds the message in the DM's history instead of posting it again.
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            metrics.CountingRateLimitRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def interview_questions(
    session: Session, member: MemberRow, content: NudgeContent, now: datetime
) -> list[str]:
    """Three questions for this week's person, never suggested for them before (recorded)."""
    if content.person is None:
        return []
    chosen = questions.suggest(session, member.ref, now, contact_key=content.person.contact.key)
    return [q.text for q in chosen]


class Delivery:
    """One run of nudge delivery for one process (the scheduler's job or ``nudges send``)."""

    def __init__(
        self,
        runtime: Runtime,
        clients: WebClient | WorkspaceClients,
        *,
        clock: Clock | None = None,
        worker: str | None = None,
        batch_size: int = BATCH_SIZE,
        choose_questions: QuestionSource = interview_questions,
        progress: Callable[[Summary], None] | None = None,
    ) -> None:
        self.runtime = runtime
        # One client for a single workspace, or each member's workspace client (OAuth installs).
        self.clients = clients
        # Leases and "sent at" use real time, even when ``now`` rehearses another moment.
        self.clock = clock or runtime.clock
        self.worker = worker or worker_id()
        self.batch_size = batch_size
        self.choose_questions = choose_questions
        self.progress = progress or (lambda summary: None)

    def run(self, now: datetime) -> Summary:
        """Send every nudge due at ``now`` that no one has sent this week."""
        summary = Summary()
        for members in member_batches(self.runtime.sessions, self.batch_size):
            self._batch(members, now, summary)
        return summary

    # -- one batch -------------------------------------------------------------------------
    def _batch(self, members: list[MemberRow], now: datetime, summary: Summary) -> None:
        members = self._refresh_zones(members, now)
        with self.runtime.sessions() as session:
            candidates = due_members(members, now)
            done = finished(session, candidates)
        todo = [(m, s) for m, s in candidates if (m.id, s.week) not in done]
        if not todo:
            return
        summary.planned += len(todo)
        metrics.nudges("planned", len(todo))
        self._insert_planned(todo)
        claims = self._claim(todo)
        summary.skipped += len(todo) - len(claims)
        self.progress(summary)
        if not claims:
            return
        with self.runtime.sessions() as session:
            content = contents(session, [(c.member, c.slot) for c in claims], now)
        for claim in claims:
            outcome = self._deliver(claim, content[claim.member.id], now)
            setattr(summary, outcome, getattr(summary, outcome) + 1)
            metrics.nudges(outcome)
            self.progress(summary)

    def _refresh_zones(self, members: list[MemberRow], now: datetime) -> list[MemberRow]:
        """Follow members who moved: re-read ``users.info`` tz for stale members near their slot.

        Only members never checked, or due by the zone on record, are looked up, so a run
        calls Slack for the members it is about to DM rather than for everyone.
        """
        real_now = self.clock()
        stale = [
            m
            for m in members
            if m.tz_checked_at is None
            or (real_now - m.tz_checked_at > TZ_FRESH_FOR and due(m.schedule, now) is not None)
        ]
        if not stale:
            return members
        zones: dict[int, str] = {}
        for m in stale:
            client = self._client(m.ref)
            if client is None:
                continue
            # One short transaction per member: no lock is held while the next member's
            # users.info call waits on Slack.
            try:
                with transaction(self.runtime.sessions) as session:
                    row = directory.lookup(
                        session, client, m.ref, m.ref.user_id, real_now, refresh=True
                    )
                    tz = row.tz or m.schedule.tz
                    session.execute(
                        update(Member)
                        .where(Member.id == m.id)
                        .values(tz=tz, tz_checked_at=real_now)
                        .execution_options(synchronize_session=False)
                    )
            except (SlackClientError, InvalidInput) as error:
                log.warning("users.info for %s failed: %s", m.ref.user_id, error)
                continue
            zones[m.id] = tz
        return [
            replace(m, schedule=replace(m.schedule, tz=zones[m.id]), tz_checked_at=real_now)
            if m.id in zones
            else m
            for m in members
        ]

    def _insert_planned(self, todo: Sequence[tuple[MemberRow, Slot]]) -> None:
        real_now = self.clock()
        rows = [
            {
                "member_id": m.id,
                "week": s.week,
                "status": NudgeStatus.PLANNED.value,
                "due_at": s.due_at,
                "planned_at": real_now,
                "attempts": 0,
            }
            for m, s in todo
        ]
        with transaction(self.runtime.sessions) as session:
            session.execute(
                dialect_insert(session, Nudge)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["member_id", "week"])
            )

    def _claim(self, todo: Sequence[tuple[MemberRow, Slot]]) -> list[Claim]:
        """Lease the planned rows for ``todo`` that nobody else holds; return what we got."""
        by_key = {(m.id, s.week): (m, s) for m, s in todo}
        real_now = self.clock()
        claimable = and_(
            Nudge.status == NudgeStatus.PLANNED.value,
            or_(Nudge.claimed_until.is_(None), Nudge.claimed_until < real_now),
        )
        with transaction(self.runtime.sessions) as session:
            # SKIP LOCKED: rows another process is claiming right now are simply not ours.
            # (SQLite has no row locks; SQLAlchemy leaves the clause out there.)
            locked = session.execute(
                select(Nudge.id, Nudge.member_id, Nudge.week)
                .where(
                    Nudge.member_id.in_({m.id for m, _ in todo}),
                    Nudge.week.in_({s.week for _, s in todo}),
                    claimable,
                )
                .with_for_update(skip_locked=True)
            ).all()
            ids = [i for i, member_id, week in locked if (member_id, week) in by_key]
            if not ids:
                return []
            claimed = session.execute(
                update(Nudge)
                .where(Nudge.id.in_(ids), claimable)
                .values(
                    claimed_by=self.worker,
                    claimed_until=real_now + LEASE,
                    attempts=Nudge.attempts + 1,
                )
                .returning(
                    Nudge.id,
                    Nudge.member_id,
                    Nudge.week,
                    Nudge.attempts,
                    Nudge.channel_id,
                )
                .execution_options(synchronize_session=False)
            ).all()
        return [
            Claim(
                row.id,
                *by_key[(row.member_id, row.week)],
                attempts=row.attempts,
                channel_id=row.channel_id,
            )
            for row in claimed
        ]

    # -- one member ------------------------------------------------------------------------
    def _deliver(self, claim: Claim, content: NudgeContent, now: datetime) -> str:
        """Send one claimed nudge; returns the summary field it counts towards."""
        member = claim.member
        client = self._client(member.ref)
        if client is None:
            self._finish(claim, NudgeStatus.SKIPPED, "Ally is not installed in this workspace")
            return "skipped"
        try:
            channel = claim.channel_id or self._open_dm(client, member.ref.user_id)
            if claim.attempts > 1:
                ts = self._already_posted(client, channel, claim)
                if ts is not None:
                    log.info("nudge %s for %s was already in Slack", claim.slot.week, member.ref)
                    self._mark_sent(claim, channel, ts, content)
                    return "sent"
            if not content.has_news:
                self._finish(claim, NudgeStatus.SKIPPED, "nothing to say this week")
                return "skipped"
            with transaction(self.runtime.sessions) as session:
                content = with_questions(
                    content, self.choose_questions(session, member, content, now)
                )
            text, blocks = render(content, member.schedule)
            response = posting_client(client).chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                metadata=Metadata(
                    event_type=EVENT_TYPE,
                    event_payload={"week": claim.slot.week, "nudge": claim.nudge_id},
                ),
                unfurl_links=False,
            )
        except SlackApiError as error:
            code = str(error.response.get("error", "")) if error.response is not None else ""
            if code in PERMANENT:
                self._finish(claim, NudgeStatus.SKIPPED, f"can't DM this member: {code}")
                return "skipped"
            self._failed(claim, f"Slack said {code or error}")
            return "failed"
        except (SlackClientError, OSError) as error:
            self._failed(claim, f"{type(error).__name__}: {error}")
            return "failed"
        self._mark_sent(claim, channel, str(response["ts"]), content)
        return "sent"

    def _client(self, ref: MemberRef) -> WebClient | None:
        if isinstance(self.clients, WebClient):
            return self.clients
        return self.clients.for_member(ref)

    def _open_dm(self, client: WebClient, user_id: str) -> str:
        return str(client.conversations_open(users=user_id)["channel"]["id"])

    def _already_posted(self, client: WebClient, channel: str, claim: Claim) -> str | None:
        """The ts of this week's nudge if an earlier attempt got it into the DM.

        History comes newest first, so reaching an older week's nudge means this week's
        was never posted.
        """
        cursor = None
        for _ in range(HISTORY_PAGES):
            page = client.conversations_history(
                channel=channel, limit=100, include_all_metadata=True, cursor=cursor
            )
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") != EVENT_TYPE:
                    continue
                if (metadata.get("event_payload") or {}).get("week") == claim.slot.week:
                    return str(message["ts"])
                return None
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None
        return None

    def _mark_sent(self, claim: Claim, channel: str, ts: str, content: NudgeContent) -> None:
        person = content.person.contact.id if content.person else None
        with transaction(self.runtime.sessions) as session:
            session.execute(
                update(Nudge)
                .where(Nudge.id == claim.nudge_id)
                .values(
                    status=NudgeStatus.SENT.value,
                    sent_at=self.clock(),
                    channel_id=channel,
                    message_ts=ts,
                    person_contact_id=person,
                    claimed_by=None,
                    claimed_until=None,
                    error=None,
                )
                .execution_options(synchronize_session=False)
            )

    def _finish(self, claim: Claim, status: NudgeStatus, why: str) -> None:
        with transaction(self.runtime.sessions) as session:
            session.execute(
                update(Nudge)
                .where(Nudge.id == claim.nudge_id, Nudge.claimed_by == self.worker)
                .values(status=status.value, error=why[:200], claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def _failed(self, claim: Claim, why: str) -> None:
        log.warning("nudge %s for %s failed: %s", claim.slot.week, claim.member.ref, why)
        with transaction(self.runtime.sessions) as session:
            session.execute(
                update(Nudge)
                .where(Nudge.id == claim.nudge_id, Nudge.claimed_by == self.worker)
                .values(error=why[:200], claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )


def send_due(
    runtime: Runtime, now: datetime, progress: Callable[[Summary], None] | None = None
) -> Summary:
    """Send every nudge due at ``now``, each with its workspace's client and retry policy."""
    return Delivery(runtime, WorkspaceClients(runtime), progress=progress).run(now)
