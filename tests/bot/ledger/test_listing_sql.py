"""``/ally people``'s stay-in-touch filters run in SQL: they must agree with ``touch_brief`` for
every cadence a member can set, on both databases, on each side of every threshold."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.ledger.listing import _state_is
from bot.ledger.network import TouchState, cadence_days, due_soon_days, max_days, touch_brief
from bot.ledger.service import MAX_CADENCE_DAYS
from storage.db import make_engine, make_session_factory
from storage.models import Bond, Contact, Member

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def _contacts(member_id: int) -> list[dict]:
    today = NOW.date()
    rows = []
    cadences: list[tuple[int | None, str | None]] = [(None, b) for b in (None, *Bond)]
    cadences += [(days, None) for days in range(1, MAX_CADENCE_DAYS + 1)]
    for cadence, bond in cadences:
        ideal = cadence_days(cadence, bond)
        soon = ideal - due_soon_days(ideal)
        for since in sorted(
            {0, soon - 1, soon, ideal - 1, ideal, max_days(ideal), max_days(ideal) + 1}
        ):
            if since < 0:
                continue
            touched = today - timedelta(days=since)
            # Late in the day of the last touch (or of the adding): the day, not the hour, counts.
            at = datetime.combine(touched, time(23, 59), tzinfo=UTC)
            # Touched then (added long before), or never met and added then.
            for last_touch, added in ((at, at - timedelta(days=800)), (None, at)):
                for snoozed in (None, today, today + timedelta(days=1)):
                    rows.append(
                        {
                            "member_id": member_id,
                            "key": f"~p{len(rows)}",
                            "name": f"P{len(rows)}",
                            "cadence_days": cadence,
                            "bond": bond,
                            "last_touch_at": last_touch,
                            "snoozed_until": snoozed,
                            "created_at": added,
                        }
                    )
    return rows


def test_the_state_filters_agree_with_touch_brief_for_every_cadence(session: Session) -> None:
    member = Member(team_id="T1", user_id="U1", enterprise_id="", created_at=NOW)
    session.add(member)
    session.flush()
    rows = _contacts(member.id)
    session.execute(insert(Contact), rows)
    today = NOW.date()
    expected: dict[TouchState, set[str]] = {state: set() for state in TouchState}
    for row in rows:
        touched = row.get("last_touch_at")
        snoozed: date | None = row.get("snoozed_until")
        state, _ = touch_brief(
            touched.date().toordinal() if touched else None,
            row.get("cadence_days"),
            row.get("bond"),
            today.toordinal(),
            snoozed.toordinal() if snoozed else None,
            added_day=row["created_at"].date().toordinal(),
        )
        expected[state].add(row["key"])
    # Every state is tried, never met or not; a stored contact always has a day it was added,
    # so none is without a day to count from (NEW).
    assert all(keys for state, keys in expected.items() if state is not TouchState.NEW)
    assert not expected[TouchState.NEW]
    never_met = {row["key"] for row in rows if row["last_touch_at"] is None}
    for state in (TouchState.DUE, TouchState.OVERDUE, TouchState.DUE_SOON, TouchState.OK):
        assert expected[state] & never_met, state
    for state in TouchState:
        found = session.scalars(
            select(Contact.key).where(
                Contact.member_id == member.id, _state_is(frozenset({state}), today)
            )
        )
        assert set(found) == expected[state], state
