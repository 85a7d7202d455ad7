"""The ledger services (bot/ledger/service.py) on real SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import InvalidInput, NotFound
from bot.ledger import service as ledger
from bot.ledger.network import TouchState
from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.ledger.service import ContactUpdate, Entry
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Bond, Contact, InteractionKind, Level, Network

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
ANA = MemberRef("T1", "U1")
MARIA = SlackPerson("U2", "Maria Lopez")
BOB = SlackPerson("U3", "Bob Chen")
DANA = OutsidePerson("Dana Lee", "Acme")


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_favours_both_ways_add_up_to_a_balance(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        first = ledger.record_favour(s, ANA, MARIA, InteractionKind.FAVOUR_RECEIVED, "report", NOW)
        assert first.new_contact and first.balance == -1
    with transaction(sessions) as s:
        ledger.record_favour(s, ANA, MARIA, InteractionKind.FAVOUR_RECEIVED, "on-call", NOW)
        again = ledger.record_favour(s, ANA, MARIA, InteractionKind.FAVOUR_GIVEN, "review", NOW)
        assert not again.new_contact and again.balance == -1
    with transaction(sessions) as s:
        h = ledger.history(s, ANA, MARIA, NOW + timedelta(days=1))
    assert [x.what for x in h.received] == ["on-call", "report"]
    assert [x.what for x in h.given] == ["review"]
    assert (h.total("received"), h.total("given"), h.balance) == (2, 1, -1)
    assert h.touch.days_since == 1 and h.touch.state == TouchState.OK


def test_intros_record_met_through_and_show_once_on_each_side(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as s:
        got = ledger.record_entry(
            s, ANA, Entry(InteractionKind.INTRO_RECEIVED, "offsite"), [MARIA, BOB], NOW
        )
        assert got.contact.met_through == "Maria Lopez" and got.other is not None
        assert got.other.key == "U2" and got.balance == -1
        made = ledger.record_entry(
            s, ANA, Entry(InteractionKind.INTRO_MADE, "design crit"), [BOB, DANA], NOW
        )
        assert made.new_contact and [x.contact for x in made.lines] == [
            "Bob Chen",
            "Dana Lee (Acme)",
        ]
    with transaction(sessions) as s:
        bob = ledger.history(s, ANA, BOB, NOW)
        dana = ledger.history(s, ANA, DANA, NOW)
        maria = ledger.history(s, ANA, MARIA, NOW)
    assert [(x.kind, x.contact, x.related) for x in bob.intros] == [
        (InteractionKind.INTRO_MADE, "Bob Chen", "Dana Lee (Acme)"),
        (InteractionKind.INTRO_RECEIVED, "Maria Lopez", "Bob Chen"),
    ]
    assert bob.contact.met_through == "Maria Lopez" and bob.total("intros") == 2
    assert bob.balance == 1  # an introduction made is a favour given to each side
    assert [(x.contact, x.related) for x in dana.intros] == [("Dana Lee (Acme)", "Bob Chen")]
    assert dana.total("intros") == 1 and dana.balance == 1
    assert maria.total("intros") == 1 and maria.balance == -1
    # Three statements, whatever the lines name: the member, the contact (with who the member
    # met them through) and every section's lines and totals with both people on each line.
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    bind = sessions.kw["bind"]
    event.listen(bind, "before_cursor_execute", record)
    try:
        with transaction(sessions) as s:
            again = ledger.history(s, ANA, BOB, NOW)
    finally:
        event.remove(bind, "before_cursor_execute", record)
    assert again == bob
    selects = [x for x in statements if x.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3, selects


def test_any_interaction_restarts_the_clock(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        ledger.update_contact(s, ANA, MARIA, ContactUpdate(bond=Bond.ALLIANCE), NOW)
        ledger.record_favour(s, ANA, MARIA, InteractionKind.CATCH_UP, "", NOW - timedelta(days=50))
    later = NOW
    with transaction(sessions) as s:
        overview = ledger.overview(s, ANA, later)
        assert [d.contact.key for d in overview.overdue] == ["U2"]
        ledger.record_favour(s, ANA, MARIA, InteractionKind.CATCH_UP, "coffee", later)
    with transaction(sessions) as s:
        overview = ledger.overview(s, ANA, later)
        h = ledger.history(s, ANA, MARIA, later)
    assert overview.overdue == [] and overview.due == []
    assert h.touch.next_due == (later + timedelta(days=30)).date()


def test_update_contact_places_them_in_the_review(sessions: sessionmaker[Session]) -> None:
    update = ContactUpdate(
        networks=Network.STRATEGIC | Network.OPERATIONAL,
        level=Level.ABOVE,
        bond=Bond.CONNECTION,
        cadence_days=21,
    )
    with transaction(sessions) as s:
        placed = ledger.update_contact(s, ANA, MARIA, update, NOW)
        ledger.update_contact(s, ANA, DANA, ContactUpdate(networks=Network.STRATEGIC), NOW)
    assert (placed.contact.networks, placed.contact.level, placed.contact.cadence_days) == (
        3,
        "above",
        21,
    )
    with transaction(sessions) as s:
        review = ledger.overview(s, ANA, NOW).review
    assert review.row(Network.STRATEGIC).counts["above"] == 1
    assert review.row(Network.OPERATIONAL).counts["above"] == 1
    assert review.connections["above"] == 1  # counted once across its two networks
    assert review.strongest == Network.STRATEGIC and review.unplaced == 1


def test_thanks_is_scoped_to_the_member_and_marks_the_favour(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as s:
        mine = ledger.record_favour(s, ANA, MARIA, InteractionKind.FAVOUR_RECEIVED, "x", NOW)
        given = ledger.record_favour(s, ANA, MARIA, InteractionKind.FAVOUR_GIVEN, "y", NOW)
        outside = ledger.record_favour(s, ANA, DANA, InteractionKind.FAVOUR_RECEIVED, "z", NOW)
    favour_id = mine.lines[0].id
    for other in (MemberRef("T1", "U2"), MemberRef("T2", "U1"), MemberRef("T1", "U1", "E1")):
        with pytest.raises(NotFound), transaction(sessions) as s:
            ledger.thanks_target(s, other, favour_id, NOW)
        with pytest.raises(NotFound), transaction(sessions) as s:
            ledger.record_thanks(s, other, favour_id, "thanks", NOW)
    with pytest.raises(NotFound), transaction(sessions) as s:
        ledger.thanks_target(s, ANA, given.lines[0].id, NOW)
    with pytest.raises(InvalidInput, match="isn't in this Slack"), transaction(sessions) as s:
        ledger.thanks_target(s, ANA, outside.lines[0].id, NOW)
    later = NOW + timedelta(hours=2)
    with transaction(sessions) as s:
        done = ledger.record_thanks(s, ANA, favour_id, "  Thank you!\n", later)
    assert done.thanked_at == later and done.slack_user_id == "U2"
    with transaction(sessions) as s:
        h = ledger.history(s, ANA, MARIA, later)
    assert h.received[0].thanked
    assert [(x.kind, x.what) for x in h.catch_ups] == [(InteractionKind.THANKS, "Thank you!")]
    assert h.touch.days_since == 0


def test_limits_are_checked_before_anything_is_written(sessions: sessionmaker[Session]) -> None:
    long_key = OutsidePerson("ß" * 150)  # the case-folded key doubles: over the column
    cases = [
        lambda s: ledger.record_favour(
            s, ANA, MARIA, InteractionKind.FAVOUR_GIVEN, "x" * 1001, NOW
        ),
        lambda s: ledger.record_favour(s, ANA, MARIA, InteractionKind.FAVOUR_GIVEN, " ", NOW),
        lambda s: ledger.record_favour(s, ANA, long_key, InteractionKind.CATCH_UP, "", NOW),
        lambda s: ledger.record_favour(
            s, ANA, SlackPerson("U1"), InteractionKind.CATCH_UP, "", NOW
        ),
        lambda s: ledger.record_entry(
            s, ANA, Entry(InteractionKind.INTRO_MADE), [MARIA, MARIA], NOW
        ),
        lambda s: ledger.update_contact(s, ANA, MARIA, ContactUpdate(cadence_days=0), NOW),
        lambda s: ledger.record_thanks(s, ANA, 1, "", NOW),
    ]
    for case in cases:
        with pytest.raises(InvalidInput), transaction(sessions) as s:
            case(s)
    with transaction(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 0
        # NUL and other control characters are dropped (PostgreSQL refuses NUL in text).
        kept = ledger.record_favour(
            s, ANA, MARIA, InteractionKind.FAVOUR_GIVEN, "a\x00b\x07 c", NOW
        )
    assert kept.lines[0].what == "a b c"


def test_history_of_hundreds_is_cut_per_kind_with_totals(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        for n in range(120):
            when = NOW - timedelta(hours=n)
            ledger.record_favour(
                s, ANA, MARIA, InteractionKind.FAVOUR_RECEIVED, f"r{n}", NOW, when=when
            )
            ledger.record_favour(
                s, ANA, MARIA, InteractionKind.FAVOUR_GIVEN, f"g{n}", NOW, when=when
            )
    with transaction(sessions) as s:
        h = ledger.history(s, ANA, MARIA, NOW, limit=5)
    assert [x.what for x in h.received] == ["r0", "r1", "r2", "r3", "r4"]
    assert [x.what for x in h.given] == ["g0", "g1", "g2", "g3", "g4"]
    assert (h.total("received"), h.total("given"), h.balance) == (120, 120, 0)
