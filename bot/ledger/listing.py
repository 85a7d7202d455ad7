"""Listing a member's people: ``/ally people [filter]``, Home's People section and the names in
each network-by-level cell of the review.

A filter is a few words: a network (``strategic``, ``operational``, ``developmental``), a level
(``above``, ``peer``, ``below``), a bond (``alliance``, ``connection``), a stay-in-touch state
(``due``, ``overdue``, ``snoozed``), and any other words, each of which must appear in the
name, the organisation or the notes, whatever the letters' case. The database filters, sorts,
counts and pages, so listing costs the same for a network of ten or of thousands.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.errors import InvalidInput
from bot.ledger.network import (
    ALLY_DEFAULTS,
    DEFAULT_CADENCE_DAYS,
    DUE_SOON_DAYS,
    LEVELS,
    MIN_GRACE_DAYS,
    NETWORKS,
    DefaultCadences,
    TouchState,
    chosen_cadences,
    day_number,
    level_label,
    network_label,
    networks_of,
    touch_brief,
)
from bot.ledger.people import MemberRef, Person, contact_label
from bot.ledger.service import ContactInfo, History, Standing, contact_card, history
from bot.nudges.settings import wake_contact
from bot.platform.uow import Units, committed
from storage.models import Bond, Contact, Level, Member, Network
from storage.repository import ContactRow, MemberData, find_member
from storage.types import DayNumber

FILTER_MAX = 200  # characters; the filter travels in a button's value (Slack: 2,000)
PAGE_SIZE = 20  # one section per person: well inside Slack's 50 blocks per message
CELL_NAMES = 3  # names shown per network-by-level cell before "and N more"

NETWORK_WORDS = {network_label(n): n for n in NETWORKS}
LEVEL_WORDS = {level.value: level for level in Level}
BOND_WORDS = {bond.value: bond for bond in Bond}
STATE_WORDS = {
    "due": TouchState.DUE,
    "overdue": TouchState.OVERDUE,
    "snoozed": TouchState.SNOOZED,
}
# Most relevant first: who needs a message soonest, then people never contacted (not yet due by
# the clock counted from the day they were added), then the rest.
RELEVANCE = {
    TouchState.OVERDUE: 0,
    TouchState.DUE: 1,
    TouchState.DUE_SOON: 2,
    TouchState.NEW: 3,
    TouchState.OK: 4,
    TouchState.SNOOZED: 5,
}


@dataclass(frozen=True)
class PeopleFilter:
    """Which of a member's contacts to list; every part given must match."""

    networks: int = 0  # bits every listed contact must have
    level: Level | None = None
    bond: Bond | None = None
    states: frozenset[TouchState] = frozenset()  # any of these (empty: any state)
    words: tuple[str, ...] = ()  # each in the name, organisation or notes (case-folded)

    @property
    def empty(self) -> bool:
        return self == PeopleFilter()

    def text(self) -> str:
        """The filter written back as words ``parse_filter`` reads (for a Next-page button)."""
        parts = [network_label(n) for n in networks_of(self.networks)]
        parts += [self.level.value] if self.level else []
        parts += [self.bond.value] if self.bond else []
        parts += [word for word, state in STATE_WORDS.items() if state in self.states]
        parts += list(self.words)
        return " ".join(parts)

    def describe(self) -> str:
        """The filter in words, for a heading: "strategic, above you, due, "acme"."""
        parts = [network_label(n) for n in networks_of(self.networks)]
        parts += [level_label(self.level.value)] if self.level else []
        parts += [self.bond.value] if self.bond else []
        parts += [word for word, state in STATE_WORDS.items() if state in self.states]
        parts += [f"“{word}”" for word in self.words]
        return ", ".join(parts)


def parse_filter(text: str, *, field: str = "filter") -> PeopleFilter:
    """Read ``/ally people``'s filter words; anything that is not an option is searched for."""
    text = " ".join(text.split())
    if len(text) > FILTER_MAX:
        raise InvalidInput(field, f"Keep the filter under {FILTER_MAX} characters.")
    networks = 0
    level: Level | None = None
    bond: Bond | None = None
    states: set[TouchState] = set()
    words: list[str] = []
    for word in text.replace(",", " ").casefold().split():
        if word in NETWORK_WORDS:
            networks |= NETWORK_WORDS[word]
        elif word in LEVEL_WORDS:
            if level is not None and level != LEVEL_WORDS[word]:
                raise InvalidInput(field, "Pick one level: above, peer or below.")
            level = LEVEL_WORDS[word]
        elif word in BOND_WORDS:
            if bond is not None and bond != BOND_WORDS[word]:
                raise InvalidInput(field, "Pick one bond: alliance or connection.")
            bond = BOND_WORDS[word]
        elif word in STATE_WORDS:
            states.add(STATE_WORDS[word])
        elif word not in words:
            words.append(word)
    return PeopleFilter(networks, level, bond, frozenset(states), tuple(words))


