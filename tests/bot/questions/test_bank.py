"""The question bank as data: grounded in the seeds, covering every level, network and bond."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.errors import InvalidInput
from bot.ledger.service import ContactInfo
from bot.questions.bank import ALL_BONDS, BANK, BY_ID, KINDS, BankQuestion
from bot.questions.service import check_focus, fit_score, fitting
from storage.models import FOCUS_MAX, Bond, Level, Network


def contact(level: str | None = None, networks: int = 0, bond: str | None = None) -> ContactInfo:
    """Maria, a Slack user, placed as given; nothing else is known of her."""
    unknown = [
        "organisation",
        "cadence_days",
        "notes",
        "met_through",
        "last_touch_at",
        "snoozed_until",
    ]
    maria = {"id": 1, "key": "U2", "name": "Maria", "slack_user_id": "U2"}
    placed = {"networks": networks, "level": level, "bond": bond}
    return ContactInfo(**maria, **placed, **dict.fromkeys(unknown))


def test_the_bank_is_a_real_bank_with_stable_ids() -> None:
    assert 40 <= len(BANK) <= 60
    assert len(BY_ID) == len(BANK), "question ids must be unique"
    for question in BANK:
        assert isinstance(question, BankQuestion)
        assert 0 < len(question.id) <= 40  # questions_asked.question_id is String(40)
        assert question.kind in KINDS
        assert question.levels and question.networks and question.bonds
        assert "{focus}" in question.focused, question.id
        assert "{" not in question.plain, question.id
        assert question.plain.endswith(("?", ".")) and question.focused.endswith(("?", ".")), (
            question.id
        )


def test_the_seeds_own_questions_are_in_it() -> None:
    plain = {q.plain for q in BANK}
    # seed 003's three informational-interview questions, word for word
    assert "What projects are you working on right now that you are excited about?" in plain
    assert "How did you get started in this department?" in plain
    assert "How would you describe your professional journey?" in plain
    # seed 002's focus of inquiry and its snowball
    opener = BY_ID["experiences-with-focus"].text("X")
    assert opener.startswith("I'm working on a project about X and I'd really like to hear")
    assert "Who else" in BY_ID["who-else"].plain
    # every seed contributes
    assert {q.seed for q in BANK} == {"000", "001", "002", "003"}


@pytest.mark.parametrize("level", list(Level))
@pytest.mark.parametrize("network", list(Network))
def test_every_level_and_network_has_several_varied_questions(
    level: Level, network: Network
) -> None:
    suited = [q for q in fitting(level.value) if q.networks & network]
    assert len(suited) >= 10
    assert len({q.kind for q in suited}) >= 5


@pytest.mark.parametrize("level", list(Level))
def test_every_level_has_questions_written_for_it(level: Level) -> None:
    own = [q for q in BANK if level in q.levels and len(q.levels) < len(Level)]
    assert len(own) >= 8
    assert len(fitting(level.value)) >= 30


@pytest.mark.parametrize("bond", list(Bond))
def test_every_bond_has_questions_of_its_own(bond: Bond) -> None:
    own = [q for q in BANK if q.bonds == frozenset({bond})]
    assert len(own) >= 5


def test_every_kind_is_used() -> None:
    assert {q.kind for q in BANK} == set(KINDS)


def test_fit_prefers_questions_written_for_the_person() -> None:
    maria = contact("above", Network.STRATEGIC, "connection")
    # a strategic connection above you: "who makes the decisions" fits better than hand-offs
    assert fit_score(BY_ID["decision-makers"], maria, False) > fit_score(
        BY_ID["excited-projects"], maria, False
    )
    # a question for alliances is pushed down for a connection
    alliance_only = BY_ID["knowledge-support"]
    assert alliance_only.bonds != ALL_BONDS
    assert fit_score(alliance_only, maria, False) < fit_score(
        alliance_only, contact("above", Network.STRATEGIC, "alliance"), False
    )
    # seed 003's openers lead a first conversation, not the tenth
    opener = BY_ID["getting-started"]
    met = replace(maria, last_touch_at=datetime(2026, 11, 1, tzinfo=UTC))
    assert fit_score(opener, maria, False) > fit_score(opener, met, False)
    assert fit_score(opener, None, False) > fit_score(BY_ID["trends-watching"], None, False)
    # with a focus, the focus-of-inquiry questions rise
    inquiry = BY_ID["experiences-with-focus"]
    assert fit_score(inquiry, None, True) > fit_score(inquiry, None, False)


def test_level_filters_the_bank() -> None:
    for question in fitting("below"):
        assert Level.BELOW in question.levels
    assert "leaders-priorities" not in {q.id for q in fitting("below")}
    assert len(fitting(None)) == len(BANK)


def test_focus_wording_uses_the_focus_and_plain_does_not() -> None:
    for question in BANK:
        assert "pricing" in question.text("pricing")
        assert question.text(None) == question.plain


def test_check_focus_normalises_and_limits() -> None:
    assert check_focus("  customer \n onboarding\t") == "customer onboarding"
    assert check_focus("a\x00b") == "ab"
    assert check_focus("x" * FOCUS_MAX) == "x" * FOCUS_MAX
    for bad in ("", "   ", "\x00\n"):
        with pytest.raises(InvalidInput):
            check_focus(bad)
    with pytest.raises(InvalidInput) as error:
        check_focus("x" * (FOCUS_MAX + 1), field="topic")
    assert error.value.field == "topic"
    assert str(FOCUS_MAX) in error.value.message
