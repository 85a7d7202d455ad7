"""Choosing informational-interview questions for a person, and the member's focus of inquiry.

``choose_questions`` picks questions from ``bot.questions.bank`` that fit a contact's level,
networks and bond, varied in kind, and never repeats one for the same person until every
question that fits them has been suggested. Each service below opens one unit of work.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

from slack_sdk import WebClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.ledger import directory
from bot.ledger.people import MemberRef, Person, SlackPerson
from bot.ledger.service import ContactInfo, open_member
from bot.platform.runtime import Runtime
from bot.questions.bank import ALL_BONDS, ALL_LEVELS, ALL_NETWORKS, BANK, BankQuestion
from storage.models import FOCUS_MAX, Bond, Level, QuestionAsked
from storage.repository import find_member

DEFAULT_COUNT = 3
MAX_COUNT = 10


class Question(NamedTuple):
    """A suggested question, worded for this member: its stable id and its final text."""

    id: str
    text: str
    kind: str


@dataclass(frozen=True)
class Suggestions:
    """What ``suggest`` chose and why, for the reply that shows it."""

    questions: list[Question]
    contact: ContactInfo | None  # the person they are for, when in the member's network
    scope: str  # the contact key, or "" for no person
    focus: str | None  # the topic or focus that shaped the wording
    focus_from_topic: bool
    fitting: int  # how many questions in the bank fit this person
    new_round: bool  # every fitting question had been suggested; the bank started over
    person: Person | None = None  # whom they were asked for, as named (a Slack user: mention)


def check_focus(text: str, *, field: str = "focus") -> str:
    """A focus or topic as stored: whitespace normalised, non-empty, within ``FOCUS_MAX``."""
    # Control characters (NUL among them, which PostgreSQL refuses) are never meant as text.
    text = "".join(c for c in text if c.isspace() or unicodedata.category(c) != "Cc")
    text = " ".join(text.split())
    if not text:
        raise InvalidInput(field, "Say what you'd like to learn about, e.g. `customer onboarding`.")
    if len(text) > FOCUS_MAX:
        raise InvalidInput(
            field,
            f"That's {len(text)} characters; keep a {field} under {FOCUS_MAX}, a few words "
            "like `customer onboarding`.",
        )
    return text


def _phrase(focus: str) -> str:
    # A focus read as a noun phrase inside a question: no trailing full stop or question mark.
    return focus.rstrip(" .!?;:,") or focus


def get_focus(session: Session, ref: MemberRef) -> str | None:
    """The member's focus of inquiry, or None when they have not set one."""
    member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
    return member.focus if member is not None else None


def set_focus(session: Session, ref: MemberRef, text: str, now: datetime) -> str:
    """Set the member's focus of inquiry (seed 002); returns it as stored."""
    focus = check_focus(text)
    data = open_member(session, ref, now)
    data.member.focus = focus
    session.flush()
    return focus


def clear_focus(session: Session, ref: MemberRef) -> str | None:
    """Forget the member's focus; returns the one that was set, if any."""
    member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
    if member is None or member.focus is None:
        return None
    previous, member.focus = member.focus, None
    session.flush()
    return previous


def fitting(level: str | None) -> list[BankQuestion]:
    """The questions that suit someone at ``level`` (every question when the level is unset)."""
    if level is None:
        return list(BANK)
    return [q for q in BANK if Level(level) in q.levels]


def fit_score(question: BankQuestion, contact: ContactInfo | None, focused: bool) -> int:
    """How well ``question`` fits the person: specific matches first, generic ones next."""
    score = 0
    level = contact.level if contact else None
    networks = contact.networks if contact else 0
    bond = contact.bond if contact else None
    if level is not None and question.levels != ALL_LEVELS:
        score += 2  # written for this level, not just allowed at it
    # The network says most about what to talk about, so it weighs most.
    if networks:
        if networks & question.networks:
            score += 3 if question.networks != ALL_NETWORKS else 1
    elif question.networks == ALL_NETWORKS:
        score += 1  # nothing known about the person: prefer questions for anyone
    if bond is not None and question.bonds != ALL_BONDS:
        score += 1 if Bond(bond) in question.bonds else -3
    if question.opener and (contact is None or contact.last_touch_at is None):
        score += 2  # nothing logged with them yet: start where seed 003 starts
    if focused and question.kind in ("inquiry", "snowball"):
        score += 1  # seed 002: with a focus, the conversation is about it
    return score