def cell_filter(network: Network, level: Level) -> PeopleFilter:
    """The filter that lists one cell of the network review."""
    return PeopleFilter(networks=int(network), level=level)


@dataclass(frozen=True)
class PeoplePage:
    """One page of a member's people, with how many matched in all."""

    filter: PeopleFilter
    people: list[Standing]
    page: int  # from 0
    total: int  # contacts matching the filter
    everyone: int  # contacts in the network
    per_page: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages


def standing_of(
    row: ContactRow, now: datetime, defaults: DefaultCadences = ALLY_DEFAULTS
) -> Standing:
    """A listed contact and their stay-in-touch clock, with the member's cadences ``defaults``."""
    return Standing.at(ContactInfo.of_row(row, defaults), now)


def most_relevant(
    rows: Sequence[ContactRow],
    now: datetime,
    count: int,
    defaults: DefaultCadences = ALLY_DEFAULTS,
) -> list[Standing]:
    """The ``count`` most relevant contacts: overdue (longest first), due, due soon, never
    contacted, up to date, snoozed; then by name (``defaults``: the member's cadences)."""
    today = now.date().toordinal()

    def key(row: ContactRow) -> tuple[int, int, str, int]:
        state, since = touch_brief(
            day_number(row.last_touch_at),
            row.cadence_days,
            row.bond,
            today,
            day_number(row.snoozed_until),
            defaults,
            day_number(row.created_at),
        )
        if state is TouchState.OK and row.last_touch_at is None:
            state = TouchState.NEW
        return RELEVANCE[state], -(since or 0), contact_label(row).casefold(), row.id

    return [standing_of(row, now, defaults) for row in heapq.nsmallest(count, rows, key=key)]


def _ideal_days(defaults: DefaultCadences) -> ColumnElement[int]:
    """``cadence_days(contact.cadence_days, contact.bond, defaults)`` in SQL."""
    by_bond = case(
        *(
            (Contact.bond == bond.value, defaults.get(bond.value, days))
            for bond, days in DEFAULT_CADENCE_DAYS.items()
            if bond
        ),
        else_=DEFAULT_CADENCE_DAYS[None],
    )
    return case((Contact.cadence_days > 0, Contact.cadence_days), else_=by_bond)


def _state_is(
    states: frozenset[TouchState], today: date, defaults: DefaultCadences = ALLY_DEFAULTS
) -> ColumnElement[bool]:
    """Contacts in any of ``states`` on ``today``, by ``touch_brief``'s rules, in SQL
    (``defaults``: the member's own cadences by bond).

    Integer arithmetic on day numbers: ``max_days`` rounds half an odd ideal to even, as
    Python's ``round`` does, and ``due_soon_days`` is at most a week (tests/unit hold these
    to ``touch_brief`` for every cadence a member can set).
    """
    ideal = _ideal_days(defaults)
    half = ideal // 2
    grace = half + (ideal % 2) * (half % 2)
    overdue_after = ideal + case((grace < MIN_GRACE_DAYS, MIN_GRACE_DAYS), else_=grace)
    due_soon_from = ideal - case((half > DUE_SOON_DAYS, DUE_SOON_DAYS), else_=half)
    # Until a touch, the clock counts from the day the contact was added.
    start = func.coalesce(Contact.last_touch_at, Contact.created_at)
    since = today.toordinal() - DayNumber(start)
    touched = start.is_not(None)
    snoozed = Contact.snoozed_until.is_not(None) & (Contact.snoozed_until > today)
    awake = touched & ~snoozed
    clauses = {
        TouchState.NEW: start.is_(None),
        TouchState.SNOOZED: touched & snoozed,
        TouchState.OVERDUE: awake & (since > overdue_after),
        TouchState.DUE: awake & (since >= ideal) & (since <= overdue_after),
        TouchState.DUE_SOON: awake & (since >= due_soon_from) & (since < ideal),
        TouchState.OK: awake & (since < due_soon_from),
    }
    return or_(*(clauses[state] for state in states))


