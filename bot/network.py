"""The network review as pure functions: stay-in-touch states, the 2-2-2 grid, gaps.

Seed 003 asks three questions of a network (which part is strongest, which needs development,
which key relationships are missing); seed 001 sets the target of two people above, two at your
level and two below. Nothing here touches the database or the clock: callers pass ``now``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage.models import Bond, Level, Network

TARGET_PER_LEVEL = 2
LEVELS: tuple[Level, ...] = (Level.ABOVE, Level.PEER, Level.BELOW)
NETWORKS: tuple[Network, ...] = (Network.STRATEGIC, Network.OPERATIONAL, Network.DEVELOPMENTAL)

# Default stay-in-touch cadence: alliances are people you deliver with, so you meet them more
# often (seed 001: "get a meeting within the next 30 days", "meet regularly"); connections open
# doors and are kept warm less often; unclassified contacts sit in between.
DEFAULT_CADENCE_DAYS = {Bond.ALLIANCE: 30, Bond.CONNECTION: 60, None: 45}
# A contact is "due" from its ideal date until the maximum (ideal x 1.5), overdue after it, and
# "due soon" in the last stretch before the ideal date.
MAX_FACTOR = 1.5
DUE_SOON_FRACTION = 0.2


def network_label(network: Network) -> str:
    return (network.name or "").lower()


def networks_of(bits: int) -> list[Network]:
    return [n for n in NETWORKS if bits & n]


def level_label(level: str | None) -> str:
    return {"above": "above you", "peer": "at your level", "below": "below you"}.get(
        level or "", "level not set"
    )


class TouchState(enum.StrEnum):
    NEW = "new"  # never logged an interaction
    OK = "ok"
    DUE_SOON = "due soon"
    DUE = "due"
    OVERDUE = "overdue"
    SNOOZED = "snoozed"


def cadence_days(cadence: int | None, bond: str | None) -> int:
    """The contact's ideal gap between touches, in days."""
    if cadence:
        return cadence
    return DEFAULT_CADENCE_DAYS.get(Bond(bond) if bond else None, DEFAULT_CADENCE_DAYS[None])


@dataclass(frozen=True)
class Touch:
    state: TouchState
    next_due: date | None
    days_since: int | None


def touch_state(
    last_touch: datetime | None,
    cadence: int | None,
    bond: str | None,
    now: datetime,
    snoozed_until: date | None = None,
) -> Touch:
    """Where a contact stands on the stay-in-touch clock at ``now``."""
    if last_touch is None:
        return Touch(TouchState.NEW, now.date(), None)
    ideal = cadence_days(cadence, bond)
    elapsed = now - last_touch
    days_since = max(0, elapsed.days)
    next_due = (last_touch + timedelta(days=ideal)).date()
    if snoozed_until is not None and now.date() < snoozed_until:
        return Touch(TouchState.SNOOZED, max(next_due, snoozed_until), days_since)
    if elapsed > timedelta(days=ideal * MAX_FACTOR):
        state = TouchState.OVERDUE
    elif elapsed >= timedelta(days=ideal):
        state = TouchState.DUE
    elif elapsed >= timedelta(days=ideal * (1 - DUE_SOON_FRACTION)):
        state = TouchState.DUE_SOON
    else:
        state = TouchState.OK
    return Touch(state, next_due, days_since)


class CellStatus(enum.StrEnum):
    HEALTHY = "healthy"
    THIN = "thin"
    MISSING = "missing"


def cell_status(count: int) -> CellStatus:
    if count >= TARGET_PER_LEVEL:
        return CellStatus.HEALTHY
    return CellStatus.THIN if count else CellStatus.MISSING


@dataclass(frozen=True)
class Placement:
    """What the review needs to know about one contact."""

    networks: int
    level: str | None


@dataclass(frozen=True)
class NetworkScore:
    network: Network
    counts: dict[str, int]  # level -> number of contacts
    total: int

    @property
    def score(self) -> int:
        """How close the network is to the 2-2-2 target (0 to 6)."""
        return sum(min(self.counts[level], TARGET_PER_LEVEL) for level in self.counts)


@dataclass(frozen=True)
class Review:
    grid: list[NetworkScore]
    strongest: Network | None
    needs_work: Network | None
    gaps: list[str]
    unplaced: int  # contacts with no network or no level

    def cell(self, network: Network, level: Level) -> int:
        for row in self.grid:
            if row.network == network:
                return row.counts[level.value]
        return 0


def review(placements: Iterable[Placement]) -> Review:
    """Count contacts per network and level, and name the strongest, weakest and missing parts."""
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
    ranked = sorted(grid, key=lambda row: (row.score, row.total), reverse=True)
    strongest = ranked[0].network if ranked[0].total else None
    weakest = ranked[-1]
    needs_work = weakest.network if weakest.score < TARGET_PER_LEVEL * len(LEVELS) else None
    return Review(grid, strongest, needs_work, gaps(grid), unplaced)


def gaps(grid: Sequence[NetworkScore]) -> list[str]:
    """The missing key relationships, most important first: empty cells before thin ones."""
    missing: list[str] = []
    thin: list[str] = []
    for row in grid:
        name = network_label(row.network)
        if row.total == 0:
            missing.append(f"no one in your {name} network yet")
            continue
        for level in LEVELS:
            count = row.counts[level.value]
            if count == 0:
                missing.append(f"no one {level_label(level.value)} in your {name} network")
            elif count < TARGET_PER_LEVEL:
                thin.append(
                    f"only {count} {level_label(level.value)} in your {name} network "
                    f"(aim for {TARGET_PER_LEVEL})"
                )
    return missing + thin
