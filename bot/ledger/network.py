"""The network review as pure functions: stay-in-touch states, the 2-2-2 target, gaps.

Seed 001 sets the target of two connections above you, two at your level and two below (six
in all), and tells alliances (the people you deliver with) apart from connections (the people
who get your work noticed). Seed 003 asks three questions of the three networks (which is
strongest, which needs development, which is missing). Nothing here touches the database or
the clock: callers pass ``now``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from storage.models import Bond, Level, Member, Network

TARGET_PER_LEVEL = 2
LEVELS: tuple[Level, ...] = (Level.ABOVE, Level.PEER, Level.BELOW)
NETWORKS: tuple[Network, ...] = (Network.STRATEGIC, Network.OPERATIONAL, Network.DEVELOPMENTAL)

# Default stay-in-touch cadence, by the kind of relationship (seed 001). Alliances are the people
# you deliver with: "within the next 30 days get a meeting", then "meet regularly", so monthly.
# Connections open doors and get your work noticed; they are kept warm, not worked, so every two
# months. A contact not yet classified sits in between. Level is deliberately not an input: it
# decides *whom* to reach (the 2-2-2 target), not how often, and one rule everyone can predict
# beats a table nobody remembers. A member overrides the ideal per contact (``cadence_days``).
DEFAULT_CADENCE_DAYS: dict[Bond | None, int] = {Bond.ALLIANCE: 30, Bond.CONNECTION: 60, None: 45}
# The maximum period is the ideal plus a grace of half the ideal, and never less than a week:
# nudges are weekly, so every contact gets at least one weekly nudge while "due" before it turns
# "overdue".
GRACE_FACTOR = 0.5
MIN_GRACE_DAYS = 7
# "Due soon" is what falls due before next week's nudge: the last 7 days before the ideal date,
# or the second half of the period for cadences shorter than two weeks (so a weekly contact is
# not "due soon" the day after you met).
DUE_SOON_DAYS = 7


def network_label(network: Network) -> str:
    """``Network.STRATEGIC`` -> ``"strategic"``."""
    return (network.name or "").lower()


def networks_of(bits: int) -> list[Network]:
    """The networks set in a contact's ``networks`` bitmask, in the seed's order."""
    # Planning asks this for every contact of every member: a table lookup, not IntFlag maths.
    return list(_NETWORKS_BY_BITS[bits & _ALL_NETWORK_BITS])


_ALL_NETWORK_BITS = sum(n.value for n in NETWORKS)
_NETWORKS_BY_BITS = {
    bits: tuple(n for n in NETWORKS if bits & n.value) for bits in range(_ALL_NETWORK_BITS + 1)
}


def level_label(level: str | None) -> str:
    """How a level reads in a sentence: "above you", "at your level", "below you"."""
    return {"above": "above you", "peer": "at your level", "below": "below you"}.get(
        level or "", "level not set"
    )


class TouchState(enum.StrEnum):
    """Where a contact stands on the stay-in-touch clock."""

    NEW = "new"  # no day to count from (neither a touch nor the day they were added)
    OK = "ok"  # touched recently
    DUE_SOON = "due soon"  # the ideal date is within the next week
    DUE = "due"  # past the ideal date, within the maximum
    OVERDUE = "overdue"  # past the maximum
    SNOOZED = "snoozed"  # the member asked not to be reminded until a date


# A member's own default cadence (days) by bond value, set in Settings; empty: Ally's defaults.
DefaultCadences = Mapping[str | None, int]
ALLY_DEFAULTS: DefaultCadences = {}


def default_cadences(member: Member | None) -> DefaultCadences:
    """The defaults ``member`` chose in Settings, for the bonds they chose one for."""
    if member is None:
        return ALLY_DEFAULTS
    return chosen_cadences(member.alliance_cadence_days, member.connection_cadence_days)


def chosen_cadences(alliance_days: int | None, connection_days: int | None) -> DefaultCadences:
    """Default cadences from the two settings (either may be unset: Ally's for that bond)."""
    if not (alliance_days or connection_days):
        return ALLY_DEFAULTS
    chosen = {Bond.ALLIANCE.value: alliance_days, Bond.CONNECTION.value: connection_days}
    return {bond: days for bond, days in chosen.items() if days}


def cadence_days(
    cadence: int | None, bond: str | None, defaults: DefaultCadences = ALLY_DEFAULTS
) -> int:
    """The contact's ideal gap between touches, in days: theirs if set, else the member's
    default for the bond (``defaults``), else Ally's."""
    if cadence:
        return cadence
    if defaults and bond in defaults:
        return defaults[bond]
    if not bond:
        return _NO_BOND_DAYS
    # Planning asks this for every contact: a plain dict lookup before building a Bond.
    if bond in _CADENCE_BY_BOND:
        return _CADENCE_BY_BOND[bond]
    return DEFAULT_CADENCE_DAYS.get(Bond(bond), _NO_BOND_DAYS)


_CADENCE_BY_BOND = {b.value: d for b, d in DEFAULT_CADENCE_DAYS.items() if b is not None}
_NO_BOND_DAYS = DEFAULT_CADENCE_DAYS[None]


def max_days(ideal: int) -> int:
    """The maximum gap for an ideal gap: ideal + max(ideal / 2, 7 days), in whole days."""
    return ideal + max(MIN_GRACE_DAYS, round(ideal * GRACE_FACTOR))


def due_soon_days(ideal: int) -> int:
    """How many days before the ideal date a contact counts as "due soon"."""
    return min(DUE_SOON_DAYS, ideal // 2)


@dataclass(frozen=True)
class Touch:
    """A contact's stay-in-touch state at one moment.

    ``next_due`` is the ideal date, ``overdue_after`` the last day of the maximum period;
    ``days_to_due`` counts down to ``next_due`` (negative once past it) and ``days_overdue``
    counts the days past ``overdue_after``.
    """

    state: TouchState
    next_due: date | None
    days_since: int | None
    overdue_after: date | None = None
    days_to_due: int | None = None
    days_overdue: int = 0
    ideal_days: int | None = None  # the ideal gap it was read with (None: no day to count from)
    # Nothing logged with them yet: the clock counts from the day they were added, and
    # ``days_since`` is the days since then.
    never_met: bool = False


def touch_state(
    last_touch: datetime | None,
    cadence: int | None,
    bond: str | None,
    now: datetime,
    snoozed_until: date | None = None,
    defaults: DefaultCadences = ALLY_DEFAULTS,
    added: datetime | None = None,
) -> Touch:
    """Where a contact stands on the stay-in-touch clock at ``now``.

    Counted in calendar days from the day of the last touch (any logged interaction restarts
    the clock), or, with nothing logged yet, from the day the contact was ``added``: someone
    never met falls due like anyone else (``never_met``). With ideal =
    ``cadence_days(cadence, bond, defaults)`` and maximum = ``max_days(ideal)``:

    - OK until ``due_soon_days(ideal)`` days before the ideal date;
    - DUE SOON from then until the day before the ideal date;
    - DUE from the ideal date through the last day of the maximum period;
    - OVERDUE from the day after it (``days_overdue`` = 1 on that day).

    A snooze (``snoozed_until``, exclusive) hides every state until that date. With neither a
    touch nor the day the contact was added there is nothing to count from: NEW.
    """
    today = now.date()
    start = last_touch if last_touch is not None else added
    if start is None:
        return Touch(TouchState.NEW, None, None)
    ideal = cadence_days(cadence, bond, defaults)
    touched = start.date()
    days_since = max(0, (today - touched).days)
    next_due = touched + timedelta(days=ideal)
    overdue_after = touched + timedelta(days=max_days(ideal))
    days_to_due = (next_due - today).days
    days_overdue = max(0, (today - overdue_after).days)
    if snoozed_until is not None and today < snoozed_until:
        state = TouchState.SNOOZED
        next_due = max(next_due, snoozed_until)
    elif days_overdue > 0:
        state = TouchState.OVERDUE
    elif days_to_due <= 0:
        state = TouchState.DUE
    elif days_to_due <= due_soon_days(ideal):
        state = TouchState.DUE_SOON
    else:
        state = TouchState.OK
    return Touch(
        state,
        next_due,
        days_since,
        overdue_after,
        days_to_due,
        days_overdue,
        ideal,
        never_met=last_touch is None,
    )


def touch_brief(
    last_touch_day: int | None,
    cadence: int | None,
    bond: str | None,
    today: int,
    snoozed_until_day: int | None = None,
    defaults: DefaultCadences = ALLY_DEFAULTS,
    added_day: int | None = None,
) -> tuple[TouchState, int | None]:
    """``touch_state``'s state and ``days_since`` alone, with every day a day number (with
    nothing logged, ``days_since`` counts from ``added_day``, the day the contact was added).

    Day numbers are ``date.toordinal()`` (``day_number``): ``today`` is ``now.date()``'s, the
    last touch's is its UTC day's. Planning asks this for every contact of every member each
    week, so it subtracts ints instead of building dates and a ``Touch``. It follows the same
    rules as ``touch_state`` (a unit test holds the two together).
    """
    start = last_touch_day if last_touch_day is not None else added_day
    if start is None:
        return TouchState.NEW, None
    since = today - start
    if snoozed_until_day is not None and today < snoozed_until_day:
        return TouchState.SNOOZED, max(0, since)
    ideal = cadence_days(cadence, bond, defaults)
    limits = _LIMITS.get(ideal)
    if limits is None:
        limits = _LIMITS[ideal] = (max_days(ideal), ideal - due_soon_days(ideal))
    overdue_after, due_soon_from = limits
    if since > overdue_after:
        state = TouchState.OVERDUE
    elif since >= ideal:
        state = TouchState.DUE
    elif since >= due_soon_from:
        state = TouchState.DUE_SOON
    else:
        state = TouchState.OK
    return state, max(0, since)


def day_number(day: date | None) -> int | None:
    """A date's (or an instant's own calendar day's) number for ``touch_brief``."""
    return day.toordinal() if day is not None else None


# ideal -> (maximum gap, first "due soon" day) in days since the touch; a handful of cadences.
_LIMITS: dict[int, tuple[int, int]] = {}


def describe_touch(touch: Touch) -> str:
    """A short phrase for a state, e.g. "overdue by 12 days", "due soon (in 3 days)"."""
    if touch.state == TouchState.OVERDUE:
        return f"overdue by {_days(touch.days_overdue)}"
    if touch.state == TouchState.DUE:
        late = -(touch.days_to_due or 0)
        return "due today" if late == 0 else f"due ({_days(late)} past the ideal)"
    if touch.state == TouchState.DUE_SOON:
        return f"due soon (in {_days(touch.days_to_due or 0)})"
    if touch.state == TouchState.SNOOZED:
        return f"snoozed until {touch.next_due:%-d %b}" if touch.next_due else "snoozed"
    if touch.state == TouchState.NEW:
        return "nothing logged yet"
    return f"next due {touch.next_due:%-d %b}" if touch.next_due else "up to date"


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n:,} days"


class CellStatus(enum.StrEnum):
    HEALTHY = "healthy"
    THIN = "thin"
    MISSING = "missing"


def cell_status(count: int) -> CellStatus:
    """A level of the 2-2-2 target is healthy at two or more, thin at one, missing at none."""
    if count >= TARGET_PER_LEVEL:
        return CellStatus.HEALTHY
    return CellStatus.THIN if count else CellStatus.MISSING


class Standing(enum.StrEnum):
    """Seed 003's questions of a network: the strongest, the one that needs work, missing."""

    STRONGEST = "strongest"
    NEEDS_WORK = "needs work"
    MISSING = "missing"
    STEADY = "steady"


@dataclass(frozen=True)
class Placement:
    """What the review needs to know about one contact."""

    networks: int
    level: str | None
    bond: str | None = None


@dataclass(frozen=True)
class NetworkScore:
    """One of the three networks: its people counted by level (shown, never a target)."""

    network: Network
    counts: dict[str, int]  # level -> number of contacts
    total: int  # everyone in the network, with or without a level

    @property
    def levels(self) -> int:
        """How many of the three levels have someone: a tie-break for the strongest."""
        return sum(1 for n in self.counts.values() if n)


@dataclass(frozen=True)
class Gap:
    """Something the review is missing: a level of connections below two (``level``), or a
    network with nobody in it (``network``)."""

    level: Level | None = None
    network: Network | None = None
    count: int = 0

    @property
    def status(self) -> CellStatus:
        return cell_status(self.count)

    @property
    def wanted(self) -> int:
        return TARGET_PER_LEVEL - self.count if self.level is not None else 1

    def describe(self) -> str:
        if self.level is None:
            return f"no one in your {network_label(self.network or Network.STRATEGIC)} network"
        where = level_label(self.level.value)
        if self.count == 0:
            return f"no connection {where} (aim for {TARGET_PER_LEVEL})"
        return f"only {self.count} connection {where} (aim for {TARGET_PER_LEVEL})"


@dataclass(frozen=True)
class Review:
    """The network review.

    Seed 001's target: two connections above you, two at your level and two below (six in all);
    anyone not marked an alliance counts as a connection. Alliances (the people you deliver
    with) are counted apart. Seed 003's three questions are asked of the three networks: which
    is strongest, which needs work, which is missing; no network is asked for six people.
    """

    grid: list[NetworkScore]
    strongest: Network | None
    needs_work: Network | None
    gaps: list[str]
    unplaced: int  # contacts with no level (they cannot count toward 2-2-2) or no network
    missing: list[Gap] = field(default_factory=list)  # the biggest gap first
    connections: dict[str, int] = field(default_factory=dict)  # level -> connections
    alliances: int = 0

    def row(self, network: Network) -> NetworkScore:
        return next(row for row in self.grid if row.network == network)

    def standing(self, network: Network) -> Standing:
        if self.row(network).total == 0:
            return Standing.MISSING
        if network == self.strongest:
            return Standing.STRONGEST
        if network == self.needs_work:
            return Standing.NEEDS_WORK
        return Standing.STEADY

    def level_status(self, level: Level) -> CellStatus:
        return cell_status(self.connections.get(level.value, 0))

    @property
    def on_target(self) -> bool:
        """Two connections above, two at your level and two below."""
        return all(self.connections.get(level.value, 0) >= TARGET_PER_LEVEL for level in LEVELS)


def is_connection(bond: str | None) -> bool:
    """Everyone not marked an alliance counts toward the connections' 2-2-2."""
    return bond != Bond.ALLIANCE.value


def review(placements: Iterable[Placement]) -> Review:
    """Count connections per level and people per network; name the strongest, the network
    that needs work, and what is missing.

    - Connections (bond not ``alliance``, with a level) are counted per level against 2-2-2;
      alliances are counted apart.
    - Strongest: the network with the most people, then the most levels covered, then the
      seed's order (strategic, operational, developmental); None when nobody is in any network
      or all three are level.
    - Needs work: the network with the fewest people among those that have someone, then the
      fewest levels, then the seed's order; never the strongest. A network with nobody in it is
      missing, not needing work.
    - Missing, biggest first: levels with no connection, networks with nobody, levels with one.
    """
    counts = {n: {level.value: 0 for level in LEVELS} for n in NETWORKS}
    totals = dict.fromkeys(NETWORKS, 0)
    connections = {level.value: 0 for level in LEVELS}
    alliances = 0
    unplaced = 0
    for p in placements:
        placed = p.level in connections
        if not p.networks or not placed:
            unplaced += 1
        if not is_connection(p.bond):
            alliances += 1
        elif placed:
            connections[p.level or ""] += 1
        for network in networks_of(p.networks):
            totals[network] += 1
            if placed:
                counts[network][p.level or ""] += 1
    grid = [NetworkScore(n, counts[n], totals[n]) for n in NETWORKS]
    order = {n: i for i, n in enumerate(NETWORKS)}
    best = min(grid, key=lambda row: (-row.total, -row.levels, order[row.network]))
    level_field = all((r.total, r.levels) == (best.total, best.levels) for r in grid)
    strongest = None if best.total == 0 or level_field else best.network
    present = [row for row in grid if row.total and row.network != strongest]
    needs_work = None
    if present and strongest is not None:
        needs_work = min(
            present, key=lambda row: (row.total, row.levels, order[row.network])
        ).network
    missing = gap_list(connections, grid)
    return Review(
        grid,
        strongest,
        needs_work,
        [gap.describe() for gap in missing],
        unplaced,
        missing,
        connections,
        alliances,
    )


def gap_list(connections: dict[str, int], grid: Sequence[NetworkScore]) -> list[Gap]:
    """What is missing, biggest first: empty levels, empty networks, thin levels."""
    empty = [Gap(level=level) for level in LEVELS if connections[level.value] == 0]
    networks = [Gap(network=row.network) for row in grid if row.total == 0]
    thin = [
        Gap(level=level, count=connections[level.value])
        for level in LEVELS
        if 0 < connections[level.value] < TARGET_PER_LEVEL
    ]
    return empty + networks + thin


def gap_step(gap: Gap, insider: str | None, focus: str | None) -> str:
    """The next step for a gap: ask someone already in the network (seed 002's snowball)."""
    about = f" about {focus}" if focus else ""
    if gap.level is not None:
        where = level_label(gap.level.value)
        if insider is not None:
            return f"Ask {insider} who else you should get to know {where}{about}."
        return f"Think of one person {where} you could learn from{about}, and add them."
    network = network_label(gap.network) if gap.network else ""
    return (
        f"Think of one person for your {network} network you could learn from{about}, "
        "and add them with `/ally add`."
    )
