"""Signed requests already handled, remembered long enough to refuse a replay.

Slack signs ``v0:{timestamp}:{body}`` and Bolt refuses a timestamp more than five minutes old, so
an attacker who captured a request can replay it only inside that window. Remembering each
signature (and each event id, for Slack's own retries) in the database for that long makes the
second copy a no-op on every process that shares the database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Index, Integer, String, bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

# Slack's signature window is 300 s either way; keep keys a little longer than twice that.
KEEP_SECONDS = 15 * 60


class SeenRequest(Base):
    """One request signature (``sig:v0=…``) or event id (``event:Ev…``) already handled."""

    __tablename__ = "seen_requests"
    __table_args__ = (Index("ix_seen_requests_request_ts", "request_ts"),)

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The request's own X-Slack-Request-Timestamp (Unix seconds), so pruning needs no clock.
    request_ts: Mapped[int] = mapped_column(Integer)


def _insert(dialect: str) -> Any:
    """``INSERT .. ON CONFLICT DO NOTHING RETURNING key`` (both dialects spell it alike), built
    once per dialect: every request runs it."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(SeenRequest)
        .values(key=bindparam("key"), request_ts=bindparam("request_ts"))
        .on_conflict_do_nothing(index_elements=[SeenRequest.key])
        .returning(SeenRequest.key)
    )


_INSERTS = {dialect: _insert(dialect) for dialect in ("postgresql", "sqlite")}
_FORGET = delete(SeenRequest).where(SeenRequest.key == bindparam("key"))


def remember(connection: Connection, key: str, request_ts: int) -> bool:
    """Record ``key``; False when it was already recorded (a replay or a retry).

    One INSERT that skips a key already there: no savepoint and no ORM for a row nobody reads
    back. RETURNING says whether the row went in (rowcount is not reliable on every driver).
    """
    inserted = connection.execute(
        _INSERTS[connection.dialect.name], {"key": key[:100], "request_ts": request_ts}
    ).first()
    return inserted is not None


def commit_lazily(connection: Connection) -> None:
    """Let this transaction's commit skip waiting for the disk (PostgreSQL).

    Every request records its keys, so a durable commit (an fsync, ~4 ms p50) would be added to
    each ack. A crash may lose the last fraction of a second of keys, and only a replay of
    those, inside Slack's 5-minute window, would then get through; nothing else is at stake.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def forget(connection: Connection, key: str) -> None:
    """Drop ``key`` so that Slack's retry of a request that failed is handled after all."""
    connection.execute(_FORGET, {"key": key[:100]})


def prune(connection: Connection, request_ts: int) -> int:
    """Delete keys far older than ``request_ts``: their requests would fail the signature check."""
    result = connection.execute(
        delete(SeenRequest).where(SeenRequest.request_ts < request_ts - KEEP_SECONDS)
    )
    return int(getattr(result, "rowcount", 0) or 0)
