"""Choosing questions and keeping the focus, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import InvalidInput
from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.ledger.service import ContactUpdate, update_contact
from bot.questions.bank import BY_ID
from bot.questions.service import Question, clear_focus, fitting, get_focus, set_focus
from bot.questions.service import choose_questions as plan
from storage.db import make_engine, make_session_factory, transaction
from storage.models import FOCUS_MAX, Bond, Level, Network, QuestionAsked
from tests.support.clock import START


def suggest(*args: Any, **kwargs: Any) -> list[Question]:
    return plan(*args, **kwargs).questions


ANA = MemberRef(team_id="T1", user_id="U1")
BOB = MemberRef(team_id="T1", user_id="U3")
ANA_ELSEWHERE = MemberRef(team_id="T2", user_id="U1")


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def place(
    sessions: sessionmaker[Session],
    ref: MemberRef,
    person: SlackPerson | OutsidePerson,
    level: Level | None,
    networks: int,
    bond: Bond | None,
) -> None:
    with transaction(sessions) as session:
        update_contact(
            session, ref, person, ContactUpdate(networks=networks, level=level, bond=bond), START
        )


def ask(sessions: sessionmaker[Session], ref: MemberRef, **kwargs: object) -> list[str]:
    with transaction(sessions) as session:
        return [q.id for q in suggest(session, ref, START, **kwargs)]  # type: ignore[arg-type]


def asked_rows(sessions: sessionmaker[Session], scope: str) -> list[tuple[int, str]]:
    with sessions() as session:
        return [
            (row.member_id, row.question_id)
            for row in session.scalars(select(QuestionAsked).where(QuestionAsked.scope == scope))
        ]


def test_every_combination_gets_three_distinct_fitting_varied_questions(
    sessions: sessionmaker[Session],
) -> None:
    levels: list[Level | None] = [*Level, None]
    bonds: list[Bond | None] = [*Bond, None]
    combos = [(lv, nets, bd) for lv in levels for nets in range(8) for bd in bonds]
    with transaction(sessions) as session:
        for i, (level, networks, bond) in enumerate(combos):
            person = OutsidePerson(f"Person {i}")
            update_contact(
                session,
                ANA,
                person,
                ContactUpdate(networks=networks, level=level, bond=bond),
                START,
            )
            questions = suggest(session, ANA, START, contact_key=person.key)
            ids = [q.id for q in questions]
            assert len(questions) == 3 and len(set(ids)) == 3, (level, networks, bond)
            assert len({q.kind for q in questions}) == 3, (level, networks, bond, ids)
            for question in questions:
                bank = BY_ID[question.id]
                assert question.text == bank.plain
                if level is not None:
                    assert level in bank.levels, (level, question.id)
            if networks:
                # ranked by fit: most of the three speak to the person's own networks
                in_network = [q for q in questions if BY_ID[q.id].networks & networks]
                assert len(in_network) >= 2, (level, networks, bond, ids)
            if bond is not None:
                for question in questions:
                    assert Bond(bond) in BY_ID[question.id].bonds, (bond, question.id)


def test_a_person_walks_the_whole_bank_without_repeats(sessions: sessionmaker[Session]) -> None:
    maria = SlackPerson("U2", "Maria Lopez")
    place(sessions, ANA, maria, Level.ABOVE, Network.STRATEGIC, Bond.CONNECTION)
    pool = {q.id for q in fitting("above")}
    size = len(pool)
    seen: list[str] = []
    rounds = []
    with transaction(sessions) as session:
        for _ in range(3 * size // 3 + 3):
            found = plan(session, ANA, START, contact_key="U2")
            rounds.append(found.new_round)
            seen += [q.id for q in found.questions]
            assert found.fitting == size
    # the first round is the whole bank that fits Maria, each question once
    assert len(set(seen[:size])) == size and set(seen[:size]) == pool
    assert not any(rounds[: size // 3])
    assert any(rounds), "once the bank is used up a new round starts"
    # after that, a question never comes back before nearly the whole bank has come round
    last_seen: dict[str, int] = {}
    for position, qid in enumerate(seen):
        if qid in last_seen:
            assert position - last_seen[qid] >= size - 2, (qid, last_seen[qid], position)
        last_seen[qid] = position


def test_each_person_and_no_person_keep_their_own_rounds(sessions: sessionmaker[Session]) -> None:
    first_for_maria = ask(sessions, ANA, contact_key="U2")
    first_for_bob = ask(sessions, ANA, contact_key="U3")
    first_for_anyone = ask(sessions, ANA)
    assert ask(sessions, ANA, contact_key="U2") != first_for_maria
    assert sorted(r[1] for r in asked_rows(sessions, "U3")) == sorted(first_for_bob)
    assert sorted(r[1] for r in asked_rows(sessions, "")) == sorted(first_for_anyone)
    assert len(asked_rows(sessions, "U2")) == 6


def test_the_focus_shapes_the_wording(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        assert get_focus(session, ANA) is None
        assert all(q.text == BY_ID[q.id].plain for q in suggest(session, ANA, START))
        assert set_focus(session, ANA, "  customer   onboarding ", START) == "customer onboarding"
    with transaction(sessions) as session:
        found = plan(session, ANA, START)
        assert found.focus == "customer onboarding" and not found.focus_from_topic
        for question in found.questions:
            assert "customer onboarding" in question.text
            assert question.text == BY_ID[question.id].text("customer onboarding")
        # with a focus, the focus-of-inquiry questions come first
        assert {BY_ID[q.id].kind for q in found.questions} & {"inquiry", "snowball"}
    with transaction(sessions) as session:
        assert clear_focus(session, ANA) == "customer onboarding"
        assert clear_focus(session, ANA) is None
        later = suggest(session, ANA, START)
        assert all(q.text == BY_ID[q.id].plain for q in later)


def test_a_topic_shapes_the_wording_over_the_focus(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        set_focus(session, ANA, "customer onboarding", START)
        found = plan(session, ANA, START, contact_key="U2", topic="  pricing  strategy. ")
        assert found.focus == "pricing strategy." and found.focus_from_topic
        for question in found.questions:
            assert "pricing strategy" in question.text
            assert "pricing strategy." not in question.text  # read as a phrase
            assert "customer onboarding" not in question.text
        with pytest.raises(InvalidInput) as error:
            suggest(session, ANA, START, topic="x" * (FOCUS_MAX + 1))
        assert error.value.field == "topic"
        # a blank topic is no topic: the focus words them
        assert all("customer onboarding" in q.text for q in suggest(session, ANA, START, topic=" "))


def test_set_focus_validates(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        for bad in ("", "   ", "x" * (FOCUS_MAX + 1)):
            with pytest.raises(InvalidInput):
                set_focus(session, ANA, bad, START)
        assert set_focus(session, ANA, "R&D\x00 budgets", START) == "R&D budgets"
        assert set_focus(session, ANA, "é" * FOCUS_MAX, START) == "é" * FOCUS_MAX
    with sessions() as session:
        assert get_focus(session, ANA) == "é" * FOCUS_MAX


def test_members_are_isolated(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        set_focus(session, ANA, "supply chain", START)
    place(sessions, ANA, SlackPerson("U2", "Maria"), Level.ABOVE, Network.STRATEGIC, None)
    size = len(fitting("above"))
    for _ in range(size // 3):
        ask(sessions, ANA, contact_key="U2")
    # Bob never placed Maria and has no focus: he gets her own fresh bank, plainly worded
    with transaction(sessions) as session:
        found = plan(session, BOB, START, contact_key="U2")
        assert found.contact is None and found.focus is None and not found.new_round
        assert found.fitting == len(fitting(None))
        assert all(q.text == BY_ID[q.id].plain for q in found.questions)
        assert get_focus(session, BOB) is None
        # the same user in another workspace is another member
        assert get_focus(session, ANA_ELSEWHERE) is None
        elsewhere = plan(session, ANA_ELSEWHERE, START, contact_key="U2")
        assert elsewhere.contact is None and not elsewhere.new_round
        assert clear_focus(session, ANA_ELSEWHERE) is None
    with sessions() as session:
        assert get_focus(session, ANA) == "supply chain"
    members = {member for member, _ in asked_rows(sessions, "U2")}
    assert len(members) == 3


def test_suggestions_are_deterministic_and_recorded_in_the_callers_transaction(
    sessions: sessionmaker[Session],
) -> None:
    place(sessions, ANA, SlackPerson("U2", "Maria"), Level.PEER, Network.OPERATIONAL, None)
    with sessions() as session:
        first = suggest(session, ANA, START, contact_key="U2")
        assert len(asked_rows_in(session, "U2")) == 3
        session.rollback()  # the caller's transaction decides: nothing was committed
    assert asked_rows(sessions, "U2") == []
    later = START + timedelta(days=3)
    with transaction(sessions) as session:
        again = suggest(session, ANA, later, contact_key="U2")
    assert again == first
    with sessions() as session:
        times = session.scalars(select(QuestionAsked.asked_at)).all()
        assert times and all(t == later for t in times)


def asked_rows_in(session: Session, scope: str) -> list[str]:
    return list(
        session.scalars(select(QuestionAsked.question_id).where(QuestionAsked.scope == scope))
    )


def test_someone_outside_the_network_still_gets_questions(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        found = plan(session, ANA, START, contact_key="~dana lee", n=5)
        assert found.contact is None and found.scope == "~dana lee"
        assert len(found.questions) == 5 and len({q.kind for q in found.questions}) == 5
        assert plan(session, ANA, START, n=0).questions  # at least one
        assert len(plan(session, ANA, START, n=99).questions) == 10  # at most ten


def test_when_is_passed_in(sessions: sessionmaker[Session]) -> None:
    moment = datetime(2027, 1, 4, 8, 30, tzinfo=START.tzinfo)
    with transaction(sessions) as session:
        suggest(session, ANA, moment)
    with sessions() as session:
        assert session.scalars(select(QuestionAsked.asked_at)).all() == [moment] * 3
