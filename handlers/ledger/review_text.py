"""The network review as mrkdwn lines, shared by ``/ally network`` and the Home tab, so both
say the same thing the same way: connections against 2-2-2, alliances apart, and each of the
three networks as strongest, needs work or missing."""

from __future__ import annotations

from collections.abc import Sequence

from bot.ledger.listing import Cell
from bot.ledger.network import (
    LEVELS,
    TARGET_PER_LEVEL,
    CellStatus,
    NetworkScore,
    Review,
    Standing,
    network_label,
)
from handlers.ledger.people_views import cell_names

STATUS_MARK = {
    CellStatus.HEALTHY: ":large_green_circle:",
    CellStatus.THIN: ":large_yellow_circle:",
    CellStatus.MISSING: ":red_circle:",
}
STANDING_MARK = {
    Standing.STRONGEST: ":muscle: strongest",
    Standing.NEEDS_WORK: ":seedling: needs work",
    Standing.MISSING: ":red_circle: missing",
    Standing.STEADY: ":large_blue_circle: steady",
}
LEVEL_SHORT = {"above": "above you", "peer": "at your level", "below": "below you"}
TARGET = f"{TARGET_PER_LEVEL * len(LEVELS)}"


def connections_text(review: Review) -> str:
    """Connections per level against two above, two at your level, two below."""
    cells = " · ".join(
        f"{STATUS_MARK[review.level_status(level)]} {LEVEL_SHORT[level.value]}: "
        f"{review.connections.get(level.value, 0)}"
        for level in LEVELS
    )
    counted = sum(min(n, TARGET_PER_LEVEL) for n in review.connections.values())
    head = f"*Connections*: {counted} of the {TARGET}"
    if review.on_target:
        head = f"*Connections*: all {TARGET} in place :tada:"
    return f"{head}\n{cells}"


def alliances_text(review: Review, active_projects: int | None = None) -> str:
    """Alliances, counted apart from connections."""
    people = f"{review.alliances} {'person' if review.alliances == 1 else 'people'}"
    line = f"*Alliances* (the people you deliver with): {people}"
    if active_projects:
        line += f" · {active_projects} active project{'s' if active_projects != 1 else ''}"
    return line


def network_text(review: Review, row: NetworkScore, cells: Sequence[Cell] = ()) -> str:
    """One network: its people, its standing, how they spread over the levels and, given the
    cells, who is at each level (the first few, then how many more)."""
    people = f"{row.total:,} {'person' if row.total == 1 else 'people'}"
    spread = " · ".join(f"{LEVEL_SHORT[level.value]} {row.counts[level.value]}" for level in LEVELS)
    title = network_label(row.network).capitalize()
    text = f"*{title}*  {STANDING_MARK[review.standing(row.network)]} · {people}\n{spread}"
    for cell in cells:
        if cell.network == row.network and cell.names:
            text += f"\n_{LEVEL_SHORT[cell.level.value]}_: {cell_names(cell)}"
    return text
