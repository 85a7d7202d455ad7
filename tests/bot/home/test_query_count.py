"""Home's data comes in a constant number of queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from bot.home.service import home
from bot.ledger.people import MemberRef, OutsidePerson
from bot.ledger.service import Entry, record_entry
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Contact, Interaction, InteractionKind
from storage.repository import get_or_create_member

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
ANA = MemberRef("T1", "U1")


def seed(factory, n: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        member = get_or_create_member(session, "", "T1", "U1", NOW)
        contacts = [
            Contact(
                member_id=member.id,
                key=f"~p{i}",
                name=f"P{i}",
                networks=1 + i % 7,
                level=("above", "peer", "below")[i % 3],
                created_at=NOW,
                last_touch_at=NOW - timedelta(days=i),
            )
            for i in range(n)
        ]
        session.add_all(contacts)
        session.flush()
        for i, contact in enumerate(contacts[:30]):
            session.add(
                Interaction(
                    member_id=member.id,
                    contact_id=contact.id,
                    kind=InteractionKind.FAVOUR_RECEIVED,
                    what=f"f{i}",
                    occurred_at=NOW - timedelta(days=i),
                    created_at=NOW,
                )
            )
    with transaction(factory) as session:
        intro = Entry(InteractionKind.INTRO_RECEIVED)
        record_entry(session, ANA, intro, [OutsidePerson("P1"), OutsidePerson("New One")], NOW)


def queries_for_home(url: str, n: int) -> tuple[int, int]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    seed(factory, n)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with transaction(factory) as session:
        data = home(session, ANA, NOW)
    engine.dispose()
    return len(statements), data.contacts


def test_home_reads_in_six_queries_whatever_the_size(db_url: str) -> None:
    small, contacts = queries_for_home(db_url, 5)
    assert contacts == 6
    # member, contacts (with their kept balances), recent ledger, this and last week's DM
    # person, active projects, whom the member has ever given to (give first)
    assert small == 6


def test_a_large_network_takes_the_same_queries(db_url: str) -> None:
    large, contacts = queries_for_home(db_url, 400)
    assert contacts == 401
    assert large == 6


def test_a_member_who_never_used_ally_gets_an_empty_home_and_no_row(db_url: str) -> None:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        data = home(session, MemberRef("T1", "UNEW"), NOW)
        assert data.contacts == 0 and data.this_week is not None
        assert not session.new
    engine.dispose()
