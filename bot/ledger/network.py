"""The network review as pure functions: stay-in-touch states, the 2-2-2 grid, gaps.

Seed 003 asks three questions of a network (which part is strongest, which needs development,
which key relationships are missing); seed 001 sets the target of two people above, two at your
level and two below. Nothing here touches the database or the clock: callers pass ``now``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from storage.models import Bond, Level, Network

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


def network_bits(bits: int) -> tuple[tuple[int, str], ...]:
    """``(value, label)`` of each network set in ``bits``, in the seed's order.

    For per-contact loops: plain ints and strings, no enum member's ``value`` or ``name``
    properties (each a Python-level call) on the way.
    """
    return _NETWORK_BITS[bits & _ALL_NETWORK_BITS]


_NETWORK_BITS = {
    bits: tuple((n.value, network_label(n)) for n in networks)
    for bits, networks in _NETWORKS_BY_BITS.items()
}


def level_label(level: str | None) -> str:
    """How a level reads in a sentence: "above you", "at your level", "below you"."""
    return {"above": "above you", "peer": "at your level", "below": "below you"}.get(
        level or "", "level not set"
    )


class TouchState(enum.StrEnum):
    """Where a contact stands on the stay-in-touch clock."""

    NEW = "new"  # nothing logged with them yet: the clock has not started
    OK = "ok"  # touched recently
    DUE_SOON = "due soon"  # the ideal date is within the next week
    DUE = "due"  # past the ideal date, within the maximum
    OVERDUE = "overdue"  # past the maximum
    SNOOZED = "snoozed"  # the member asked not to be reminded until a date


def cadence_days(cadence: int | None, bond: str | None) -> int:
    """The contact's ideal gap between touches, in days: theirs if set, else the default."""
    if cadence:
        return cadence
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


def touch_state(
    last_touch: datetime | None,
    cadence: int | None,
    bond: str | None,
    now: datetime,
    snoozed_until: date | None = None,
) -> Touch:
    """Where a contact stands on the stay-in-touch clock at ``now``.

    Counted in calendar days from the day of the last touch (any logged interaction restarts
    the clock), with ideal = ``cadence_days(cadence, bond)`` and maximum = ``max_days(ideal)``:

    - OK until ``due_soon_days(ideal)`` days before the ideal date;
    - DUE SOON from then until the day before the ideal date;
    - DUE from the ideal date through the last day of the maximum period;
    - OVERDUE from the day after it (``days_overdue`` = 1 on that day).

    A snooze (``snoozed_until``, exclusive) hides every state until that date. A contact with
    no interaction yet is NEW: nothing to be late for.
    """
    today = now.date()
    if last_touch is None:
        return Touch(TouchState.NEW, None, None)
    ideal = cadence_days(cadence, bond)
    touched = last_touch.date()
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
    return Touch(state, next_due, days_since, overdue_after, days_to_due, days_overdue)


def touch_brief(
    last_touch_day: int | None,
    cadence: int | None,
    bond: str | None,
    today: int,
    snoozed_until_day: int | None = None,
) -> tuple[TouchState, int | None]:
    """``touch_state``'s state and ``days_since`` alone, with every day a day number.

    Day numbers are ``date.toordinal()`` (``day_number``): ``today`` is ``now.date()``'s, the
    last touch's is its UTC day's. Planning asks this for every contact of every member each
    week, so it subtracts ints instead of building dates and a ``Touch``. It follows the same
    rules as ``touch_state`` (a unit test holds the two together).
    """
    if last_touch_day is None:
        return TouchState.NEW, None
    since = today - last_touch_day
    if snoozed_until_day is not None and today < snoozed_until_day:
        return TouchState.SNOOZED, max(0, since)
    ideal = cadence_days(cadence, bond)
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
    """A cell of the grid is healthy at the 2-2-2 target (2 or more), thin at 1, missing at 0."""
    if count >= TARGET_PER_LEVEL:
        return CellStatus.HEALTHY
    return CellStatus.THIN if count else CellStatus.MISSING


@dataclass(frozen=True)
class Placement:
    """What the review needs to know about one contact."""

    networks: int
    level: str | None


FULL_SCORE = TARGET_PER_LEVEL * len(LEVELS)


