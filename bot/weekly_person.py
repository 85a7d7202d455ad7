"""This week's person: one contact to invest in, with one concrete next step.

The rule (pure; the caller passes ``now`` and the facts):

1. Stay in touch (seed 000: keep in touch when you don't need anything): an overdue contact
   scores 3, a due one 2, one due soon 1, and someone never touched since they were added 1.
2. Reciprocity (seed 001: give before you ask): +1 for each favour the member owes them, up to 3.
3. Network gaps (seed 003: which part of the network needs development): +2 when the contact
   is one of fewer than two people at their level in one of their networks, so that thin part
   of the network depends on them.

Snoozed contacts are left out, and so is last week's person: never the same person two weeks
running, unless the member asked to keep them (the DM's "Keep <name> next week" button), in
which case they stay, snoozes aside. The highest score wins; ties go to the longest since the
last touch, then to the name. The next step follows from the biggest reason the person was
chosen.

The weekly DM and the Home tab both name this week's person with ``choose``; once this week's
DM has gone out, Home shows the person it named (``pick_for``), so the two never disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.network import (
    TARGET_PER_LEVEL,
    Placement,
    TouchState,
    level_label,
    network_label,
    networks_of,
    review,
    touch_state,
)
from storage.models import Level

TOUCH_POINTS = {
    TouchState.OVERDUE: 3,
    TouchState.DUE: 2,
    TouchState.DUE_SOON: 1,
    TouchState.NEW: 1,
}
OWED_POINTS_MAX = 3
GAP_POINTS = 2
LEVEL_VALUES = frozenset(level.value for level in Level)


@dataclass(frozen=True)
class ContactFacts:
    """What planning knows about one contact: placement, stay-in-touch clock and balance."""

    id: int
    key: str
    label: str
    networks: int = 0
    level: str | None = None
    bond: str | None = None
    cadence_days: int | None = None
    last_touch_at: datetime | None = None
    snoozed_until: date | None = None
    # Favours and intros given minus received: negative means the member owes them.
    balance: int = 0


class Reason(enum.StrEnum):
    OWED = "owed"
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


def _thin_part(contact: ContactFacts, counts: dict[tuple[int, str], int]) -> str | None:
    """The thin part of the network that this contact holds up, if any."""
    if contact.level not in LEVEL_VALUES:
        return None
    for network in networks_of(contact.networks):
        if counts.get((network.value, contact.level or ""), 0) < TARGET_PER_LEVEL:
            return f"{network_label(network)} network, {level_label(contact.level)}"
    return None


def _ranked(contacts: Sequence[ContactFacts], now: datetime) -> list[tuple[tuple, Pick]]:
    """Every contact who is not snoozed, scored, each with its sort key (best first)."""
    placements = [Placement(c.networks, c.level) for c in contacts]
    grid = review(placements).grid
    counts = {(row.network.value, level): n for row in grid for level, n in row.counts.items()}
    ranked: list[tuple[tuple, Pick]] = []
    for contact in contacts:
        touch = touch_state(
            contact.last_touch_at, contact.cadence_days, contact.bond, now, contact.snoozed_until
        )
        if touch.state == TouchState.SNOOZED:
            continue
        touch_points = TOUCH_POINTS.get(touch.state, 0)
        owed_points = min(OWED_POINTS_MAX, max(0, -contact.balance))
        thin = _thin_part(contact, counts)
        score = touch_points + owed_points + (GAP_POINTS if thin else 0)
        reason, why, step = _explain(
            contact, touch.state, touch.days_since, owed_points, touch_points, thin
        )
        days = touch.days_since if touch.days_since is not None else -1
        # Highest score, then longest since the last touch, then the name alphabetically.
        ranked.append(
            ((-score, -days, contact.label.casefold()), Pick(contact, score, reason, why, step))
        )
    return ranked


def choose(
    contacts: Sequence[ContactFacts],
    now: datetime,
    *,
    last_person_id: int | None = None,
    keep_last: bool = False,
) -> Pick | None:
    """This week's person by the rule in the module docstring, or None when nobody fits."""
    ranked = _ranked(contacts, now)
    if keep_last and last_person_id is not None:
        kept = [pick for _, pick in ranked if pick.contact.id == last_person_id]
        if kept:
            return kept[0]
    eligible = [item for item in ranked if item[1].contact.id != last_person_id]
    return min(eligible, key=lambda item: item[0])[1] if eligible else None


def pick_for(contacts: Sequence[ContactFacts], person_id: int, now: datetime) -> Pick | None:
    """``person_id`` as this week's person, scored and explained within the whole network.

    None when they have left the network or are snoozed since.
    """
    return next((pick for _, pick in _ranked(contacts, now) if pick.contact.id == person_id), None)


def this_weeks_person(
    contacts: Sequence[ContactFacts],
    now: datetime,
    *,
    this_week: int | None = None,
    last_week: int | None = None,
    keep_last: bool = False,
) -> Pick | None:
    """The person of this week's DM once it is sent (``this_week``), else the one it will name.

    ``last_week`` and ``keep_last`` are last week's DM's person and whether the member asked to
    keep them, exactly as the weekly DM's planning passes them to ``choose``.
    """
    if this_week is not None:
        named = pick_for(contacts, this_week, now)
        if named is not None:
            return named
    return choose(contacts, now, last_person_id=last_week, keep_last=keep_last)


def _explain(
    contact: ContactFacts,
    state: TouchState,
    days_since: int | None,
    owed_points: int,
    touch_points: int,
    thin: str | None,
) -> tuple[Reason, str, str]:
    name = contact.label
    if owed_points and owed_points >= touch_points:
        owed = -contact.balance
        favours = "favour" if owed == 1 else "favours"
        return (
            Reason.OWED,
            f"You owe {name} {owed} {favours}.",
            f"Ask {name} what they are working on this month and offer one concrete piece "
            "of help before you ask for anything.",
        )
    if state in (TouchState.OVERDUE, TouchState.DUE) and days_since is not None:
        return (
            Reason.OUT_OF_TOUCH,
            f"It has been {days_since} days since you last talked.",
            f"Send {name} a two-line note today and suggest a 20-minute catch-up this week.",
        )
    if state == TouchState.NEW:
        return (
            Reason.NEVER_MET,
            f"You added {name} but haven't logged a conversation yet.",
            f"Book 20 minutes with {name} for an informational interview: ask about their "
            "work, not for a favour.",
        )
    if thin:
        return (
            Reason.GAP,
            f"{name} is one of the few people in your {thin}.",
            f"Ask {name} who else you should get to know there, and offer to return the favour.",
        )
    return (
        Reason.KEEP_WARM,
        "Keeping a good relationship warm before you need it.",
        f"Share something useful with {name} this week: an article, an introduction or a "
        "thank-you.",
    )
