"""The frozen clock every test gives the app, and the moment it starts at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# A Monday morning in London (GMT), the default nudge slot's week.
START = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


@dataclass
class FrozenClock:
    """The only clock the app reads in tests; moves only when a test moves it."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
