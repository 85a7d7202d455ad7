"""This week's person: one contact to invest in, with one concrete next step.

The rule (pure; the caller passes ``now`` and the facts):

1. Stay in touch (seed 000: keep in touch when you don't need anything): an overdue contact
   scores 3, a due one 2, one due soon 1. Someone never met is on the same clock, counted from
   the day they were added, and scores at least 1.
2. Reciprocity (seed 000: be an ally first): +1 for each favour received from them beyond
   those given, up to 3.
3. Gaps (seed 001: two connections above you, two at your level, two below): +2 when the
   contact is a connection at a level with fewer than two, so that thin level depends on them.

Snoozed contacts are left out, and so is last week's person: never the same person two weeks
running, unless the member asked to keep them (the DM's "Keep for next week" button), in
which case they stay, snoozes aside. The highest score wins; ties go to the longest since the
last touch, then to the name, then to the contact added first. The next step follows from the
biggest reason the person was chosen.

An unmet ally of an active project comes before all of that (seed 001: meet each within 30
days), the project closest to its 30 days first, snoozes aside only when snoozed.

The weekly DM and the Home tab both name this week's person with ``choose``; once this week's
DM has gone out, Home shows the person it named (``pick_for``), so the two never disagree.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from bot.ledger.network import (
    TARGET_PER_LEVEL,
    TouchState,
    is_connection,
    level_label,
    touch_brief,
)
from bot.ledger.people import label_of
from bot.ledger.projects import ProjectGoal
from bot.nudges.sentences import Sentence
from storage.models import Level

TOUCH_POINTS = {
    TouchState.OVERDUE: 3,
    TouchState.DUE: 2,
    TouchState.DUE_SOON: 1,
    TouchState.NEW: 1,
}
# Someone never met, not yet due by the clock counted from the day they were added.
NEVER_MET_POINTS = 1
RECEIVED_POINTS_MAX = 3
GAP_POINTS = 2
LEVEL_VALUES = frozenset(level.value for level in Level)


class ContactFacts(NamedTuple):
    """What planning knows about one contact: name, placement, stay-in-touch clock and balance.

    A named tuple rather than a dataclass, in the order the planner selects the columns: the
    weekly planning makes one per contact of every member straight from the database's rows.
    Days are day numbers (``date.toordinal()``), which the rule only subtracts and compares.
    So planning does not read contacts as ``bot.ledger.service.ContactInfo``, the one shape the
    views get: a frozen dataclass with datetimes, built per contact for tens of thousands of
    contacts, is the cost ``bench/nudge_plan.py`` measures the weekly run without. The label
    follows the views' rule (``bot.ledger.people.label_of``).
    """

    id: int
    member_id: int
    key: str
    name: str
    slack_user_id: str | None = None
    organisation: str | None = None
    networks: int = 0
    level: str | None = None
    bond: str | None = None
    # The contact's own cadence, else the member's default for the bond (None: Ally's).
    cadence_days: int | None = None
    # The (UTC) day of the last touch, and the first day after a snooze.
    last_touch_day: int | None = None
    snoozed_until_day: int | None = None
    # Favours and intros given minus received: negative when they have helped the member more.
    balance: int = 0
    # The (UTC) day the contact was added: with nothing logged, the clock counts from it.
    added_day: int | None = None

    @property
    def label(self) -> str:
        """How Ally names the contact (built when asked: most contacts are never named)."""
        return label_of(self.name, self.slack_user_id, self.organisation)


class Reason(enum.StrEnum):
    PROJECT = "project"
    GIVE_FIRST = "give first"
    OUT_OF_TOUCH = "out of touch"
    NEVER_MET = "never met"
    GAP = "gap"
    KEEP_WARM = "keep warm"


@dataclass(frozen=True)
class Pick:
    """This week's person, why, and what to do next."""

    contact: ContactFacts
    score: int
    reason: Reason
    why: str
    next_step: str


def _level_counts(contacts: Sequence[ContactFacts]) -> dict[str, int]:
    """Connections per level: the 2-2-2 target, counted without a Review."""
    placed = Counter([c.level for c in contacts if is_connection(c.bond)])
    return {level: placed.get(level, 0) for level in LEVEL_VALUES}


def _thin_part(bond: str | None, level: str | None, counts: dict[str, int]) -> str | None:
    """The thin level of connections a contact placed here holds up, if any."""
    if level not in LEVEL_VALUES or not is_connection(bond):
        return None
    if counts[level] < TARGET_PER_LEVEL:
        return level_label(level)
    return None


Touches = Sequence[tuple[TouchState, int | None]]


def _snoozed(contact: ContactFacts, state: TouchState, today: int) -> bool:
    """Whether the member snoozed ``contact``: a contact with no day to count from stays NEW
    (``touch_brief``) however it is snoozed, but is left out all the same."""
    if state is TouchState.SNOOZED:
        return True
    until = contact.snoozed_until_day
    return state is TouchState.NEW and until is not None and today < until


