"""Signed requests already handled, remembered long enough to refuse a replay.

Slack signs ``v0:{timestamp}:{body}`` and Bolt refuses a timestamp more than five minutes old, so
an attacker who captured a request can replay it only inside that window. Remembering each
signature (and each event id, for Slack's own retries) in the database for that long makes the
second copy a no-op on every process that shares the database.
"""

from __future__ import annotations

from sqlalchemy import Index, Integer, String, delete, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

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


def remember(session: Session, key: str, request_ts: int) -> bool:
    """Record ``key``; False when it was already recorded (a replay or a retry)."""
    if session.get_bind().dialect.name == "postgresql":
        # Every request passes here, so a durable commit (an fsync, ~4 ms p50) would be added to
        # each ack. A crash may lose the last fraction of a second of keys, and only a replay of
        # those, inside Slack's 5-minute window, would then get through; nothing else is at stake.
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    # One INSERT that skips a key already there (both dialects spell it ON CONFLICT DO NOTHING):
    # no savepoint around it and no unit of work for a row nobody reads back.
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    # RETURNING says whether the row went in (rowcount is not reliable here on every driver).
    inserted = session.execute(
        insert(SeenRequest)
        .values(key=key[:100], request_ts=request_ts)
        .on_conflict_do_nothing(index_elements=[SeenRequest.key])
        .returning(SeenRequest.key)
    ).first()
    return inserted is not None


def forget(session: Session, key: str) -> None:
    """Drop ``key`` so that Slack's retry of a request that failed is handled after all."""
    session.execute(delete(SeenRequest).where(SeenRequest.key == key[:100]))


def prune(session: Session, request_ts: int) -> int:
    """Delete keys far older than ``request_ts``: their requests would fail the signature check."""
    result = session.execute(
        delete(SeenRequest).where(SeenRequest.request_ts < request_ts - KEEP_SECONDS)
    )
    return int(getattr(result, "rowcount", 0) or 0)