def _tiebreak(seed: str, question_id: str) -> int:
    digest = hashlib.sha256(f"{seed}|{question_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _choose(candidates: Iterable[tuple[int, int, BankQuestion]], n: int) -> list[BankQuestion]:
    """The best ``n`` by fit, at most one per kind while other kinds are left."""
    ranked = sorted(candidates, key=lambda c: (-c[0], c[1]))
    chosen: list[BankQuestion] = []
    kinds: set[str] = set()
    for _score, _tie, question in ranked:
        if len(chosen) == n:
            break
        if question.kind not in kinds:
            chosen.append(question)
            kinds.add(question.kind)
    for _score, _tie, question in ranked:
        if len(chosen) == n:
            break
        if question not in chosen:
            chosen.append(question)
    return chosen


def _asked(session: Session, member_id: int, scope: str) -> set[str]:
    return set(
        session.scalars(
            select(QuestionAsked.question_id).where(
                QuestionAsked.member_id == member_id, QuestionAsked.scope == scope
            )
        )
    )


def choose_questions(
    session: Session,
    ref: MemberRef,
    now: datetime,
    *,
    contact_key: str | None = None,
    topic: str | None = None,
    n: int = DEFAULT_COUNT,
) -> Suggestions:
    """Choose ``n`` questions for the person with ``contact_key`` (or nobody) and record them.

    Chosen by the person's level, networks and bond and worded around ``topic`` (instead of
    the member's focus); never repeats a question for the same person until every question
    that fits them has come up. A contact key outside the member's network still gets
    questions (for anyone) and its own no-repeat scope.
    """
    n = max(1, min(n, MAX_COUNT))
    topic = check_focus(topic, field="topic") if topic is not None and topic.strip() else None
    data = open_member(session, ref, now)
    scope = contact_key or ""
    found = data.contact_by_key(scope) if scope else None
    contact = ContactInfo.of(found) if found is not None else None
    focus = topic or data.member.focus
    pool = fitting(contact.level if contact else None)
    seed = f"{ref.enterprise_id}:{ref.team_id}:{ref.user_id}:{scope}"

    def ranked(questions: Sequence[BankQuestion]) -> list[tuple[int, int, BankQuestion]]:
        return [(fit_score(q, contact, bool(focus)), _tiebreak(seed, q.id), q) for q in questions]

    asked = _asked(session, data.member_id, scope)
    left = [q for q in pool if q.id not in asked]
    chosen = _choose(ranked(left), n)
    new_round = len(chosen) < n
    if new_round:
        # Everything that fits this person has been suggested: start a new round, without
        # repeating what this very answer already holds.
        session.execute(
            delete(QuestionAsked).where(
                QuestionAsked.member_id == data.member_id, QuestionAsked.scope == scope
            )
        )
        session.flush()
        rest = [q for q in pool if q not in chosen]
        chosen += _choose(ranked(rest), n - len(chosen))
    for question in chosen:
        session.add(
            QuestionAsked(
                member_id=data.member_id, scope=scope, question_id=question.id, asked_at=now
            )
        )
    session.flush()
    phrase = _phrase(focus) if focus else None
    return Suggestions(
        questions=[Question(q.id, q.text(phrase), q.kind) for q in chosen],
        contact=contact,
        scope=scope,
        focus=focus,
        focus_from_topic=topic is not None,
        fitting=len(pool),
        new_round=new_round,
    )


# -- the services behind /ally questions, its Three more button, and /ally focus ----------------


def questions_for(
    runtime: Runtime,
    client: WebClient,
    ref: MemberRef,
    now: datetime,
    person: Person | None,
    topic: str | None = None,
) -> Suggestions:
    """Three questions for ``person`` (a Slack user is checked in the directory first: real,
    active, human, not the member), a topic, or anyone, recorded as suggested."""
    if isinstance(person, SlackPerson) and person.user_id == ref.user_id:
        raise InvalidInput("who", "That's you! Name the person you're about to meet.")
    wanted: list[directory.Wanted] = []
    if isinstance(person, SlackPerson):
        wanted.append(directory.Named(person.user_id))
    elif person is not None:
        wanted.append(person)

    def choose(session: Session, people: list[Person]) -> Suggestions:
        one = people[0] if people else None
        key = one.key if one is not None else None
        found = choose_questions(session, ref, now, contact_key=key, topic=topic)
        return replace(found, person=one)

    return directory.with_people(runtime.unit_of_work, client, ref, wanted, now, choose)


@dataclass(frozen=True)
class Focus:
    """The member's focus of inquiry after ``/ally focus``, and the one it replaced."""

    focus: str | None
    previous: str | None = None
    home_changed: bool = False


def show_focus(runtime: Runtime, ref: MemberRef) -> Focus:
    with runtime.unit_of_work() as uow:
        return Focus(get_focus(uow.session, ref))


def change_focus(runtime: Runtime, ref: MemberRef, text: str, now: datetime) -> Focus:
    """Set the focus to ``text``; Home shows it."""
    with runtime.unit_of_work() as uow:
        focus = set_focus(uow.session, ref, text, now)
        uow.commit()
    return Focus(focus, home_changed=True)


def forget_focus(runtime: Runtime, ref: MemberRef) -> Focus:
    """Clear the focus (``previous``: the one cleared, None when none was set)."""
    with runtime.unit_of_work() as uow:
        previous = clear_focus(uow.session, ref)
        uow.commit()
    return Focus(None, previous, home_changed=previous is not None)
