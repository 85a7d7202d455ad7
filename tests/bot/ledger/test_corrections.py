"""After any mix of writes and corrections (edit, delete, undo, merge, link, delete a contact),
every contact's kept balance and last touch are exactly what its ledger says, on SQLite and
PostgreSQL. The expected values are computed here, in Python, from the ledger's rows."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import AllyError, InvalidInput
from bot.ledger import corrections
from bot.ledger import service as ledger
from bot.ledger.people import MemberRef, OutsidePerson, Person, SlackPerson
from bot.ledger.service import Entry
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Contact, Interaction, InteractionKind, Member

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
PEOPLE: list[Person] = [
    SlackPerson("U2", "Maria Lopez"),
    SlackPerson("U3", "Bob Chen"),
    OutsidePerson("Dana Lee", "Acme"),
    OutsidePerson("Sam Ortiz", None),
]
KINDS = [
    InteractionKind.FAVOUR_RECEIVED,
    InteractionKind.FAVOUR_GIVEN,
    InteractionKind.CATCH_UP,
]
GIVEN = {"favour_given": 1, "intro_made": 1, "favour_received": -1, "intro_received": -1}
_MEMBERS = itertools.count(1)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def expected(session: Session, member_id: int) -> dict[int, tuple[int, datetime | None]]:
    """Each contact's (balance, last touch) from the ledger's rows, computed here."""
    contacts = session.scalars(select(Contact.id).where(Contact.member_id == member_id)).all()
    rows = session.scalars(select(Interaction).where(Interaction.member_id == member_id)).all()
    result: dict[int, tuple[int, datetime | None]] = {}
    for cid in contacts:
        balance = sum(GIVEN.get(r.kind, 0) for r in rows if r.contact_id == cid)
        touches = [
            r.occurred_at
            for r in rows
            if r.contact_id == cid
            or (r.related_contact_id == cid and r.kind == InteractionKind.INTRO_RECEIVED.value)
        ]
        result[cid] = (balance, max(touches, default=None))
    return result


def kept(session: Session, member_id: int) -> dict[int, tuple[int, datetime | None]]:
    rows = session.execute(
        select(Contact.id, Contact.balance, Contact.last_touch_at).where(
            Contact.member_id == member_id
        )
    )
    return {cid: (balance, touched) for cid, balance, touched in rows}


Step = tuple[str, int, int, int, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(
            [
                *("simple", "simple", "intro_received", "intro_made", "thanks"),
                *("edit", "delete", "undo", "merge", "link", "delete_contact"),
            ]
        ),
        st.integers(0, len(PEOPLE) - 1),
        st.integers(0, len(PEOPLE) - 1),
        st.integers(0, len(KINDS) - 1),
        st.integers(0, 40),  # days ago, or which entry
    ),
    min_size=1,
    max_size=14,
)


def key_of(person: Person) -> str:
    return person.key


def apply(session: Session, ref: MemberRef, step: Step) -> None:
    op, a, b, k, n = step
    first, second = PEOPLE[a], PEOPLE[b]
    when = NOW - timedelta(days=n)
    if op == "simple":
        ledger.record_favour(session, ref, first, KINDS[k], "helped", NOW, when=when)
    elif op == "intro_received":
        ledger.record_entry(
            session, ref, Entry(InteractionKind.INTRO_RECEIVED, when=when), [first, second], NOW
        )
    elif op == "intro_made":
        ledger.record_entry(
            session, ref, Entry(InteractionKind.INTRO_MADE, when=when), [first, second], NOW
        )
    elif op == "thanks":
        got = ledger.record_favour(
            session, ref, first, InteractionKind.FAVOUR_RECEIVED, "a review", NOW, when=when
        )
        ledger.record_thanks(session, ref, got.lines[0].id, "thank you!", NOW)
    elif op in ("edit", "delete"):
        member = session.scalars(select(Member).where(Member.user_id == ref.user_id)).one()
        ids = session.scalars(
            select(Interaction.id)
            .where(Interaction.member_id == member.id)
            .order_by(Interaction.id)
        ).all()
        if not ids:
            return
        chosen = ids[(a * 7 + n) % len(ids)]
        if op == "edit":
            corrections.edit_entry(session, ref, chosen, "edited", when, NOW)
        else:
            corrections.delete_entry(session, ref, chosen, NOW)
    elif op == "undo":
        corrections.undo(session, ref, NOW)
    elif op == "merge":
        corrections.merge_contacts(session, ref, key_of(first), key_of(second), NOW)
    elif op == "link":
        corrections.link_contact(session, ref, key_of(first), second, NOW)
    else:
        corrections.delete_contact(session, ref, key_of(first), NOW)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps)
def test_balances_and_last_touch_stay_the_ledgers_after_any_correction(
    sessions: sessionmaker[Session], sequence: list[Step]
) -> None:
    ref = MemberRef("T1", f"U{5000 + next(_MEMBERS)}")
    with transaction(sessions) as session:
        ledger.open_member(session, ref, NOW)
    for step in sequence:
        try:
            with transaction(sessions) as session:
                apply(session, ref, step)
        except AllyError:
            pass  # refused (the same person twice, nobody to merge, nothing to undo)
        with sessions() as session:
            member = session.scalars(select(Member).where(Member.user_id == ref.user_id)).one()
            assert kept(session, member.id) == expected(session, member.id), step


def test_undo_removes_only_the_newest_entry_and_says_which(
    sessions: sessionmaker[Session],
) -> None:
    ref = MemberRef("T1", "U1")
    maria, dana = PEOPLE[0], PEOPLE[2]
    with transaction(sessions) as session:
        ledger.record_favour(session, ref, maria, InteractionKind.FAVOUR_GIVEN, "a review", NOW)
    with transaction(sessions) as session:
        ledger.record_entry(
            session, ref, Entry(InteractionKind.INTRO_MADE, "design crit"), [maria, dana], NOW
        )
    with transaction(sessions) as session:
        removed = corrections.undo(session, ref, NOW)
        assert removed.line.kind == InteractionKind.INTRO_MADE
        assert removed.line.what == "design crit"
    with sessions() as session:
        # Both rows of the introduction went; the review stays, and so does Dana.
        assert [r.what for r in session.scalars(select(Interaction))] == ["a review"]
        balances = {k: b for k, b in session.execute(select(Contact.key, Contact.balance))}
        assert balances == {"U2": 1, "~dana lee": 0}
    with transaction(sessions) as session:
        assert corrections.undo(session, ref, NOW).line.what == "a review"
    with transaction(sessions) as session, pytest.raises(AllyError, match="nothing to undo"):
        corrections.undo(session, ref, NOW)


def test_linking_moves_history_and_met_through_follows(
    sessions: sessionmaker[Session],
) -> None:
    ref = MemberRef("T1", "U1")
    dana_outside, bob = OutsidePerson("Dana Lee", "Acme"), PEOPLE[1]
    with transaction(sessions) as session:
        ledger.record_favour(
            session, ref, dana_outside, InteractionKind.FAVOUR_RECEIVED, "intro deck", NOW
        )
        ledger.record_entry(
            session, ref, Entry(InteractionKind.INTRO_RECEIVED), [dana_outside, bob], NOW
        )
    dana = SlackPerson("U9", "Dana Lee")
    with transaction(sessions) as session:
        linked = corrections.link_contact(session, ref, "~dana lee", dana, NOW)
        assert (linked.into.key, linked.into.slack_user_id, linked.entries) == ("U9", "U9", 2)
        assert linked.balance == -2
    with sessions() as session:
        bob_row = session.scalars(select(Contact).where(Contact.key == "U3")).one()
        assert bob_row.met_through is not None and bob_row.met_through.key == "U9"
    # Linking another outside name to the same Slack user merges it into that contact.
    with transaction(sessions) as session:
        ledger.record_favour(
            session, ref, OutsidePerson("D. Lee"), InteractionKind.FAVOUR_GIVEN, "a hand", NOW
        )
    with transaction(sessions) as session:
        merged = corrections.link_contact(session, ref, "~d. lee", dana, NOW)
        assert merged.into.key == "U9" and merged.balance == -1
    with sessions() as session:
        keys = set(session.scalars(select(Contact.key)))
        assert keys == {"U9", "U3"}


def placed(session: Session, key: str, **values: object) -> Contact:
    contact = session.scalars(select(Contact).where(Contact.key == key)).one()
    for name, value in values.items():
        setattr(contact, name, value)
    return contact


def test_a_merge_keeps_what_the_second_contact_has_and_fills_what_it_lacks(
    sessions: sessionmaker[Session],
) -> None:
    ref = MemberRef("T1", "U1")
    bob, sam = PEOPLE[1], PEOPLE[3]
    with transaction(sessions) as session:
        for who in (OutsidePerson("D. Lee"), OutsidePerson("Dana Lee"), bob, sam):
            ledger.record_favour(session, ref, who, InteractionKind.FAVOUR_GIVEN, "a hand", NOW)
        ledger.record_favour(
            session, ref, OutsidePerson("Dee"), InteractionKind.FAVOUR_RECEIVED, "a deck", NOW
        )
    with transaction(sessions) as session:
        bob_id = placed(session, "U3").id
        placed(
            session,
            "~d. lee",
            networks=1,
            level="above",
            bond="alliance",
            cadence_days=14,
            organisation="Acme",
            notes="likes tea",
            met_through_id=bob_id,
            snoozed_until=date(2026, 12, 1),
        )
        placed(session, "~dana lee", networks=2, level="peer", notes="met at the offsite")
    with transaction(sessions) as session:
        merged = corrections.merge_contacts(session, ref, "~d. lee", "~dana lee", NOW)
        assert (merged.source.label, merged.into.label) == ("D. Lee (Acme)", "Dana Lee (Acme)")
        assert (merged.moved, merged.balance) == ((("interactions", 1),), 2)
    with sessions() as session:
        dana = placed(session, "~dana lee")
        assert (dana.networks, dana.level, dana.bond, dana.cadence_days) == (
            3,
            "peer",
            "alliance",
            14,
        )
        assert dana.notes == "met at the offsite\nlikes tea"
        assert (dana.met_through_id, dana.snoozed_until) == (bob_id, date(2026, 12, 1))

    # Merged again: what Dana has stays; the same notes are not repeated, nor does
    # she become met through herself.
    with transaction(sessions) as session:
        dana_id = placed(session, "~dana lee").id
        placed(
            session,
            "~dee",
            networks=4,
            level="below",
            bond="connection",
            cadence_days=60,
            organisation="Initech",
            notes="met at the offsite\nlikes tea",
            met_through_id=dana_id,
            snoozed_until=date(2027, 1, 1),
        )
        placed(session, "~sam ortiz", notes="a runner", met_through_id=placed(session, "U3").id)
    with transaction(sessions) as session:
        corrections.merge_contacts(session, ref, "~dee", "~dana lee", NOW)
    with sessions() as session:
        dana = placed(session, "~dana lee")
        assert (dana.networks, dana.level, dana.bond, dana.cadence_days) == (
            7,
            "peer",
            "alliance",
            14,
        )
        assert (dana.organisation, dana.notes) == ("Acme", "met at the offsite\nlikes tea")
        assert (dana.met_through_id, dana.snoozed_until) == (bob_id, date(2026, 12, 1))

    # Into a contact with nothing set: the first one's notes, as they are.
    with transaction(sessions) as session:
        corrections.merge_contacts(session, ref, "~sam ortiz", "U3", NOW)
    with sessions() as session:
        assert placed(session, "U3").notes == "a runner"
    with transaction(sessions) as session, pytest.raises(InvalidInput) as refused:
        corrections.merge_contacts(session, ref, "~dana lee", "~dana lee", NOW)
    assert refused.value.field == "into"
    assert refused.value.message == "Those are the same person: name two different contacts."


def test_corrections_for_someone_with_nothing_logged_say_what_is_missing(
    sessions: sessionmaker[Session],
) -> None:
    ref = MemberRef("T1", "U77")
    cases = {
        "There's nothing to undo: your ledger is empty.": lambda s: corrections.undo(s, ref, NOW),
        "I can't find that entry in your ledger any more.": lambda s: corrections.edit_entry(
            s, ref, 1, "edited", NOW, NOW
        ),
        "That person is not in your network any more.": lambda s: corrections.delete_contact(
            s, ref, "U2", NOW
        ),
    }
    for message, correction in cases.items():
        with transaction(sessions) as session, pytest.raises(AllyError) as refused:
            correction(session)
        assert refused.value.message == message
    with transaction(sessions) as session, pytest.raises(AllyError) as refused:
        corrections.link_contact(session, ref, "~dana lee", SlackPerson("U9", "Dana Lee"), NOW)
    assert refused.value.message == "That person is not in your network any more."


def test_an_introduction_is_edited_as_one_and_optional_words_may_go(
    sessions: sessionmaker[Session],
) -> None:
    ref = MemberRef("T1", "U1")
    maria, dana = PEOPLE[0], PEOPLE[2]
    with transaction(sessions) as session:
        made = ledger.record_entry(
            session, ref, Entry(InteractionKind.INTRO_MADE, "design crit"), [maria, dana], NOW
        )
        first = made.lines[0].id
    earlier = NOW - timedelta(days=3)
    with transaction(sessions) as session:
        line = corrections.edit_entry(session, ref, first, "", earlier, NOW)
        assert (line.what, line.occurred_at) == ("", earlier)
    with sessions() as session:
        rows = session.scalars(select(Interaction)).all()
        assert [(r.what, r.occurred_at.date()) for r in rows] == [("", earlier.date())] * 2


def test_linking_checks_both_people_and_names_the_contact_after_the_slack_user(
    sessions: sessionmaker[Session],
) -> None:
    ref = MemberRef("T1", "U1")
    with transaction(sessions) as session:
        for who in (OutsidePerson("Dana Lee", "Acme"), OutsidePerson("Sam Ortiz"), PEOPLE[0]):
            ledger.record_favour(session, ref, who, InteractionKind.FAVOUR_GIVEN, "a hand", NOW)
    refusals = {
        ("~dana lee", OutsidePerson("Dana L.")): (
            "user",
            "Link them to someone in Slack: @mention them.",
        ),
        ("U2", SlackPerson("U9", "Dana Lee")): (
            "who",
            "They are already a Slack user in your network: only outside contacts are linked.",
        ),
    }
    for (key, user), (field, message) in refusals.items():
        with transaction(sessions) as session, pytest.raises(InvalidInput) as refused:
            corrections.link_contact(session, ref, key, user, NOW)
        assert (refused.value.field, refused.value.message) == (field, message)
    with transaction(sessions) as session:
        linked = corrections.link_contact(session, ref, "~dana lee", SlackPerson("U9", "Dana"), NOW)
        assert (linked.into.name, linked.entries, linked.home_changed) == ("Dana", 1, True)
        unnamed = corrections.link_contact(session, ref, "~sam ortiz", SlackPerson("U8", ""), NOW)
        assert unnamed.into.name == "U8"
    with transaction(sessions) as session:
        gone = corrections.delete_contact(session, ref, "U9", NOW)
        assert (gone.entries, gone.home_changed) == (1, True)
