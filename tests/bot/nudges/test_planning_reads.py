"""The planner's reading on SQLite and PostgreSQL: days since the last touch, snoozes and
balances come through each driver's own values to the same DM content."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.ledger import service as ledger
from bot.ledger.network import TouchState
from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.nudges.planning import planned_batches
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Contact, InteractionKind

# A Sunday: every default Monday 09:00 UTC slot of the week has passed.
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ANA = MemberRef("T1", "U1")
MARIA = SlackPerson("U2", "Maria Lopez")
DANA = OutsidePerson("Dana Lee", "Acme")
SAM = OutsidePerson("Sam Ortiz", None)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_days_snoozes_and_balances_read_alike_on_both_databases(
    sessions: sessionmaker[Session],
) -> None:
    favour = InteractionKind.FAVOUR_RECEIVED
    with transaction(sessions) as s:
        # Late in the evening, 100 days ago: the day counts, not the hours.
        late = (NOW - timedelta(days=100)).replace(hour=23, minute=59)
        ledger.record_favour(s, ANA, MARIA, favour, "a review", NOW, when=late)
        ledger.record_favour(s, ANA, MARIA, favour, "a report", NOW, when=late)
        ledger.record_favour(s, ANA, DANA, favour, "an intro", NOW, when=NOW - timedelta(200))
        ledger.record_favour(s, ANA, SAM, InteractionKind.FAVOUR_GIVEN, "notes", NOW, when=NOW)
    with transaction(sessions) as s:
        s.execute(
            update(Contact).where(Contact.key == DANA.key).values(snoozed_until=date(2026, 12, 1))
        )
    [[planned]] = list(planned_batches(sessions, NOW))
    content = planned.content
    [overdue] = content.stay_in_touch
    assert overdue.contact.label == "Maria Lopez"
    assert overdue.days_since == 100
    assert overdue.state is TouchState.OVERDUE
    # Dana is snoozed: neither overdue nor this week's person, though owed nothing and longest
    # out of touch.
    assert content.person is not None and content.person.contact.label == "Maria Lopez"
    assert content.give_first is not None and content.give_first.contact.label == "Maria Lopez"
    assert content.give_first.received_more == 2
    # Once the snooze has ended, Dana (200 days) is the most overdue.
    with transaction(sessions) as s:
        s.execute(
            update(Contact).where(Contact.key == DANA.key).values(snoozed_until=date(2026, 11, 22))
        )
    [[planned]] = list(planned_batches(sessions, NOW))
    assert [(c.contact.label, c.days_since) for c in planned.content.stay_in_touch] == [
        ("Dana Lee (Acme)", 200),
        ("Maria Lopez", 100),
    ]
