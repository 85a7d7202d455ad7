"""Settling a claimed send: the weekly DM's rows (``nudges``) and the plans' (``plan_messages``).

A sender claims rows by setting ``claimed_by`` to its worker id and ``claimed_until`` to a lease;
only the holder may settle them (mark sent, give up, record an error, give them back), and
settling always ends the claim. If the lease ran out and another sender took a row meanwhile,
the update touches nothing and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.models import Nudge, NudgeStatus, PlanMessage


@dataclass(frozen=True)
class Leases:
    """One worker's claims on one table of sends."""

    sessions: sessionmaker[Session]
    table: type[Nudge] | type[PlanMessage]
    worker: str

    def settle(self, row_ids: Sequence[int], **values: Any) -> int:
        """Set ``values`` on the rows this worker still holds and end its claim on them; returns
        how many it still held."""
        if not row_ids:
            return 0
        table = self.table
        with transaction(self.sessions) as session:
            result = session.execute(
                update(table)
                .where(table.id.in_(row_ids), table.claimed_by == self.worker)
                .values(claimed_by=None, claimed_until=None, **values)
                .execution_options(synchronize_session=False)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def finish(self, row_id: int, status: NudgeStatus, why: str) -> None:
        """Settle a send that will not happen (skipped, given up on), saying why."""
        self.settle([row_id], status=status.value, error=why[:200])

    def fail(self, row_id: int, why: str, **values: Any) -> None:
        """Give a failed send back for a later run, with the error."""
        self.settle([row_id], error=why[:200], **values)

    def release(self, row_ids: Sequence[int]) -> None:
        """Give claims back untouched, for the next run."""
        self.settle(row_ids)
