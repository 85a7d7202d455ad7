"""Sending the weekly nudges: exactly one DM per member per ISO week, at Slack's own pace.

Workspaces are sent in parallel (a thread each, each with its own token and so its own Slack
rate limits), so one workspace's limits never hold up another's. In a workspace, members go a
batch at a time (see bot/nudges/planning.py):

1. **Zones**: members whose time zone was not checked this week are looked up; more than a few
   at once are read with paged ``users.list`` (Tier 2, 200 a page) rather than one ``users.info``
   each. The ``user_change`` event keeps zones fresh in between
   (handlers/ledger/directory_events.py).
2. **Plan**: insert a ``planned`` row per (member, week); the unique key makes this idempotent
   across processes (``ON CONFLICT DO NOTHING``).
3. **Claim**: take a short lease (``CLAIM_LEASE``) on ``CLAIM_SIZE`` planned rows at a time
   (``claimed_by``, ``claimed_until``) in one conditional ``UPDATE``; on PostgreSQL the rows are
   first locked with ``FOR UPDATE SKIP LOCKED`` so concurrent processes pass over each other's
   work. Small claims keep what a sender that dies strands small.
4. **Fence, then post**: right before each DM the lease is renewed in a conditional ``UPDATE``
   that only the holder of an unexpired claim can make: the row about to be posted for
   ``POST_LEASE`` (it outlasts the longest post, and it records ``post_started_at``), the rows of
   the claim still waiting their turn for another ``CLAIM_LEASE``. A sender whose claim ran out
   (rate limits slowed it past its lease, and another sender took the row) posts nothing. The
   DM goes to the member's kept DM channel, or to their user id, which chat.postMessage accepts
   for the app's DM; Slack's answer names the DM, which is kept, so a routine week costs one
   Web API call per DM.
5. **Record**: mark the row ``sent`` (only where this sender still holds it), or on a clear
   failure keep it ``planned`` with the error and release the lease for the next run.

A post whose outcome is unknown (5xx, a dropped connection, a read timeout, a crash) keeps
``post_started_at``: the posting client never retries it (only 429s, which Slack did not post),
and whoever next claims the row reads the DM's history for this week's message first
(``conversations.history`` is Tier 1 for apps outside the Marketplace, so at most
``RECONCILE_PER_RUN`` such reads per workspace per run; the rest wait for the next run).

6. **Take over**: after its pass, a run that met rows another sender holds waits for those
   leases to end (``CLAIM_LEASE`` at most while that sender is alive and posting) and passes
   again, taking what is left; so what a dead sender had claimed goes out about a minute after
   it died, not at the next wake-up. A lease that ends later than that (a post in progress,
   ``POST_LEASE``) is left to the next wake-up, and a run waits for others at most
   ``TAKE_OVER_WAIT``. The scheduler's job does this; ``ally-bot nudges send`` makes one pass.

A workspace whose token Slack refuses (revoked, uninstalled, deactivated) is skipped and named in
the summary; its rows stay planned, and the other workspaces go on.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import ClassVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.metadata import Metadata
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.ledger import directory
from bot.nudges.leases import Leases
from bot.nudges.message import render
from bot.nudges.planning import (
    BATCH_SIZE,
    MemberRow,
    NudgeContent,
    Slot,
    Workspace,
    contents,
    due,
    due_members,
    finished,
    member_batches,
    with_questions,
    workspaces,
)
from bot.platform import dm_history, metrics
from bot.platform.app import posting_client as no_repeat
from bot.platform.clock import Clock
from bot.platform.oauth import WorkspaceClients
from bot.platform.runtime import Runtime
from bot.questions import service as questions
from storage.db import dialect_insert, transaction
from storage.models import CalendarFeed, Member, Nudge, NudgeStatus, PlanMessage

EVENT_TYPE = "ally_nudge"
# A post waits out at most this much of Slack's Retry-After; a longer wait leaves the DM for the
# next run. So one post lasts at most four attempts of the 10 s timeout plus three waits (about
# 4 minutes), and POST_LEASE, set right before the post, outlasts it: no one takes a row mid-post.
MAX_POST_WAIT = 60.0
POST_LEASE = timedelta(minutes=5)
# A claimed row waiting its turn: renewed with every post of its claim, so it lapses only when
# its sender stops posting (it died, or one post is stuck in Slack's waits), and what a dead
# sender held is taken about a minute later.
CLAIM_LEASE = timedelta(minutes=1)
# A run waits for other senders' claims to end (then takes what is left) at most this long in
# all, and only for leases ending within CLAIM_LEASE and this margin.
TAKE_OVER_WAIT = timedelta(minutes=5)
TAKE_OVER_MARGIN = timedelta(seconds=2)
# Rows claimed at once: at Slack's workspace-wide posting pace (several hundred a minute) a
# claim is posted well inside its lease, and a sender that dies strands no more than this.
CLAIM_SIZE = 50
# The user_change event keeps zones fresh; a weekly look catches what it missed.
TZ_FRESH_FOR = timedelta(days=7)
# Up to this many stale zones are read with users.info (Tier 4); more with paged users.list.
USERS_INFO_UP_TO = 10
# users.list: "we recommend no more than 200 results at a time" (its method page).
USERS_LIST_PAGE = 200
# DM histories read per workspace per run to settle posts of unknown outcome (Tier 1).
RECONCILE_PER_RUN = 3
HISTORY_PAGES = 2
WORKSPACE_THREADS = 8
# What a users.list sweep that failed part-way leaves for the rest of the run.
FAILED_SWEEP: dict[str, str] = {}
# Slack errors that will not go away by retrying: the member can't be DMed at all.
PERMANENT = frozenset({"user_not_found", "cannot_dm_bot", "user_disabled", "is_bot"})
# Slack no longer accepts the workspace's token (docs.slack.dev/reference/methods/
# chat.postMessage, "Errors"): nothing can be sent there until Ally is installed again.
TOKEN_GONE = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
log = logging.getLogger(__name__)
# A sent row is no longer claimed by anyone, nor being posted.
SETTLED = {"claimed_by": None, "claimed_until": None, "post_started_at": None}

QuestionSource = Callable[[Session, MemberRow, NudgeContent, datetime], list[str]]


@dataclass
class Summary:
    """What one run did: due members, DMs sent, left to others or skipped, and failures;
    and the workspaces skipped because Slack refused their token."""

    planned: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unavailable: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        text = (
            f"planned {self.planned}, sent {self.sent}, "
            f"skipped {self.skipped}, failed {self.failed}"
        )
        for label, why in sorted(self.unavailable.items()):
            text += f"; workspace {label} skipped: Slack refused its token ({why})"
        return text


@dataclass(frozen=True)
class Claim:
    nudge_id: int
    member: MemberRow
    slot: Slot
    channel_id: str | None
    # A post of this row was started and its outcome is unknown.
    post_started_at: datetime | None


class WorkspaceGone(Exception):
    """Slack refused the workspace's token: skip the workspace for this run."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class WorkspaceRun:
    """One workspace's part of a run: its client and what the run learnt about it."""

    workspace: Workspace
    client: WebClient | None
    reconciles_left: int = RECONCILE_PER_RUN
    # user id -> Slack time zone, read once per run with users.list when many are stale.
    zones: dict[str, str] | None = None


