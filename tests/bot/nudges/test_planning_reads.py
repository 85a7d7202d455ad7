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
from bot.nudges.planning import Schedule, planned_batches, preview
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Contact, InteractionKind, Member

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


def test_the_preview_is_the_dm_the_member_gets_this_week_with_their_settings(
    sessions: sessionmaker[Session],
) -> None:
    # Maria is an alliance last met 20 days ago: due only under Ana's own 14-day default
    # (Ally's is 30 days).
    with transaction(sessions) as s:
        met = NOW - timedelta(days=20)
        ledger.record_favour(s, ANA, MARIA, InteractionKind.CATCH_UP, "", NOW, when=met)
        ledger.record_favour(s, ANA, SAM, InteractionKind.FAVOUR_GIVEN, "notes", NOW, when=NOW)
        s.execute(update(Contact).where(Contact.key == MARIA.key).values(bond="alliance"))
        s.execute(
            update(Member)
            .where(Member.user_id == ANA.user_id)
            .values(
                nudge_weekday=3,
                nudge_minute=8 * 60 + 30,
                tz="America/New_York",
                focus="pricing",
                alliance_cadence_days=14,
                connection_cadence_days=90,
            )
        )
    with sessions() as s:
        member, slot, content = preview(s, ANA, NOW)
    assert member.id and member.ref == ANA and member.focus == "pricing"
    assert member.schedule == Schedule(True, 3, 8 * 60 + 30, "America/New_York", None)
    assert member.cadences == {"alliance": 14, "connection": 90}
    assert (slot.week, f"{slot.local:%a %H:%M}") == ("2026-W47", "Thu 08:30")
    assert [(t.contact.label, t.state) for t in content.stay_in_touch] == [
        ("Maria Lopez", TouchState.DUE)
    ]
    # The Thursday slot has passed: the send plans the same DM.
    [[planned]] = list(planned_batches(sessions, NOW))
    assert (planned.member, planned.slot, planned.content) == (member, slot, content)


def test_the_preview_of_someone_who_never_used_ally_is_the_first_dm(
    sessions: sessionmaker[Session],
) -> None:
    nobody = MemberRef("T1", "U404")
    with sessions() as s:
        member, slot, content = preview(s, nobody, NOW)
    assert not member.id and member.ref == nobody and member.schedule == Schedule()
    assert slot.due_at == datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # Monday 09:00 UTC
    assert content.start_here
