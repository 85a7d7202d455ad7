"""Deleting Ally's own copies in Slack after an erasure, until Slack confirms each one.

Forgetting a member and erasing a workspace (bot.data_rights.service) write every DM Ally sent
them (the weekly DMs, the plans' reminders and follow-ups) and every export file it uploaded to
``slack_deletions`` in the same transaction that deletes their rows, so the list survives a
failure, a restart or a second process. ``delete_due`` then works through it:

1. **Claim** the rows that are due (``next_attempt_at``) and that nobody else holds, with a
   short lease in one conditional ``UPDATE`` (rows locked first with ``FOR UPDATE SKIP LOCKED``
   on PostgreSQL; SQLite's write lock makes the condition atomic), as bot/nudges/leases.py does.
2. **Delete** each one in Slack with the workspace's own token (``chat.delete``,
   ``files.delete``), outside any transaction, right after renewing the lease on it (a worker
   whose lease ran out leaves the row to the one that took it).
3. **Settle**, where this worker still holds the row: Slack confirmed (``ok``, or the message,
   channel or file is already gone) removes it; a token Slack says is revoked (``token_revoked``,
   ``account_inactive``) or a workspace with no installation left drops the workspace's rows (an
   uninstall revokes the token: nothing can delete them any more), logged; anything else (a rate
   limit, a 5xx, the network, ``invalid_auth``, which an IP allow-list also causes) is tried
   again later with a growing wait, and given up on, logged, a week after the erasure.

Run by the scheduler every few minutes, right after a forget or an uninstall, and by
``ally-bot deletions``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.nudges.delivery import worker_id
from bot.platform.app import CONNECTION_ERRORS, RateLimitRetry
from bot.platform.logs import fields
from bot.platform.oauth import WorkspaceClients
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import SlackDeletion

# Slack's answers that say the message or file is not there any more: as good as deleted.
# https://api.slack.com/methods/chat.delete, https://api.slack.com/methods/files.delete
GONE = frozenset({"message_not_found", "channel_not_found", "file_not_found", "file_deleted"})
# Slack's word that Ally left the workspace: its token will never delete anything again.
REVOKED = frozenset({"token_revoked", "account_inactive"})
# Slack will never let this token delete that object (not Ally's own message or file).
REFUSED = frozenset({"cant_delete_message", "cant_delete_file"})
# Failures of the workspace rather than of one row: its other rows wait with the failed one.
WORKSPACE_WIDE = frozenset(
    {"ratelimited", "invalid_auth", "not_authed", "token_expired", "missing_scope"}
)

LEASE = timedelta(minutes=10)
BATCH = 100
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=7)
# A 429 whose Retry-After is this short is waited out in the run (seconds); longer ones later.
SHORT_WAIT = 5.0

log = logging.getLogger(__name__)


class Copy(NamedTuple):
    """One of Ally's messages (channel, ts) or files (file id) in one workspace."""

    enterprise_id: str
    team_id: str
    channel_id: str | None = None
    message_ts: str | None = None
    file_id: str | None = None