def posting_client(client: WebClient, sleep: Callable[[float], None]) -> WebClient:
    """``client`` for the one call that posts a nudge: it retries 429s only (waiting at most
    ``MAX_POST_WAIT``); the row keeps ``post_started_at`` and the DM's history decides later."""
    return no_repeat(client, sleep, max_wait=MAX_POST_WAIT)


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def interview_questions(
    session: Session, member: MemberRow, content: NudgeContent, now: datetime
) -> list[str]:
    """Three questions for this week's person, never suggested for them before (recorded)."""
    if content.person is None:
        return []
    key = content.person.contact.key
    return [
        q.text
        for q in questions.choose_questions(session, member.ref, now, contact_key=key).questions
    ]


@dataclass(eq=False)
class Sender:
    """What a run of sends (weekly DMs, plan messages) works with: the runtime, Slack clients,
    a real-time clock, this process's worker id, and its claims on ``table``'s rows."""

    table: ClassVar[type[Nudge] | type[PlanMessage]]

    runtime: Runtime
    # One client for a single workspace, or each workspace's client (OAuth installs).
    clients: WebClient | WorkspaceClients
    # Leases and "sent at" use real time, even when ``now`` rehearses another moment.
    clock: Clock | None = field(default=None, kw_only=True)
    worker: str = field(default_factory=lambda: worker_id(), kw_only=True)

    def __post_init__(self) -> None:
        self.real_clock: Clock = self.clock or self.runtime.clock
        self.leases = Leases(self.runtime.sessions, self.table, self.worker)

    def client_for(self, enterprise_id: str, team_id: str) -> WebClient | None:
        """The workspace's client; None when Ally is not installed there."""
        if isinstance(self.clients, WebClient):
            return self.clients
        return self.clients.for_workspace(enterprise_id, team_id)