def touches(contacts: Sequence[ContactFacts], now: datetime) -> list[tuple[TouchState, int | None]]:
    """Each contact's stay-in-touch state and days since the last touch, in order."""
    today = now.date().toordinal()
    return [
        touch_brief(
            c.last_touch_day,
            c.cadence_days,
            c.bond,
            today,
            c.snoozed_until_day,
            added_day=c.added_day,
        )
        for c in contacts
    ]


class _Thin:
    """Each placement's thin part within one member's network, worked out once per placement."""

    def __init__(self, contacts: Sequence[ContactFacts]) -> None:
        self.counts = _level_counts(contacts)
        self.parts: dict[tuple[str | None, str | None], str | None] = {}
        # Gap points per placement, filled as placements are met.
        self.points: dict[tuple[str | None, str | None], int] = {}

    def part(self, place: tuple[str | None, str | None]) -> str | None:
        """The thin level a contact at ``place`` (bond, level) holds up."""
        if place not in self.parts:
            self.parts[place] = _thin_part(*place, self.counts)
        return self.parts[place]

    def of(self, contact: ContactFacts) -> str | None:
        return self.part((contact.bond, contact.level))

    def gap_points(self, place: tuple[str | None, str | None]) -> int:
        points = self.points[place] = GAP_POINTS if self.part(place) else 0
        return points


def _received_points(balance: int) -> int:
    """One point per favour received beyond those given, up to ``RECEIVED_POINTS_MAX``."""
    return 0 if balance >= 0 else min(RECEIVED_POINTS_MAX, -balance)


def _touch_points(state: TouchState, never_met: bool) -> int:
    points = TOUCH_POINTS.get(state, 0)
    if never_met and state is not TouchState.SNOOZED:
        return max(points, NEVER_MET_POINTS)
    return points


def _score(state: TouchState, balance: int, gap_points: int, never_met: bool) -> int:
    received = _received_points(balance) if balance < 0 else 0  # no call for most contacts
    return _touch_points(state, never_met) + received + gap_points


def _pick(contact: ContactFacts, state: TouchState, days_since: int | None, thin: _Thin) -> Pick:
    """``contact`` scored and explained: only the chosen one gets its sentences built."""
    part = thin.of(contact)
    never_met = contact.last_touch_day is None
    touch_points = _touch_points(state, never_met)
    received = _received_points(contact.balance)
    reason, why, step = _explain(contact, state, days_since, received, touch_points, part)
    score = _score(state, contact.balance, GAP_POINTS if part else 0, never_met)
    return Pick(contact, score, reason, why, step)


def _project_pick(contact: ContactFacts, state: TouchState, goal: ProjectGoal, thin: _Thin) -> Pick:
    name = contact.label
    if goal.days_left > 0:
        clock = f"{goal.days_left} day{'s' if goal.days_left != 1 else ''} left"
    else:
        clock = "the 30 days are up"
    return Pick(
        contact,
        _score(
            state,
            contact.balance,
            GAP_POINTS if thin.of(contact) else 0,
            contact.last_touch_day is None,
        ),
        Reason.PROJECT,
        f"One of your allies for “{goal.project}”, not met yet ({clock}).",
        _naming(
            contact,
            f"Book 30 minutes with {name} to talk through how their knowledge could support "
            f"“{goal.project}”, and offer something in return.",
        ),
    )


def _naming(contact: ContactFacts, text: str) -> Sentence:
    """``text``, which names ``contact`` before any text a member typed (so the first
    occurrence of their label is them)."""
    return Sentence(text, contact.label, contact.slack_user_id)


def _project_first(
    contacts: Sequence[ContactFacts],
    touched: Touches,
    goals: Sequence[ProjectGoal],
    thin: _Thin,
    today: int,
) -> Pick | None:
    """The unmet project ally closest to their 30 days, unless snoozed."""
    if not goals:
        return None
    at = {c.id: i for i, c in enumerate(contacts)}
    for goal in goals:
        i = at.get(goal.contact_id)
        if i is not None and not _snoozed(contacts[i], touched[i][0], today):
            return _project_pick(contacts[i], touched[i][0], goal, thin)
    return None


