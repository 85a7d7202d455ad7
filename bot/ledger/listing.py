"""Listing a member's people: ``/ally people [filter]``, Home's People section and the names in
each network-by-level cell of the review.

A filter is a few words: a network (``strategic``, ``operational``, ``developmental``), a level
(``above``, ``peer``, ``below``), a bond (``alliance``, ``connection``), a stay-in-touch state
(``due``, ``overdue``, ``snoozed``), and any other words, each of which must appear in the
name, the organisation or the notes. Every contact is read in one query (plain rows) and
filtered here, so the same rules hold on SQLite and PostgreSQL, whatever the letters' case.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.ledger.network import (
    ALLY_DEFAULTS,
    LEVELS,
    NETWORKS,
    DefaultCadences,
    Touch,
    TouchState,
    cadence_days,
    day_number,
    default_cadences,
    level_label,
    network_label,
    networks_of,
    touch_brief,
    touch_state,
)
from bot.ledger.people import MemberRef
from bot.ledger.service import contact_label
from storage.models import Bond, Level, Network
from storage.repository import ContactRow, MemberData, find_member

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
# Most relevant first: who needs a message soonest, then people never contacted.
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
class Person:
    """One contact as a list shows it."""

    id: int
    key: str
    name: str
    label: str
    slack_user_id: str | None
    networks: int
    level: str | None
    bond: str | None
    ideal_days: int
    last_touch_at: datetime | None
    balance: int  # favours given minus received
    touch: Touch


@dataclass(frozen=True)
class PeoplePage:
    """One page of a member's people, with how many matched in all."""

    filter: PeopleFilter
    people: list[Person]
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


def person_of(row: ContactRow, now: datetime, defaults: DefaultCadences = ALLY_DEFAULTS) -> Person:
    return Person(
        id=row.id,
        key=row.key,
        name=row.name,
        label=contact_label(row),
        slack_user_id=row.slack_user_id,
        networks=row.networks,
        level=row.level,
        bond=row.bond,
        ideal_days=cadence_days(row.cadence_days, row.bond, defaults),
        last_touch_at=row.last_touch_at,
        balance=row.balance,
        touch=touch_state(
            row.last_touch_at, row.cadence_days, row.bond, now, row.snoozed_until, defaults
        ),
    )


def _mentions(row: ContactRow, notes: str | None, words: tuple[str, ...]) -> bool:
    haystack = " ".join(x for x in (row.name, row.organisation, notes) if x).casefold()
    return all(word in haystack for word in words)


def most_relevant(
    rows: Sequence[ContactRow],
    now: datetime,
    count: int,
    defaults: DefaultCadences = ALLY_DEFAULTS,
) -> list[Person]:
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
        )
        return RELEVANCE[state], -(since or 0), contact_label(row).casefold(), row.id

    return [person_of(row, now, defaults) for row in heapq.nsmallest(count, rows, key=key)]


@dataclass(frozen=True)
class _Candidate:
    """A contact that matched, with just what sorting needs (the page builds ``Person``)."""

    row: ContactRow
    label: str
    state: TouchState
    since: int


def people(
    session: Session,
    ref: MemberRef,
    now: datetime,
    wanted: PeopleFilter,
    *,
    page: int = 0,
    per_page: int = PAGE_SIZE,
    most_relevant_first: bool = False,
) -> PeoplePage:
    """One page of the member's contacts matching ``wanted``, by name (or most relevant first).

    Reads only; a member who never used Ally gets an empty page. A page past the end is the
    last page. Networks, level and bond are filtered by the database; the clock and the words
    here, with ``touch_brief`` (plain day numbers) for every contact and a whole ``Person`` for
    the page's contacts alone, so a network of thousands answers well inside Slack's 3 s.
    """
    member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
    if member is None:
        return PeoplePage(wanted, [], 0, 0, 0, per_page)
    data = MemberData(session, member)
    rows = data.placed_rows(
        networks=wanted.networks,
        level=wanted.level.value if wanted.level else None,
        bond=wanted.bond.value if wanted.bond else None,
        with_notes=bool(wanted.words),
    )
    everyone = len(rows) if wanted.empty else data.contact_count()
    today = now.date().toordinal()
    defaults = default_cadences(member)
    matched: list[_Candidate] = []
    for row, notes in rows:
        state, since = touch_brief(
            day_number(row.last_touch_at),
            row.cadence_days,
            row.bond,
            today,
            day_number(row.snoozed_until),
            defaults,
        )
        if wanted.states and state not in wanted.states:
            continue
        if wanted.words and not _mentions(row, notes, wanted.words):
            continue
        matched.append(_Candidate(row, contact_label(row), state, since or 0))
    if most_relevant_first:
        matched.sort(key=lambda c: (RELEVANCE[c.state], -c.since, c.label.casefold(), c.row.id))
    else:
        matched.sort(key=lambda c: (c.label.casefold(), c.row.id))
    last = max(0, -(-len(matched) // per_page) - 1)
    page = min(max(page, 0), last)
    shown = [
        person_of(c.row, now, defaults) for c in matched[page * per_page : (page + 1) * per_page]
    ]
    return PeoplePage(wanted, shown, page, len(matched), everyone, per_page)


@dataclass(frozen=True)
class Cell:
    """Who is in one network-by-level cell: the first few by name, and how many in all."""

    network: Network
    level: Level
    names: list[Person] = field(default_factory=list)
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
            people = [person_of(row, now) for _, _, row in first]
            result.append(Cell(network, level, people, len(members)))
    return result


def network_cells(session: Session, ref: MemberRef, now: datetime) -> list[Cell]:
    """``cells`` for the member's whole network (nothing for a member who never used Ally)."""
    member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
    if member is None:
        return cells([], now)
    return cells(MemberData(session, member).contact_rows(), now)
