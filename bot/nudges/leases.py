"""Settling a claimed send: the weekly DM's rows (``nudges``) and the plans' (``plan_messages``).

A sender claims rows by setting ``claimed_by`` to its worker id and ``claimed_until`` to a lease;
only the holder may settle them (mark sent, give up, record an error, give them back), and
settling always ends the claim. If the lease ran out and another sender took a row meanwhile,
the update touches nothing and says so.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from storage.db import transaction
from storage.models import Nudge, NudgeStatus, PlanMessage


@dataclass(frozen=True)
class Leases:
    """One worker's claims on one table of sends."""

    sessions: sessionmaker[Session]
    table: type[Nudge] | type[PlanMessage]
    worker: str

    def claim(
        self,
        keys: Sequence[InstrumentedAttribute[Any]],
        wanted: Collection[tuple[Any, ...]],
        among: ColumnElement[bool],
        now: datetime,
        lease: timedelta,
        returning: Sequence[InstrumentedAttribute[Any]],
        **values: Any,
    ) -> Sequence[Row[Any]]:
        """Lease the planned rows ``among`` whose ``keys`` are ``wanted`` and that nobody else
        holds (or whose lease ran out before ``now``), setting ``values`` too; returns each row
        claimed, with its id and the ``returning`` columns."""
        table = self.table
        claimable = and_(
            table.status == NudgeStatus.PLANNED.value,
            or_(table.claimed_until.is_(None), table.claimed_until < now),
        )
        with transaction(self.sessions) as session:
            # SKIP LOCKED: rows another process is claiming right now are simply not ours.
            # (SQLite has no row locks; SQLAlchemy leaves the clause out there.)
            locked = session.execute(
                select(table.id, *keys).where(among, claimable).with_for_update(skip_locked=True)
            ).all()
            ids = [row[0] for row in locked if tuple(row[1:]) in wanted]
            if not ids:
                return []
            return session.execute(
                update(table)
                .where(table.id.in_(ids), claimable)
                .values(claimed_by=self.worker, claimed_until=now + lease, **values)
                .returning(table.id, *returning)
                .execution_options(synchronize_session=False)
            ).all()

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