@dataclass(frozen=True)
class NetworkScore:
    """One row of the grid: a network's contacts counted by level."""

    network: Network
    counts: dict[str, int]  # level -> number of contacts
    total: int  # everyone in the network, with or without a level

    @property
    def score(self) -> int:
        """How close the network is to the 2-2-2 target (0 to 6); extra people do not count."""
        return sum(min(self.counts[level], TARGET_PER_LEVEL) for level in self.counts)

    @property
    def status(self) -> CellStatus:
        """Healthy when every level meets the target, missing when nobody is in it, else thin."""
        if self.score == FULL_SCORE:
            return CellStatus.HEALTHY
        return CellStatus.MISSING if self.total == 0 else CellStatus.THIN

    def cell(self, level: Level) -> CellStatus:
        return cell_status(self.counts[level.value])


@dataclass(frozen=True)
class Gap:
    """A cell below the 2-2-2 target: who is missing, and how many are there now."""

    network: Network
    level: Level
    count: int

    @property
    def status(self) -> CellStatus:
        return cell_status(self.count)

    @property
    def wanted(self) -> int:
        return TARGET_PER_LEVEL - self.count

    def describe(self) -> str:
        where = f"{level_label(self.level.value)} in your {network_label(self.network)} network"
        if self.count == 0:
            return f"no one {where}"
        return f"only {self.count} {where} (aim for {TARGET_PER_LEVEL})"


@dataclass(frozen=True)
class Review:
    """Seed 003's three questions answered: strongest, needs work, missing relationships."""

    grid: list[NetworkScore]
    strongest: Network | None
    needs_work: Network | None
    gaps: list[str]
    unplaced: int  # contacts with no network or no level
    missing: list[Gap] = field(default_factory=list)  # the cells below target, worst first

    def cell(self, network: Network, level: Level) -> int:
        for row in self.grid:
            if row.network == network:
                return row.counts[level.value]
        return 0

    def row(self, network: Network) -> NetworkScore:
        return next(row for row in self.grid if row.network == network)

    @property
    def on_target(self) -> bool:
        """Two above, two at your level and two below in each of the three networks."""
        return all(row.score == FULL_SCORE for row in self.grid)


def review(placements: Iterable[Placement]) -> Review:
    """Count contacts per network and level, and name the strongest, weakest and missing parts.

    - A network's score is its progress toward 2-2-2 (0-6); more than two per level adds nothing,
      so ten peers do not hide an empty "above".
    - Strongest: the highest score, then the most people, then the seed's order (strategic,
      operational, developmental). None when the member has nobody in any network, or when all
      three are level (nothing stands out).
    - Needs work: the lowest score, then the fewest people, then the seed's order; None when it
      is on target. Never the same network as the strongest.
    - Missing: every cell below target, empty cells before thin ones, in the seed's order.
    """
    counts = {n: {level.value: 0 for level in LEVELS} for n in NETWORKS}
    totals = dict.fromkeys(NETWORKS, 0)
    unplaced = 0
    for p in placements:
        if not p.networks or p.level not in counts[Network.STRATEGIC]:
            unplaced += 1
        for network in networks_of(p.networks):
            totals[network] += 1
            if p.level in counts[network]:
                counts[network][p.level] += 1
    grid = [NetworkScore(n, counts[n], totals[n]) for n in NETWORKS]
    order = {n: i for i, n in enumerate(NETWORKS)}
    best = min(grid, key=lambda row: (-row.score, -row.total, order[row.network]))
    worst = min(grid, key=lambda row: (row.score, row.total, order[row.network]))
    level_field = all((r.score, r.total) == (best.score, best.total) for r in grid)
    strongest = None if best.total == 0 or level_field else best.network
    needs_work = None
    if worst.score < FULL_SCORE and worst.network != strongest:
        needs_work = worst.network
    missing = gap_cells(grid)
    return Review(grid, strongest, needs_work, gaps(grid), unplaced, missing)


def gap_cells(grid: Sequence[NetworkScore]) -> list[Gap]:
    """Every cell below the 2-2-2 target: empty cells first, then thin ones, in seed order."""
    cells = [
        Gap(row.network, level, row.counts[level.value])
        for row in grid
        for level in LEVELS
        if row.counts[level.value] < TARGET_PER_LEVEL
    ]
    return sorted(cells, key=lambda gap: gap.count > 0)


def gaps(grid: Sequence[NetworkScore]) -> list[str]:
    """The missing key relationships as sentences, most important first.

    A network with nobody in it reads as one line rather than three empty cells.
    """
    missing: list[str] = []
    thin: list[str] = []
    for row in grid:
        if row.total == 0:
            missing.append(f"no one in your {network_label(row.network)} network yet")
            continue
        for gap in gap_cells([row]):
            (thin if gap.count else missing).append(gap.describe())
    return missing + thin