def record(session: Session, copies: Iterable[Copy], now: datetime) -> int:
    """Add ``copies`` to the list to delete in Slack (in the caller's transaction); how many."""
    rows = [
        SlackDeletion(
            enterprise_id=copy.enterprise_id,
            team_id=copy.team_id,
            channel_id=copy.channel_id,
            message_ts=copy.message_ts,
            file_id=copy.file_id,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
        for copy in copies
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


@dataclass
class Deleted:
    """What one run did: deleted (Slack confirmed), dropped (revoked token, no installation,
    refused, given up), and left for a later run."""

    deleted: int = 0
    dropped: int = 0
    retry: int = 0
    dropped_why: dict[str, int] = field(default_factory=dict)

    def drop(self, why: str, n: int = 1) -> None:
        self.dropped += n
        self.dropped_why[why] = self.dropped_why.get(why, 0) + n

    def __str__(self) -> str:
        return f"deleted {self.deleted}, dropped {self.dropped}, left to retry {self.retry}"


class _Row(NamedTuple):
    id: int
    enterprise_id: str
    team_id: str
    channel_id: str | None
    message_ts: str | None
    file_id: str | None
    attempts: int
    created_at: datetime


def _wait(attempts: int) -> timedelta:
    """One minute after the first failure, doubling, at most an hour."""
    return min(FIRST_WAIT * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def deleting_client(runtime: Runtime, client: WebClient) -> WebClient:
    """``client``'s token and URL with retries for a dropped connection and a short 429 only:
    a longer outage is waited out between runs (``next_attempt_at``), not in one."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1, error_types=CONNECTION_ERRORS),
            RateLimitRetry(runtime.sleep, 1, max_wait=SHORT_WAIT),
        ],
    )


@dataclass(eq=False)
class Deleter:
    """One run of Slack deletions for one process."""

    runtime: Runtime
    clients: WebClient | WorkspaceClients
    worker: str = field(default_factory=worker_id)

    def claim(self, now: datetime, among: ColumnElement[bool] | None = None) -> list[_Row]:
        table = SlackDeletion
        claimable = and_(
            table.next_attempt_at <= now,
            or_(table.claimed_until.is_(None), table.claimed_until < self.runtime.clock()),
        )
        where = claimable if among is None else and_(claimable, among)
        with transaction(self.runtime.sessions) as session:
            ids = session.scalars(
                select(table.id)
                .where(where)
                .order_by(table.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            if not ids:
                return []
            claimed = session.execute(
                update(table)
                .where(table.id.in_(ids), claimable)
                .values(claimed_by=self.worker, claimed_until=self.runtime.clock() + LEASE)
                .returning(
                    table.id,
                    table.enterprise_id,
                    table.team_id,
                    table.channel_id,
                    table.message_ts,
                    table.file_id,
                    table.attempts,
                    table.created_at,
                )
                .execution_options(synchronize_session=False)
            ).all()
        return sorted((_Row._make(row) for row in claimed), key=lambda row: row.id)

    def fence(self, row_id: int) -> bool:
        """Renew this worker's lease on a row right before it is deleted in Slack; False when
        the lease ran out and another worker took it (then this one leaves it alone)."""
        with transaction(self.runtime.sessions) as session:
            result = session.execute(
                update(SlackDeletion)
                .where(self._mine([row_id]))
                .values(claimed_until=self.runtime.clock() + LEASE)
                .execution_options(synchronize_session=False)
            )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    def _mine(self, ids: Sequence[int]) -> ColumnElement[bool]:
        return and_(SlackDeletion.id.in_(ids), SlackDeletion.claimed_by == self.worker)

    def remove(self, ids: Sequence[int]) -> int:
        """Remove rows this worker still holds (done, or dropped); how many."""
        if not ids:
            return 0
        with transaction(self.runtime.sessions) as session:
            result = session.execute(delete(SlackDeletion).where(self._mine(ids)))
        return int(getattr(result, "rowcount", 0) or 0)

    def postpone(self, ids: Sequence[int], until: datetime, error: str, *, failed: bool) -> None:
        """Give rows back for a run after ``until``; ``failed`` counts an attempt."""
        if not ids:
            return
        values: dict[str, Any] = {
            "claimed_by": None,
            "claimed_until": None,
            "next_attempt_at": until,
            "last_error": error[:64],
        }
        if failed:
            values["attempts"] = SlackDeletion.attempts + 1
        with transaction(self.runtime.sessions) as session:
            session.execute(
                update(SlackDeletion)
                .where(self._mine(ids))
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    def release(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with transaction(self.runtime.sessions) as session:
            session.execute(
                update(SlackDeletion)
                .where(self._mine(ids))
                .values(claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def client_for(self, enterprise_id: str, team_id: str) -> WebClient | None:
        if isinstance(self.clients, WebClient):
            return self.clients
        return self.clients.for_workspace(enterprise_id, team_id)

    def run(self, now: datetime, among: ColumnElement[bool] | None = None) -> Deleted:
        """Delete every copy due at ``now`` (``among`` them, when given) once."""
        done = Deleted()
        seen: set[int] = set()
        while True:
            claimed = self.claim(now, among)
            rows = [row for row in claimed if row.id not in seen]
            # A row this run already tried and could not settle waits for the next run.
            self.release([row.id for row in claimed if row.id in seen])
            if not rows:
                return done
            seen.update(row.id for row in rows)
            by_workspace: dict[tuple[str, str], list[_Row]] = {}
            for row in rows:
                by_workspace.setdefault((row.enterprise_id, row.team_id), []).append(row)
            try:
                for (enterprise_id, team_id), mine in by_workspace.items():
                    self.delete_claimed(enterprise_id, team_id, mine, now, done)
            except BaseException:
                self.release([row.id for row in rows])
                raise

    def delete_claimed(
        self, enterprise_id: str, team_id: str, rows: list[_Row], now: datetime, done: Deleted
    ) -> None:
        """Delete one workspace's ``rows``, claimed by this worker, in Slack and settle each."""
        where = {"enterprise": enterprise_id, "team": team_id}
        found = self.client_for(enterprise_id, team_id)
        if found is None or not found.token:
            # Uninstalled: Slack revoked the token with the installation, so nothing can delete
            # these any more; an admin can remove them in Slack.
            dropped = self.remove([row.id for row in rows])
            done.drop("no installation", dropped)
            log.info(
                "Slack copies dropped: Ally is not installed in the workspace any more",
                extra=fields(**where, dropped=dropped),
            )
            return
        client = deleting_client(self.runtime, found)
        for position, row in enumerate(rows):
            if not self.fence(row.id):
                continue  # another worker has it now
            code, wait = self._delete(client, row)
            if code is None or code in GONE:
                done.deleted += self.remove([row.id])
                continue
            if code in REVOKED:
                left = [r.id for r in rows[position:]]
                dropped = self.remove(left)
                done.drop(code, dropped)
                log.info(
                    "Slack copies dropped: Slack revoked the workspace's token",
                    extra=fields(**where, slack_error=code, dropped=dropped),
                )
                return
            if code in REFUSED:
                done.drop(code, self.remove([row.id]))
                log.warning(
                    "Slack copy dropped: Slack refuses to delete it",
                    extra=fields(**where, slack_error=code),
                )
                continue
            if now - row.created_at >= GIVE_UP_AFTER:
                done.drop("given up", self.remove([row.id]))
                log.warning(
                    "Slack copy given up on: still failing a week after the erasure",
                    extra=fields(**where, slack_error=code, attempts=row.attempts + 1),
                )
                continue
            until = now + max(_wait(row.attempts + 1), wait)
            self.postpone([row.id], until, code, failed=True)
            done.retry += 1
            if code in WORKSPACE_WIDE or code.startswith("http_") or code == "network":
                # The workspace's other rows would fail the same way: they wait too.
                rest = [r.id for r in rows[position + 1 :]]
                self.postpone(rest, until, code, failed=False)
                done.retry += len(rest)
                log.warning(
                    "Slack copies left for later: Slack did not delete them",
                    extra=fields(**where, slack_error=code, waiting=len(rest) + 1),
                )
                return
            log.warning(
                "Slack copy left for later: Slack did not delete it",
                extra=fields(**where, slack_error=code),
            )

    def _delete(self, client: WebClient, row: _Row) -> tuple[str | None, timedelta]:
        """Delete one copy in Slack: None when Slack confirmed, else Slack's error code (or
        ``http_<status>``, ``network``) and how long Slack asked to wait."""
        try:
            if row.file_id:
                client.files_delete(file=row.file_id)
            else:
                client.chat_delete(channel=str(row.channel_id), ts=str(row.message_ts))
        except SlackApiError as error:
            response = error.response
            status = int(getattr(response, "status_code", 200) or 200)
            if status == 429:
                seconds = retry_after_seconds(response.headers)
                return "ratelimited", timedelta(seconds=seconds)
            code = str(response.get("error") or "") if status < 500 else ""
            return code or f"http_{status}", timedelta(0)
        except (SlackClientError, OSError) as error:
            log.debug("Slack deletion failed on the way", extra=fields(error=type(error).__name__))
            return "network", timedelta(0)
        return None, timedelta(0)


def retry_after_seconds(headers: Any) -> float:
    """Slack's Retry-After from a response's headers (1 second when absent)."""
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError):
                return 1.0
    return 1.0


def delete_due(
    runtime: Runtime,
    now: datetime | None = None,
    *,
    clients: WebClient | WorkspaceClients | None = None,
    workspace: tuple[str, str | None] | None = None,
) -> Deleted:
    """Delete Ally's copies due in Slack at ``now`` (default: the runtime's clock), only those
    of one workspace when ``workspace`` is given (enterprise, team; a team of None: the whole
    organisation); one log line says how it went."""
    at = now or runtime.clock()
    among = None
    if workspace is not None:
        enterprise_id, team_id = workspace
        among = SlackDeletion.enterprise_id == enterprise_id
        if team_id is not None:
            among = and_(among, SlackDeletion.team_id == team_id)
    deleter = Deleter(runtime, clients if clients is not None else WorkspaceClients(runtime))
    done = deleter.run(at, among)
    if done.deleted or done.dropped or done.retry:
        log.info(
            "Slack copies: %s",
            done,
            extra=fields(deleted=done.deleted, dropped=done.dropped, retry=done.retry),
        )
    return done


def waiting(runtime: Runtime) -> int:
    """How many copies are still to delete in Slack (for ``ally-bot deletions``)."""
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(SlackDeletion)) or 0)