def _mentions_all(words: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """Each word in the name, the organisation or the notes, whatever the letters' case.

    Words are compared with SQL ``lower``, which both databases apply to ASCII letters alike;
    a word with other letters is matched in Python (``_mentions``) instead.
    """
    return [
        or_(*(func.lower(column).contains(word, autoescape=True) for column in _TEXT))
        for word in words
        if word.isascii()
    ]


def _mentions(name: str, organisation: str | None, notes: str | None, words: list[str]) -> bool:
    haystack = " ".join(x for x in (name, organisation, notes) if x).casefold()
    return all(word in haystack for word in words)


_TEXT = (Contact.name, Contact.organisation, Contact.notes)
_ROW = tuple(getattr(Contact, column) for column in ContactRow._fields)


def _by_label(session: Session) -> tuple[ColumnElement[Any], ColumnElement[int]]:
    """Contacts by their label (``contact_label``), letters' case aside, then by id; in code
    point order on both databases."""
    label = case(
        (
            Contact.slack_user_id.is_not(None),
            func.coalesce(func.nullif(Contact.name, ""), Contact.slack_user_id),
        ),
        (Contact.organisation.is_not(None), Contact.name + " (" + Contact.organisation + ")"),
        else_=Contact.name,
    )
    key: ColumnElement[Any] = func.lower(label)
    if session.get_bind().dialect.name == "postgresql":
        key = key.collate("C")
    return key, Contact.id.expression


def people(
    session: Session,
    ref: MemberRef,
    now: datetime,
    wanted: PeopleFilter,
    *,
    page: int = 0,
    per_page: int = PAGE_SIZE,
) -> PeoplePage:
    """One page of the member's contacts matching ``wanted``, by name.

    Reads only; a member who never used Ally gets an empty page. A page past the end is the
    last page. The database filters, counts and pages (the member's id, the counts, the page),
    so the work done here is a page's, however many people match.
    """
    member = session.execute(
        select(Member.id, Member.alliance_cadence_days, Member.connection_cadence_days).where(
            Member.user_is(ref.enterprise_id, ref.team_id, ref.user_id)
        )
    ).one_or_none()
    if member is None:
        return PeoplePage(wanted, [], 0, 0, 0, per_page)
    member_id, defaults = member.id, chosen_cadences(*member[1:])
    where: list[ColumnElement[bool]] = [Contact.member_id == member_id]
    if wanted.networks:
        where.append(Contact.networks.op("&")(wanted.networks) == wanted.networks)
    if wanted.level is not None:
        where.append(Contact.level == wanted.level.value)
    if wanted.bond is not None:
        where.append(Contact.bond == wanted.bond.value)
    if wanted.states:
        where.append(_state_is(wanted.states, now.date(), defaults))
    where += _mentions_all(wanted.words)
    other_letters = [word for word in wanted.words if not word.isascii()]
    if other_letters:
        found = session.execute(select(Contact.id, *_TEXT).where(*where)).all()
        where.append(
            Contact.id.in_([row[0] for row in found if _mentions(*row[1:], other_letters)])
        )
    everyone = select(func.count()).select_from(Contact).where(Contact.member_id == member_id)
    counted = select(func.count(), everyone.scalar_subquery()).select_from(Contact).where(*where)
    total, count = session.execute(counted).one()
    page = min(max(page, 0), max(0, -(-total // per_page) - 1))
    rows = session.execute(
        select(*_ROW)
        .where(*where)
        .order_by(*_by_label(session))
        .limit(per_page)
        .offset(page * per_page)
    ).all()
    shown = [standing_of(ContactRow(*row), now, defaults) for row in rows]
    return PeoplePage(wanted, shown, page, int(total), int(count), per_page)


@dataclass(frozen=True)
class Cell:
    """Who is in one network-by-level cell: the first few by name, and how many in all."""

    network: Network
    level: Level
    names: list[Standing] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.names)


def cells(rows: Sequence[ContactRow], now: datetime, shown: int = CELL_NAMES) -> list[Cell]:
    """Every network-by-level cell, in the review's order, naming the first ``shown`` people
    by name (a contact in two networks is in both rows)."""
    found: dict[tuple[Network, str], list[tuple[str, int, ContactRow]]] = {
        (n, level.value): [] for n in NETWORKS for level in LEVELS
    }
    for row in rows:
        if row.level not in LEVEL_WORDS:
            continue
        named = (contact_label(row).casefold(), row.id, row)
        for network in networks_of(row.networks):
            found[(network, row.level)].append(named)
    result = []
    for network in NETWORKS:
        for level in LEVELS:
            members = found[(network, level.value)]
            first = heapq.nsmallest(shown, members, key=lambda named: named[:2])
            people = [standing_of(row, now) for _, _, row in first]
            result.append(Cell(network, level, people, len(members)))
    return result


def network_cells(session: Session, ref: MemberRef, now: datetime) -> list[Cell]:
    """``cells`` for the member's whole network (nothing for a member who never used Ally)."""
    member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
    if member is None:
        return cells([], now)
    return cells(MemberData(session, member).contact_rows(), now)


# -- services: each runs in one unit of work of its own ------------------------------------------


def people_page(
    units: Units, ref: MemberRef, wanted: PeopleFilter, page: int, now: datetime
) -> PeoplePage:
    """``people`` in a unit of work of its own (reads only)."""
    return committed(units, lambda session: people(session, ref, now, wanted, page=page))


def person_history(units: Units, ref: MemberRef, key: str, now: datetime, limit: int) -> History:
    """The member's history with the contact ``key`` (a person's History button)."""

    def work(session: Session) -> History:
        return history(session, ref, contact_card(session, ref, key, now).person, now, limit=limit)

    return committed(units, work)


class Woken(NamedTuple):
    """A contact whose snooze ended (reminders about them are back), and Home changed."""

    person: Person
    home_changed: bool = True


def wake(units: Units, ref: MemberRef, key: str, now: datetime) -> Woken:
    def work(session: Session) -> Woken:
        return Woken(wake_contact(session, ref, key, now))

    return committed(units, work)
