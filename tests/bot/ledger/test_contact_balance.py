"""Each contact's kept balance (``contacts.balance``) always equals its ledger's sum.

The balance is moved as each interaction is recorded; these tests hold it to the ledger after
any sequence of writes, after a write that fails half-way, and under two writers at once.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import InvalidInput
from bot.ledger import service as ledger
from bot.ledger.people import MemberRef, OutsidePerson, Person, SlackPerson
from bot.ledger.service import Entry
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Contact, Interaction, InteractionKind

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
PEOPLE: list[Person] = [
    SlackPerson("U2", "Maria Lopez"),
    SlackPerson("U3", "Bob Chen"),
    OutsidePerson("Dana Lee", "Acme"),
    OutsidePerson("Sam Ortiz", None),
]
SIMPLE_KINDS = [
    InteractionKind.FAVOUR_RECEIVED,
    InteractionKind.FAVOUR_GIVEN,
    InteractionKind.CATCH_UP,
]
_MEMBERS = itertools.count(1)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def ledger_sums(session: Session) -> dict[int, int]:
    """Each contact's balance summed from the ledger itself."""
    weight = case(
        (Interaction.kind.in_(["favour_given", "intro_made"]), 1),
        (Interaction.kind.in_(["favour_received", "intro_received"]), -1),
        else_=0,
    )
    rows = session.execute(
        select(Contact.id, func.coalesce(func.sum(weight), 0))
        .outerjoin(
            Interaction,
            (Interaction.member_id == Contact.member_id) & (Interaction.contact_id == Contact.id),
        )
        .group_by(Contact.id)
    ).all()
    return {contact_id: int(total) for contact_id, total in rows}


def kept(session: Session) -> dict[int, int]:
    return {cid: balance for cid, balance in session.execute(select(Contact.id, Contact.balance))}


# One step: (operation, first person, second person, kind for a simple entry).
steps = st.lists(
    st.tuples(
        st.sampled_from(["simple", "intro_received", "intro_made", "thanks", "bad"]),
        st.integers(0, len(PEOPLE) - 1),
        st.integers(0, len(PEOPLE) - 1),
        st.sampled_from(SIMPLE_KINDS),
    ),
    min_size=1,
    max_size=12,
)


def apply(session: Session, ref: MemberRef, step: tuple[str, int, int, InteractionKind]) -> None:
    op, a, b, kind = step
    first, second = PEOPLE[a], PEOPLE[b]
    if op == "simple":
        ledger.record_favour(session, ref, first, kind, "helped with the launch", NOW)
    elif op == "intro_received":
        ledger.record_entry(
            session, ref, Entry(InteractionKind.INTRO_RECEIVED), [first, second], NOW
        )
    elif op == "intro_made":
        ledger.record_entry(session, ref, Entry(InteractionKind.INTRO_MADE), [first, second], NOW)
    elif op == "thanks":
        recorded = ledger.record_favour(
            session, ref, first, InteractionKind.FAVOUR_RECEIVED, "a review", NOW
        )
        ledger.record_thanks(session, ref, recorded.lines[0].id, "thank you!", NOW)
    else:
        # A favour recorded, then a refused entry in the same transaction: nothing of it stays.
        ledger.record_favour(session, ref, first, InteractionKind.FAVOUR_GIVEN, "a draft", NOW)
        ledger.record_favour(session, ref, second, InteractionKind.FAVOUR_GIVEN, " ", NOW)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps)
def test_the_kept_balance_is_the_ledgers_sum_after_any_writes(
    sessions: sessionmaker[Session], sequence: list[tuple[str, int, int, InteractionKind]]
) -> None:
    ref = MemberRef("T1", f"U{1000 + next(_MEMBERS)}")
    for step in sequence:
        try:
            with transaction(sessions) as session:
                apply(session, ref, step)
        except InvalidInput:
            pass  # refused (the same person twice, an empty "what"): rolled back whole
    with sessions() as session:
        assert kept(session) == ledger_sums(session)


def test_a_recorded_favour_reports_the_balance_it_leaves(
    sessions: sessionmaker[Session],
) -> None:
    ref = MemberRef("T1", "U1")
    maria = PEOPLE[0]
    with transaction(sessions) as session:
        got = ledger.record_favour(session, ref, maria, InteractionKind.FAVOUR_RECEIVED, "x", NOW)
        assert got.balance == -1
        got = ledger.record_favour(session, ref, maria, InteractionKind.FAVOUR_RECEIVED, "y", NOW)
        assert got.balance == -2
    with transaction(sessions) as session:
        got = ledger.record_favour(session, ref, maria, InteractionKind.FAVOUR_GIVEN, "z", NOW)
        assert got.balance == -1
        card = ledger.history(session, ref, maria, NOW)
        assert card.balance == -1


def test_a_favour_with_someone_known_is_one_update_and_the_clock_only_moves_forward(
    sessions: sessionmaker[Session],
) -> None:
    ref = MemberRef("T1", "U1")
    maria = PEOPLE[0]
    with transaction(sessions) as session:
        ledger.record_favour(
            session, ref, maria, InteractionKind.CATCH_UP, "", NOW, when=NOW - timedelta(days=3)
        )
    statements: list[str] = []
    bind = sessions.kw["bind"]

    def record(*args: object) -> None:
        statements.append(" ".join(str(args[2]).split()).upper())

    def touched() -> tuple[datetime | None, int]:
        with sessions() as session:
            contact = session.scalars(select(Contact)).one()
            return contact.last_touch_at, contact.balance

    event.listen(bind, "before_cursor_execute", record)
    try:
        # An older favour moves the balance but leaves the last touch where it was.
        with transaction(sessions) as session:
            got = ledger.record_favour(
                session,
                ref,
                maria,
                InteractionKind.FAVOUR_RECEIVED,
                "a review",
                NOW,
                when=NOW - timedelta(days=10),
            )
            assert got.balance == -1
        assert touched() == (NOW - timedelta(days=3), -1)
        # A newer one moves both.
        with transaction(sessions) as session:
            got = ledger.record_favour(
                session, ref, maria, InteractionKind.FAVOUR_GIVEN, "an intro", NOW
            )
            assert got.balance == 0 and got.contact.last_touch_at == NOW
        assert touched() == (NOW, 0)
    finally:
        event.remove(bind, "before_cursor_execute", record)
    updates = [x for x in statements if x.startswith("UPDATE CONTACTS")]
    assert len(updates) == 2, updates  # one per favour


def test_two_writers_at_once_both_count(pg_url: str) -> None:
    """On PostgreSQL, favours recorded at the same moment by two processes are both kept."""
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    ref = MemberRef("T1", "U1")
    maria = PEOPLE[0]
    with transaction(sessions) as session:
        ledger.record_favour(session, ref, maria, InteractionKind.CATCH_UP, "", NOW)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            start.wait()
            for _ in range(20):
                with transaction(sessions) as session:
                    ledger.record_favour(
                        session, ref, maria, InteractionKind.FAVOUR_GIVEN, "review", NOW
                    )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors
        with sessions() as session:
            assert kept(session) == ledger_sums(session)
            assert list(kept(session).values()) == [40]
    finally:
        engine.dispose()
