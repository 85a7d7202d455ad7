"""One person a week, with a plan (seed 001: "who, when, and what will you do?").

A plan names a contact, a day in the member's own calendar and what they will do. On that day
Ally sends a short reminder with questions to bring; from the day after, it asks "did you
meet?" (bot/nudges/plans.py sends both). **Yes** logs the catch-up and asks what they learned
(seed 002's reflection: what did you learn, what will you ask next, who else should you talk
to?); **Not yet** moves the plan a week; **Skip** drops it. A member has one open plan per
person: planning the same person again changes that plan. Merging two contacts keeps both of
their open plans (each with its reminder); planning that person again then changes the soonest.

The services at the end each open one unit of work and commit it; the functions taking a
session are the pieces they are made of.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import ids
from bot.errors import InvalidInput, NotFound
from bot.ledger.directory import Wanted, with_people
from bot.ledger.people import MemberRef, Person
from bot.ledger.referrals import focus_of, person_for_key, record_referrals
from bot.ledger.service import (
    check_what,
    contact_for,
    contact_label,
    open_member,
    record_favour,
)
from bot.nudges.planning import WEEKDAYS, zone
from bot.nudges.sentences import named
from bot.platform.runtime import Runtime
from bot.slack_text import clean_text
from storage.models import WHAT_MAX, InteractionKind, MeetingPlan, PlanStatus

# What a member can plan to do; anything else they type is kept as typed.
WHATS = (
    "catch-up",
    "coffee",
    "ask for advice",
    "offer help",
    "informational interview",
)
PLAN_AHEAD_DAYS = 90
MOVE_BY = timedelta(days=7)
LEARNED_MAX = 3000
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_IN_DAYS = re.compile(r"^in (?P<n>\d{1,2}) (?P<unit>days?|weeks?)$")


@dataclass(frozen=True)
class PlanView:
    id: int
    contact_key: str
    label: str
    day: date
    what: str
    status: str

    @property
    def when(self) -> str:
        return f"{self.day:%A} {self.day.day} {self.day:%B}"

    @property
    def doing(self) -> str:
        return self.what or "catch-up"

    @property
    def slack_user_id(self) -> str | None:
        """The Slack user the plan is with (None: someone outside Slack, keyed ``~name``)."""
        return None if self.contact_key.startswith("~") else self.contact_key

    @property
    def who(self) -> str:
        """Whom the plan is with, in mrkdwn (``named``)."""
        return named(self.label, self.slack_user_id)


def local_today(tz: str, now: datetime) -> date:
    return now.astimezone(zone(tz)).date()


def parse_day(text: str, today: date) -> tuple[date, int]:
    """A day from the start of ``words``: ``today``, ``tomorrow``, a weekday (its next
    occurrence, today included), ``in N days|weeks`` or ``YYYY-MM-DD``. Returns the day and
    how many words it used."""
    words = text.casefold().split()
    if not words:
        raise InvalidInput("when", "Say when: `tomorrow`, `thursday`, `in 3 days` or `2026-12-03`.")
    first = words[0].rstrip(".,")
    day: date | None = None
    used = 1
    if first == "today":
        day = today
    elif first == "tomorrow":
        day = today + timedelta(days=1)
    elif _ISO_DAY.match(first):
        try:
            day = date.fromisoformat(first)
        except ValueError:
            day = None
    elif first == "in" and len(words) >= 3 and (m := _IN_DAYS.match(" ".join(words[:3]))):
        n = int(m.group("n"))
        day = today + timedelta(days=n * (7 if m.group("unit").startswith("week") else 1))
        used = 3
    else:
        matches = [
            i
            for i, name in enumerate(WEEKDAYS)
            if len(first) >= 3 and name.casefold().startswith(first)
        ]
        if len(matches) == 1:
            day = today + timedelta(days=(matches[0] - today.weekday()) % 7)
    if day is None:
        shown = first[:20]
        raise InvalidInput(
            "when",
            f"I can't read `{shown}` as a day: try `tomorrow`, `thursday`, `in 3 days` or "
            "`2026-12-03`.",
        )
    return check_day(day, today), used


def check_day(day: date, today: date) -> date:
    if day < today:
        raise InvalidInput("when", "That day has passed: pick today or a day ahead.")
    if day > today + timedelta(days=PLAN_AHEAD_DAYS):
        raise InvalidInput("when", f"Plan within the next {PLAN_AHEAD_DAYS} days.")
    return day


def check_plan_what(what: str) -> str:
    return check_what(what, field="what", required=False)


def _view(plan: MeetingPlan) -> PlanView:
    return PlanView(
        plan.id, plan.contact.key, contact_label(plan.contact), plan.day, plan.what, plan.status
    )


def make_plan(
    session: Session, ref: MemberRef, person: Person, day: date, what: str, now: datetime
) -> tuple[PlanView, bool]:
    """Plan to meet ``person`` on ``day`` (the member's calendar) to do ``what``.

    Returns the plan and whether it replaced an open plan with the same person.
    """
    what = check_plan_what(what)
    data = open_member(session, ref, now)
    check_day(day, local_today(data.member.tz, now))
    contact, _ = contact_for(data, person, now)
    session.flush()
    plan = session.scalars(
        select(MeetingPlan)
        .where(
            MeetingPlan.member_id == data.member.id,
            MeetingPlan.contact_id == contact.id,
            MeetingPlan.status == PlanStatus.PLANNED.value,
        )
        .order_by(MeetingPlan.day, MeetingPlan.id)
    ).first()
    replaced = plan is not None
    if plan is None:
        plan = MeetingPlan(
            member_id=data.member.id,
            contact=contact,
            status=PlanStatus.PLANNED.value,
            created_at=now,
        )
        session.add(plan)
    plan.day = day
    plan.what = what
    plan.updated_at = now
    session.flush()
    return _view(plan), replaced


def plan_for_key(
    session: Session, ref: MemberRef, key: str, day: date, what: str, now: datetime
) -> tuple[PlanView, bool]:
    """``make_plan`` for one of the member's contacts, by key (the Plan it form)."""
    return make_plan(session, ref, person_for_key(session, ref, key, now), day, what, now)


def open_plans(session: Session, ref: MemberRef, now: datetime) -> list[PlanView]:
    """The member's plans still waiting to happen or to be answered, soonest first."""
    data = open_member(session, ref, now)
    plans = session.scalars(
        select(MeetingPlan)
        .where(
            MeetingPlan.member_id == data.member.id,
            MeetingPlan.status == PlanStatus.PLANNED.value,
        )
        .order_by(MeetingPlan.day, MeetingPlan.id)
    ).all()
    return [_view(p) for p in plans]


def _own_plan(session: Session, ref: MemberRef, plan_id: str, now: datetime) -> MeetingPlan:
    """One of the member's plans by id (as a button's value carries it)."""
    data = open_member(session, ref, now)
    plan = None
    if plan_id.isdecimal() and len(plan_id) < 18:
        plan = session.scalars(
            select(MeetingPlan).where(
                MeetingPlan.id == int(plan_id), MeetingPlan.member_id == data.member.id
            )
        ).one_or_none()
    if plan is None:
        raise NotFound("I can't find that plan any more.")
    return plan


def _still_open(plan: MeetingPlan) -> None:
    if plan.status != PlanStatus.PLANNED.value:
        said = {"met": "you met", "skipped": "you skipped it"}.get(plan.status, plan.status)
        raise InvalidInput("plan", f"You already answered this one ({said}).")


def met(session: Session, ref: MemberRef, plan_id: str, now: datetime) -> PlanView:
    """Yes: the meeting happened. Logs the catch-up (which restarts the stay-in-touch clock and
    counts for a project ally) and closes the plan."""
    plan = _own_plan(session, ref, plan_id, now)
    _still_open(plan)
    person = person_for_key(session, ref, plan.contact.key, now)
    record_favour(session, ref, person, InteractionKind.CATCH_UP, plan.what, now)
    plan.status = PlanStatus.MET.value
    plan.updated_at = now
    return _view(plan)


def not_yet(session: Session, ref: MemberRef, plan_id: str, now: datetime) -> PlanView:
    """Not yet: the plan moves a week on from its day (or from today, if later)."""
    plan = _own_plan(session, ref, plan_id, now)
    _still_open(plan)
    today = local_today(open_member(session, ref, now).member.tz, now)
    plan.day = max(plan.day, today) + MOVE_BY
    plan.updated_at = now
    return _view(plan)


def skip(session: Session, ref: MemberRef, plan_id: str, now: datetime) -> PlanView:
    """Skip: drop the plan."""
    plan = _own_plan(session, ref, plan_id, now)
    _still_open(plan)
    plan.status = PlanStatus.SKIPPED.value
    plan.updated_at = now
    return _view(plan)


@dataclass(frozen=True)
class Reflection:
    plan: PlanView
    referred: list[Person]


def reflect(
    session: Session,
    ref: MemberRef,
    plan_id: str,
    learned: str,
    next_question: str,
    referrals: list[Person],
    now: datetime,
) -> Reflection:
    """What the member learned from a plan they met: a note, optionally the question to ask
    next, and whom the person suggested they talk to (logged as introductions from them)."""
    plan = _own_plan(session, ref, plan_id, now)
    if plan.status != PlanStatus.MET.value:
        raise InvalidInput("learned", "Say yes to the meeting first.")
    learned = learned.strip()
    if not learned:
        raise InvalidInput("learned", "Write a line about what you learned.")
    if len(learned) > LEARNED_MAX:
        raise InvalidInput("learned", f"Keep it under {LEARNED_MAX} characters.")
    # Lines are kept (it is a note); other control characters are not (PostgreSQL refuses NUL).
    learned = "\n".join(clean_text(line) for line in learned.splitlines()).strip()
    question = check_what(next_question, field="next_question", required=False)
    if len(question) > WHAT_MAX:
        raise InvalidInput("next_question", f"Keep it under {WHAT_MAX} characters.")
    plan.learned = learned
    plan.next_question = question or None
    plan.updated_at = now
    if referrals:
        introducer = person_for_key(session, ref, plan.contact.key, now)
        record_referrals(session, ref, introducer, referrals, now, field=ids.REFERRED_PEOPLE)
    return Reflection(_view(plan), list(referrals))


# -- services: one unit of work each ------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """A plan made or moved (``replaced``: it changed an open plan with the same person)."""

    plan: PlanView
    replaced: bool
    home_changed: bool = True


def plans_of(runtime: Runtime, ref: MemberRef, now: datetime) -> list[PlanView]:
    """``/ally plan`` alone: the member's open plans, soonest first."""
    with runtime.unit_of_work() as uow:
        found = open_plans(uow.session, ref, now)
        uow.commit()
    return found


def plan_meeting(
    runtime: Runtime, client: WebClient, ref: MemberRef, who: Wanted, text: str, now: datetime
) -> Planned:
    """``/ally plan @person <day> [what]``: ``text`` is what follows the person, ``who`` is
    looked up in the directory (``users.info`` outside the unit of work on a miss)."""

    def plan_it(session: Session, people: list[Person]) -> Planned:
        tz = open_member(session, ref, now).member.tz
        day, used = parse_day(text, local_today(tz, now))
        what = " ".join(text.split()[used:])
        plan, replaced = make_plan(session, ref, people[0], day, what, now)
        return Planned(plan, replaced)

    return with_people(runtime.unit_of_work, client, ref, [who], now, plan_it)


@dataclass(frozen=True)
class PlanForm:
    """What the Plan it form opens with: whom (fixed) and today in the member's calendar."""

    person: Person
    today: date


def plan_form(runtime: Runtime, ref: MemberRef, key: str, now: datetime) -> PlanForm:
    """The Plan it form for the contact with ``key``; ``NotFound`` when they are gone."""
    with runtime.unit_of_work() as uow:
        person = person_for_key(uow.session, ref, key, now)
        tz = open_member(uow.session, ref, now).member.tz
        uow.commit()
    return PlanForm(person, local_today(tz, now))


def plan_with(
    runtime: Runtime, ref: MemberRef, key: str, day: date, what: str, now: datetime
) -> Planned:
    """The Plan it form saved: a plan with the contact with ``key``."""
    with runtime.unit_of_work() as uow:
        plan, replaced = plan_for_key(uow.session, ref, key, day, what, now)
        uow.commit()
    return Planned(plan, replaced)


class Answer(enum.StrEnum):
    """The answers to "did you meet?"."""

    MET = "met"
    NOT_YET = "not_yet"
    SKIP = "skip"


@dataclass(frozen=True)
class Answered:
    """A plan after its answer; ``focus`` is the member's (for "what did you learn?")."""

    plan: PlanView
    answer: Answer
    focus: str | None = None
    home_changed: bool = True


_ANSWERS: dict[Answer, Callable[[Session, MemberRef, str, datetime], PlanView]] = {
    Answer.MET: met,
    Answer.NOT_YET: not_yet,
    Answer.SKIP: skip,
}


def answer_plan(
    runtime: Runtime, ref: MemberRef, plan_id: str, answer: Answer, now: datetime
) -> Answered:
    """Yes, Not yet or Skip on a plan."""
    with runtime.unit_of_work() as uow:
        plan = _ANSWERS[answer](uow.session, ref, plan_id, now)
        focus = focus_of(uow.session, ref) if answer is Answer.MET else None
        uow.commit()
    # Only a meeting that happened changes Home (its catch-up); a plan is not on Home.
    return Answered(plan, answer, focus, home_changed=answer is Answer.MET)


@dataclass(frozen=True)
class Learned:
    """ "What did you learn?" saved: the reflection, and whether Home changed (someone joined)."""

    reflection: Reflection
    home_changed: bool = True


def save_learned(
    runtime: Runtime,
    client: WebClient,
    ref: MemberRef,
    plan_id: str,
    learned: str,
    next_question: str,
    referrals: Sequence[Wanted],
    now: datetime,
) -> Learned:
    """ "What did you learn?" saved, with the people suggested (``referrals``) looked up in the
    directory (``users.info`` outside the unit of work on a miss)."""

    def save(session: Session, people: list[Person]) -> Learned:
        done = reflect(session, ref, plan_id, learned, next_question, people, now)
        return Learned(done, home_changed=bool(people))

    return with_people(runtime.unit_of_work, client, ref, referrals, now, save)