def choose(
    contacts: Sequence[ContactFacts],
    now: datetime,
    *,
    last_person_id: int | None = None,
    keep_last: bool = False,
    touched: Touches | None = None,
    goals: Sequence[ProjectGoal] = (),
) -> Pick | None:
    """This week's person by the rule in the module docstring, or None when nobody fits.

    ``touched`` is ``touches(contacts, now)`` when the caller has it already; ``goals`` are
    the member's unmet project allies, closest to their 30 days first.
    """
    if touched is None:
        touched = touches(contacts, now)
    thin = _Thin(contacts)
    today = now.date().toordinal()
    first = _project_first(contacts, touched, goals, thin, today)
    if first is not None:
        return first
    gaps = thin.points
    best: tuple[ContactFacts, TouchState, int | None] | None = None
    best_score, best_since = -1, -1
    best_name: tuple[str, int] | None = None
    for contact, (state, days_since) in zip(contacts, touched, strict=True):
        if _snoozed(contact, state, today):
            continue
        if contact.id == last_person_id:
            if keep_last:
                return _pick(contact, state, days_since, thin)
            continue
        place = (contact.bond, contact.level)
        gap = gaps.get(place)
        if gap is None:
            gap = thin.gap_points(place)
        # Highest score, then longest since the last touch (never touched counts as -1), then
        # the name alphabetically, then the oldest contact: the same pick whatever order the
        # contacts come in. Most contacts fall at the first comparison; names are only
        # compared (and casefolded) on a tie.
        score = _score(state, contact.balance, gap, contact.last_touch_day is None)
        if score < best_score:
            continue
        since = -1 if days_since is None else days_since
        if best is None or score > best_score or since > best_since:
            best, best_score, best_since, best_name = (
                (contact, state, days_since),
                score,
                since,
                None,
            )
        elif since == best_since:
            name = (contact.label.casefold(), contact.id)
            if best_name is None:
                best_name = (best[0].label.casefold(), best[0].id)
            if name < best_name:
                best, best_name = (contact, state, days_since), name
    return _pick(*best, thin) if best is not None else None


def pick_for(
    contacts: Sequence[ContactFacts],
    person_id: int,
    now: datetime,
    goals: Sequence[ProjectGoal] = (),
) -> Pick | None:
    """``person_id`` as this week's person, scored and explained within the whole network.

    None when they have left the network or are snoozed since.
    """
    person = next((c for c in contacts if c.id == person_id), None)
    if person is None:
        return None
    today = now.date().toordinal()
    state, days_since = touch_brief(
        person.last_touch_day,
        person.cadence_days,
        person.bond,
        today,
        person.snoozed_until_day,
        added_day=person.added_day,
    )
    if _snoozed(person, state, today):
        return None
    goal = next((g for g in goals if g.contact_id == person_id), None)
    if goal is not None:
        return _project_pick(person, state, goal, _Thin(contacts))
    return _pick(person, state, days_since, _Thin(contacts))


def this_weeks_person(
    contacts: Sequence[ContactFacts],
    now: datetime,
    *,
    this_week: int | None = None,
    last_week: int | None = None,
    keep_last: bool = False,
    goals: Sequence[ProjectGoal] = (),
) -> Pick | None:
    """The person of this week's DM once it is sent (``this_week``), else the one it will name.

    ``last_week`` and ``keep_last`` are last week's DM's person and whether the member asked to
    keep them, exactly as the weekly DM's planning passes them to ``choose``.
    """
    if this_week is not None:
        named = pick_for(contacts, this_week, now, goals)
        if named is not None:
            return named
    return choose(contacts, now, last_person_id=last_week, keep_last=keep_last, goals=goals)


def _explain(
    contact: ContactFacts,
    state: TouchState,
    days_since: int | None,
    received_points: int,
    touch_points: int,
    thin: str | None,
) -> tuple[Reason, str, str]:
    name = contact.label
    if received_points and received_points >= touch_points:
        more = -contact.balance
        times = "once" if more == 1 else f"{more} times"
        return (
            Reason.GIVE_FIRST,
            _naming(contact, f"{name} has helped you {times} more than you've helped them."),
            _naming(
                contact,
                f"Ask {name} what they are working on this month and offer one concrete piece "
                "of help before you ask for anything.",
            ),
        )
    if contact.last_touch_day is None:
        added = "today" if not days_since else f"{_days(days_since)} ago"
        return (
            Reason.NEVER_MET,
            _naming(contact, f"You added {name} {added} and haven't logged a conversation yet."),
            _naming(
                contact,
                f"Book 20 minutes with {name} for an informational interview: ask about their "
                "work, not for a favour.",
            ),
        )
    if state in (TouchState.OVERDUE, TouchState.DUE) and days_since is not None:
        return (
            Reason.OUT_OF_TOUCH,
            f"It has been {days_since} days since you last talked.",
            _naming(
                contact,
                f"Send {name} a two-line note today and suggest a 20-minute catch-up this week.",
            ),
        )
    if thin:
        return (
            Reason.GAP,
            _naming(contact, f"{name} is one of your few connections {thin}."),
            _naming(
                contact,
                f"Ask {name} who else you should get to know there, "
                "and offer to return the favour.",
            ),
        )
    return (
        Reason.KEEP_WARM,
        "Keeping a good relationship warm before you need it.",
        _naming(
            contact,
            f"Share something useful with {name} this week: an article, an introduction or a "
            "thank-you.",
        ),
    )


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n:,} days"