@dataclass(eq=False)
class Delivery(Sender):
    """One run of nudge delivery for one process (the scheduler's job or ``nudges send``)."""

    table = Nudge

    batch_size: int = field(default=BATCH_SIZE, kw_only=True)
    claim_size: int = field(default=CLAIM_SIZE, kw_only=True)
    choose_questions: QuestionSource = field(default=interview_questions, kw_only=True)
    # Told the running summary after every change (``nudges send`` shows it as it goes).
    progress: Callable[[Summary], None] | None = field(default=None, kw_only=True)
    # After the pass, wait for other senders' short leases to end and take what is left.
    take_over: bool = field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._lock = threading.Lock()
        self._left: set[tuple[int, str]] = set()  # (member, week) left to other senders

    def run(self, now: datetime) -> Summary:
        """Send every nudge due at ``now`` that no one has sent this week (with ``take_over``,
        also what other senders held during the pass, once their short leases end)."""
        summary = Summary()
        self._left = set()
        self._pass(now, summary, again=False)
        waited = timedelta(0)
        while self.take_over and self._left:
            held = self._held_until(now)
            if held is None:
                break  # all sent or given up by the others
            # A lease that ran out while this pass went on is taken at once.
            wait = max(held - self.real_clock(), timedelta(0)) + TAKE_OVER_MARGIN
            if wait > CLAIM_LEASE + TAKE_OVER_MARGIN or waited + wait > TAKE_OVER_WAIT:
                break  # a post in progress, or a sender still at work: the next wake-up
            self.runtime.sleep(wait.total_seconds())
            waited += wait
            self._pass(now, summary, again=True)
        return summary

    def _pass(self, now: datetime, summary: Summary, *, again: bool) -> None:
        """One pass over every workspace; ``again``: only what is left, counted once sent."""
        spaces = workspaces(self.runtime.sessions)
        if len(spaces) <= 1:
            for workspace in spaces:
                self._workspace(workspace, now, summary, again)
            return
        with ThreadPoolExecutor(
            max_workers=min(WORKSPACE_THREADS, len(spaces)), thread_name_prefix="ally-nudges"
        ) as pool:
            # Each workspace at its own pace; a failure in one surfaces after all have run.
            for future in [pool.submit(self._workspace, w, now, summary, again) for w in spaces]:
                future.result()

    def _held_until(self, now: datetime) -> datetime | None:
        """The first end (past or to come) of a lease another sender holds on a nudge this run
        left to them and still planned; None when there is none."""
        with self.runtime.sessions() as session:
            held = session.execute(
                select(Nudge.member_id, Nudge.week, Nudge.claimed_until).where(
                    Nudge.status == NudgeStatus.PLANNED.value,
                    Nudge.due_at <= now,
                    Nudge.claimed_by != self.worker,
                    Nudge.claimed_until.is_not(None),
                )
            ).all()
        ends = [t for m, w, t in held if t is not None and (m, w) in self._left]
        return min(ends, default=None)

    def _tell(self, summary: Summary) -> None:
        if self.progress is not None:
            self.progress(summary)

    def _count(self, summary: Summary, outcome: str, n: int = 1) -> None:
        with self._lock:
            setattr(summary, outcome, getattr(summary, outcome) + n)
            self._tell(summary)
        metrics.nudges(outcome, n)

    # -- one workspace ---------------------------------------------------------------------
    def _workspace(
        self, workspace: Workspace, now: datetime, summary: Summary, again: bool = False
    ) -> None:
        state = WorkspaceRun(workspace, self.client_for(workspace.enterprise_id, workspace.team_id))
        try:
            for members in member_batches(self.runtime.sessions, self.batch_size, workspace):
                self._batch(members, now, summary, state, again)
        except WorkspaceGone as gone:
            log.warning(
                "workspace %s skipped: Slack refused its token (%s); reinstall Ally there",
                workspace.label,
                gone.code,
            )
            with self._lock:
                summary.unavailable[workspace.label] = gone.code
                self._tell(summary)

    # -- one batch -------------------------------------------------------------------------
    def _batch(
        self,
        members: list[MemberRow],
        now: datetime,
        summary: Summary,
        state: WorkspaceRun,
        again: bool = False,
    ) -> None:
        members = self._refresh_zones(members, now, state)
        with self.runtime.sessions() as session:
            candidates = due_members(members, now)
            done = finished(session, candidates)
        todo = [(m, s) for m, s in candidates if (m.id, s.week) not in done]
        if again:
            todo = [(m, s) for m, s in todo if (m.id, s.week) in self._left]
        if not todo:
            return
        if not again:  # a pass again only takes over what was planned and left
            self._count(summary, "planned", len(todo))
            self._insert_planned(todo)
        for start in range(0, len(todo), self.claim_size):
            chunk = todo[start : start + self.claim_size]
            claims = self._claim(chunk)
            got = {(c.member.id, c.slot.week) for c in claims}
            with self._lock:
                if again:
                    self._left -= got
                else:
                    self._left |= {(m.id, s.week) for m, s in chunk} - got
            if not again:
                self._count(summary, "skipped", len(chunk) - len(claims))
            elif claims:  # counted as left to another sender by the first pass
                with self._lock:
                    summary.skipped -= len(claims)
            if not claims:
                continue
            with self.runtime.sessions() as session:
                content = contents(session, [(c.member, c.slot) for c in claims], now)
            for i, claim in enumerate(claims):
                try:
                    outcome = self._deliver(
                        claim, content[claim.member.id], now, state, claims[i + 1 :]
                    )
                except WorkspaceGone:
                    self._release(claims[i + 1 :])
                    raise
                self._count(summary, outcome)

    def _refresh_zones(
        self, members: list[MemberRow], now: datetime, state: WorkspaceRun
    ) -> list[MemberRow]:
        """Follow members who moved: re-read the zones not checked this week, near their slot.

        Only members never checked, or due by the zone on record, are looked up, so a run
        calls Slack for the members it is about to DM rather than for everyone.
        """
        real_now = self.real_clock()
        stale = [
            m
            for m in members
            if m.tz_checked_at is None
            or (real_now - m.tz_checked_at > TZ_FRESH_FOR and due(m.schedule, now) is not None)
        ]
        if not stale or state.client is None:
            return members
        if state.zones is None and len(stale) <= USERS_INFO_UP_TO:
            zones = self._zones_one_by_one(stale, state.client, real_now)
        else:
            if state.zones is None:
                state.zones = self._all_zones(state.client)
            # After a failed sweep nobody is marked checked: the next run tries again.
            zones = (
                {m.id: state.zones.get(m.ref.user_id) or m.schedule.tz for m in stale}
                if state.zones is not FAILED_SWEEP
                else {}
            )
            if zones:
                with transaction(self.runtime.sessions) as session:
                    session.execute(
                        update(Member),
                        [{"id": i, "tz": tz, "tz_checked_at": real_now} for i, tz in zones.items()],
                    )
        return [
            replace(m, schedule=replace(m.schedule, tz=zones[m.id]), tz_checked_at=real_now)
            if m.id in zones
            else m
            for m in members
        ]

    def _zones_one_by_one(
        self, stale: list[MemberRow], client: WebClient, real_now: datetime
    ) -> dict[int, str]:
        zones: dict[int, str] = {}
        for m in stale:
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
            except SlackApiError as error:
                _raise_if_token_gone(error)
                log.warning("users.info for %s failed: %s", m.ref.user_id, error)
                continue
            except (SlackClientError, InvalidInput) as error:
                log.warning("users.info for %s failed: %s", m.ref.user_id, error)
                continue
            zones[m.id] = tz
        return zones

    def _all_zones(self, client: WebClient) -> dict[str, str]:
        """Every user's time zone in the workspace, from paged users.list (Tier 2);
        ``FAILED_SWEEP`` when Slack could not give them all."""
        zones: dict[str, str] = {}
        try:
            for page in client.users_list(limit=USERS_LIST_PAGE):
                for user in page.get("members") or []:
                    if user.get("id") and user.get("tz"):
                        zones[str(user["id"])] = str(user["tz"])
        except SlackApiError as error:
            _raise_if_token_gone(error)
            log.warning("users.list failed: %s; zones on record are kept", error)
            return FAILED_SWEEP
        except SlackClientError as error:
            log.warning("users.list failed: %s; zones on record are kept", error)
            return FAILED_SWEEP
        return zones

    def _insert_planned(self, todo: Sequence[tuple[MemberRow, Slot]]) -> None:
        real_now = self.real_clock()
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
        claimed = self.leases.claim(
            (Nudge.member_id, Nudge.week),
            by_key,
            and_(
                Nudge.member_id.in_({m.id for m, _ in todo}),
                Nudge.week.in_({s.week for _, s in todo}),
            ),
            self.real_clock(),
            CLAIM_LEASE,
            (Nudge.member_id, Nudge.week, Nudge.channel_id, Nudge.post_started_at),
        )
        found = [
            Claim(
                row.id,
                *by_key[(row.member_id, row.week)],
                channel_id=row.channel_id,
                post_started_at=row.post_started_at,
            )
            for row in claimed
        ]
        # Members in id order, as planned (RETURNING promises no order).
        return sorted(found, key=lambda c: c.member.id)

    # -- one member ------------------------------------------------------------------------
    def _deliver(
        self,
        claim: Claim,
        content: NudgeContent,
        now: datetime,
        state: WorkspaceRun,
        queued: Sequence[Claim] = (),
    ) -> str:
        """Send one claimed nudge (``queued``: the rest of its claim, waiting their turn);
        returns the summary field it counts towards."""
        member = claim.member
        client = state.client
        if client is None:
            self._finish(claim, NudgeStatus.SKIPPED, "Ally is not installed in this workspace")
            return "skipped"
        posting = False
        try:
            if claim.post_started_at is not None:
                # An earlier post's outcome is unknown: the DM's history decides.
                if state.reconciles_left <= 0:
                    self._release([claim])
                    return "skipped"
                state.reconciles_left -= 1
                channel = (
                    claim.channel_id
                    or member.dm_channel_id
                    or self._open_dm(client, member.ref.user_id)
                )
                ts = self._already_posted(client, channel, claim)
                if ts is not None:
                    log.info("nudge %s for %s was already in Slack", claim.slot.week, member.ref)
                    return "sent" if self._mark_sent(claim, channel, ts, content) else "skipped"
            if not content.has_news:
                self._finish(claim, NudgeStatus.SKIPPED, "nothing to say this week")
                return "skipped"
            with transaction(self.runtime.sessions) as session:
                content = with_questions(
                    content, self.choose_questions(session, member, content, now)
                )
            text, blocks = render(content, member.schedule)
            if not self._fence(claim, queued):
                log.info("claim on %s's nudge ran out; left to its new holder", member.ref)
                return "skipped"
            posting = True
            response = posting_client(client, self.runtime.sleep).chat_postMessage(
                # The kept DM, or the user id: Slack posts that in the app's DM with them and
                # answers with the DM's id ("passing the user's ID as the channel parameter ...
                # no need for a separate call to conversations.open", api.slack.com/scopes/
                # conversations.app_home:create; chat.postMessage's `channel` takes "an encoded
                # ID ... that represents a channel, private group, or IM channel").
                channel=member.dm_channel_id or member.ref.user_id,
                text=text,
                blocks=blocks,
                metadata=Metadata(
                    event_type=EVENT_TYPE,
                    event_payload={"week": claim.slot.week, "nudge": claim.nudge_id},
                ),
                unfurl_links=False,
            )
        except SlackApiError as error:
            response_ = error.response
            code = str(response_.get("error", "")) if response_ is not None else ""
            status = response_.status_code if response_ is not None else 0
            if status >= 500:
                # Slack may have posted before failing: keep post_started_at, reconcile later.
                self._failed(claim, f"Slack answered {status}: {code}", outcome_known=False)
                return "failed"
            if code in PERMANENT:
                self._finish(claim, NudgeStatus.SKIPPED, f"can't DM this member: {code}")
                return "skipped"
            self._failed(claim, f"Slack said {code or error}", outcome_known=posting)
            if code in TOKEN_GONE:
                raise WorkspaceGone(code) from None
            if code == "channel_not_found" and posting:
                # A kept DM that is gone is forgotten; a user id Slack would not post to gets
                # its DM opened and kept, for the next run.
                self._keep_dm(
                    member, None if member.dm_channel_id else self._try_open_dm(client, member)
                )
            return "failed"
        except (SlackClientError, OSError) as error:
            # Refused before anything was sent: Slack cannot have posted.
            self._failed(
                claim,
                f"{type(error).__name__}: {error}",
                outcome_known=posting and _never_sent(error),
            )
            return "failed"
        channel = str(response.get("channel") or "")
        recorded = self._mark_sent(claim, channel, str(response["ts"]), content)
        # A DM posted after the claim was lost is recorded (and counted) by the row's holder.
        return "sent" if recorded else "skipped"

    def _fence(self, claim: Claim, queued: Sequence[Claim] = ()) -> bool:
        """Renew our claim right before posting, if we still hold it; note the post starting.
        The ``queued`` rows of the claim we still hold are renewed for another ``CLAIM_LEASE``.

        Fails when the lease ran out (whether or not another sender took the row since): the
        DM is then not posted by us.
        """
        real_now = self.real_clock()
        with transaction(self.runtime.sessions) as session:
            if queued:
                session.execute(
                    update(Nudge)
                    .where(
                        Nudge.id.in_([c.nudge_id for c in queued]),
                        Nudge.claimed_by == self.worker,
                        Nudge.status == NudgeStatus.PLANNED.value,
                        Nudge.claimed_until > real_now,
                    )
                    .values(claimed_until=real_now + CLAIM_LEASE)
                    .execution_options(synchronize_session=False)
                )
            result = session.execute(
                update(Nudge)
                .where(
                    Nudge.id == claim.nudge_id,
                    Nudge.claimed_by == self.worker,
                    Nudge.status == NudgeStatus.PLANNED.value,
                    Nudge.claimed_until > real_now,
                )
                .values(
                    claimed_until=real_now + POST_LEASE,
                    post_started_at=real_now,
                    attempts=Nudge.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _open_dm(self, client: WebClient, user_id: str) -> str:
        return str(client.conversations_open(users=user_id)["channel"]["id"])

    def _already_posted(self, client: WebClient, channel: str, claim: Claim) -> str | None:
        """The ts of this week's nudge if an earlier attempt got it into the DM.

        History comes newest first (at most 15 messages a page for apps outside the
        Marketplace), so reaching an older week's nudge means this week's was never posted.
        """
        for message, payload in dm_history.tagged(client, channel, EVENT_TYPE, pages=HISTORY_PAGES):
            return str(message["ts"]) if payload.get("week") == claim.slot.week else None
        return None

    def _mark_sent(self, claim: Claim, channel: str, ts: str, content: NudgeContent) -> bool:
        """Record the DM as sent if this sender still holds the claim; keep the DM channel."""
        person = content.person.contact.id if content.person else None
        with transaction(self.runtime.sessions) as session:
            result = session.execute(
                update(Nudge)
                .where(Nudge.id == claim.nudge_id, Nudge.claimed_by == self.worker)
                .values(
                    status=NudgeStatus.SENT.value,
                    sent_at=self.real_clock(),
                    channel_id=channel or None,
                    message_ts=ts,
                    person_contact_id=person,
                    error=None,
                    **SETTLED,
                )
                .execution_options(synchronize_session=False)
            )
            said: dict[str, object] = {}
            if content.calendar_trouble is not None:
                # Said once: a failing calendar is not reported again until it has worked.
                said["failure_reported_at"] = self.real_clock()
            if content.met:
                said["offers"] = None  # offered once
            if result.rowcount and said:  # type: ignore[attr-defined]
                session.execute(
                    update(CalendarFeed)
                    .where(CalendarFeed.member_id == claim.member.id)
                    .values(**said)
                    .execution_options(synchronize_session=False)
                )
            if channel and channel != claim.member.dm_channel_id:
                session.execute(
                    update(Member)
                    .where(Member.id == claim.member.id)
                    .values(dm_channel_id=channel)
                    .execution_options(synchronize_session=False)
                )
        if not result.rowcount:  # type: ignore[attr-defined]
            # Another sender took the row while Slack answered; it reads the DM's history
            # (post_started_at is still set) and records this DM instead of posting again.
            log.warning(
                "nudge %s for %s: claim lost after posting", claim.slot.week, claim.member.ref
            )
            return False
        return True

    def _try_open_dm(self, client: WebClient, member: MemberRow) -> str | None:
        try:
            return self._open_dm(client, member.ref.user_id)
        except SlackClientError as error:
            log.warning("conversations.open for %s failed: %s", member.ref, error)
            return None

    def _keep_dm(self, member: MemberRow, channel: str | None) -> None:
        with transaction(self.runtime.sessions) as session:
            session.execute(
                update(Member)
                .where(Member.id == member.id)
                .values(dm_channel_id=channel)
                .execution_options(synchronize_session=False)
            )

    def _finish(self, claim: Claim, status: NudgeStatus, why: str) -> None:
        self.leases.finish(claim.nudge_id, status, why)

    def _failed(self, claim: Claim, why: str, *, outcome_known: bool) -> None:
        """Release the claim with the error; a post known not to have landed is forgotten."""
        log.warning("nudge %s for %s failed: %s", claim.slot.week, claim.member.ref, why)
        self.leases.fail(
            claim.nudge_id, why, **({"post_started_at": None} if outcome_known else {})
        )

    def _release(self, claims: Sequence[Claim]) -> None:
        """Give claims back untouched, for the next run."""
        self.leases.release([c.nudge_id for c in claims])


def _raise_if_token_gone(error: SlackApiError) -> None:
    code = error.response.get("error") if error.response is not None else None
    if code in TOKEN_GONE:
        raise WorkspaceGone(str(code)) from None


def _never_sent(error: Exception) -> bool:
    """The connection was refused: the request never reached Slack."""
    reason = error.reason if isinstance(error, URLError) else error
    return isinstance(reason, ConnectionRefusedError)


def send_due(
    runtime: Runtime,
    now: datetime,
    progress: Callable[[Summary], None] | None = None,
    *,
    take_over: bool = False,
) -> Summary:
    """Send every nudge due at ``now``, each with its workspace's client and retry policy
    (``take_over``: and what other senders held, once their short leases end)."""
    delivery = Delivery(runtime, WorkspaceClients(runtime), progress=progress, take_over=take_over)
    return delivery.run(now)
