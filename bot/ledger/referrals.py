"""Catch-ups and the snowball of seed 002: "who else should I talk to about <focus>?".

Each name a contact suggests is logged as an introduction received from them, so the person
joins the member's network as "met through" the one who suggested them, and the snowball shows
in ``/ally who`` and on Home.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.errors import AllyError, InvalidInput, NotFound
from bot.ledger.directory import Uows, Wanted, with_people
from bot.ledger.people import MemberRef, Person, person_of
from bot.ledger.service import (
    Entry,
    Recorded,
    check_what,
    open_member,
    record_entry,
    record_favour,
)
from bot.platform.uow import Units, committed
from bot.questions.service import get_focus
from storage.models import InteractionKind

MAX_REFERRALS = 5


def person_for_key(session: Session, ref: MemberRef, key: str, now: datetime) -> Person:
    """The person behind one of the member's contact keys (``U123`` or ``~dana lee``)."""
    contact = open_member(session, ref, now).contact_by_key(key)
    if contact is None:
        raise NotFound("I can't find that person in your network any more.")
    return person_of(contact)


def focus_of(session: Session, ref: MemberRef) -> str | None:
    """The member's focus of inquiry (``bot.questions.service`` owns it); creates no member."""
    return get_focus(session, ref)


def log_catch_up(
    session: Session, ref: MemberRef, person: Person, note: str, now: datetime
) -> Recorded:
    """A catch-up, coffee or informational interview with ``person``: restarts the clock."""
    return record_favour(session, ref, person, InteractionKind.CATCH_UP, note, now)


@dataclass(frozen=True)
class CaughtUp:
    """A catch-up as recorded, and the member's focus (to ask who else to talk to about it)."""

    recorded: Recorded
    focus: str | None


def log_met(
    uows: Uows, client: WebClient, ref: MemberRef, who: Wanted, note: str, now: datetime
) -> CaughtUp:
    """``/ally met``: a catch-up with whoever ``who`` names, in one unit of work."""
    checked = check_what(note, required=False)

    def work(session: Session, people: list[Person]) -> CaughtUp:
        recorded = log_catch_up(session, ref, people[0], checked, now)
        return CaughtUp(recorded, focus_of(session, ref))

    return with_people(uows, client, ref, [who], now, work)


def referral_note(focus: str | None) -> str:
    return f"suggested you talk to them about {focus}" if focus else "suggested you talk to them"


def record_referrals(
    session: Session,
    ref: MemberRef,
    introducer: Person,
    people: Sequence[Person],
    now: datetime,
    *,
    field: str = "people",
) -> list[Recorded]:
    """Log each of ``people`` as an introduction received from ``introducer``.

    Between one and ``MAX_REFERRALS`` distinct people; someone already in the network keeps
    the "met through" they had. Raises ``InvalidInput`` (``field``) before writing anything.
    """
    keys = [p.key for p in people]
    if not people:
        raise InvalidInput(field, "Add at least one name, or close this window.")
    if len(set(keys)) > MAX_REFERRALS:
        raise InvalidInput(field, f"Up to {MAX_REFERRALS} names at a time, please.")
    if introducer.key in keys:
        raise InvalidInput(field, f"{introducer.label} can't refer you to themselves.")
    if ref.user_id in keys:
        raise InvalidInput(field, "That's you! Pick the people they suggested.")
    note = check_what(referral_note(focus_of(session, ref)), required=False)
    unique = list({p.key: p for p in people}.values())
    entry = Entry(InteractionKind.INTRO_RECEIVED, note)
    return [record_entry(session, ref, entry, [introducer, p], now) for p in unique]


# -- services: each runs in one unit of work of its own ------------------------------------------


@dataclass(frozen=True)
class Asked:
    """Who a contact key names (their label) and the member's focus, for the referrals form."""

    key: str
    label: str
    focus: str | None


def label_of(units: Units, ref: MemberRef, key: str, now: datetime) -> str | None:
    """The label of the contact ``key`` names, or None when it is gone (or there is no key)."""

    def work(session: Session) -> str | None:
        try:
            return person_for_key(session, ref, key, now).label
        except AllyError:
            return None

    return committed(units, work) if key else None


def ask(units: Units, ref: MemberRef, key: str, now: datetime) -> Asked:
    """Who to ask "who else should I talk to?", and about which focus."""

    def work(session: Session) -> Asked:
        return Asked(key, person_for_key(session, ref, key, now).label, focus_of(session, ref))

    return committed(units, work)


def caught_up(
    units: Units,
    client: WebClient,
    ref: MemberRef,
    key: str,
    who: Wanted | None,
    note: str,
    now: datetime,
) -> CaughtUp:
    """The catch-up form: a catch-up with the contact ``key`` names, or else with ``who``."""

    def work(session: Session, people: list[Person]) -> CaughtUp:
        person = person_for_key(session, ref, key, now) if key else people[0]
        return CaughtUp(log_catch_up(session, ref, person, note, now), focus_of(session, ref))

    if key or who is None:
        return committed(units, lambda session: work(session, []))
    return with_people(units, client, ref, [who], now, work)


@dataclass(frozen=True)
class Referred:
    """The people logged as introduced by ``introducer``."""

    introducer: Person
    people: list[Person]
    home_changed: bool = True


def referred(
    units: Units,
    client: WebClient,
    ref: MemberRef,
    key: str,
    people: Sequence[Wanted],
    now: datetime,
) -> Referred:
    """The referrals form: each of ``people`` as introduced by the contact ``key`` names."""

    def work(session: Session, found: list[Person]) -> Referred:
        introducer = person_for_key(session, ref, key, now)
        record_referrals(session, ref, introducer, found, now, field="people")
        return Referred(introducer, found)

    return with_people(units, client, ref, people, now, work)
