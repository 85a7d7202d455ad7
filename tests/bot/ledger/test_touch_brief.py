"""``touch_brief`` (planning's fast path) agrees with ``touch_state`` everywhere it matters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.ledger.network import day_number, touch_brief, touch_state

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
TODAY = NOW.date().toordinal()


@pytest.mark.parametrize("cadence", [None, 1, 2, 7, 13, 14, 30, 45, 60, 90, 365])
@pytest.mark.parametrize("bond", [None, "alliance", "connection"])
def test_state_and_days_since_match_touch_state(cadence: int | None, bond: str | None) -> None:
    snoozes = [None, NOW.date() - timedelta(days=1), NOW.date(), NOW.date() + timedelta(days=3)]
    # Every day from a touch tomorrow (clock skew) back past the longest maximum period, at
    # times either side of midnight, with and without a snooze.
    for days_ago in range(-1, 600):
        for hour in (0, 23):
            touched = datetime.combine(
                NOW.date() - timedelta(days=days_ago), datetime.min.time(), tzinfo=UTC
            ).replace(hour=hour)
            for snoozed in snoozes:
                full = touch_state(touched, cadence, bond, NOW, snoozed)
                brief = touch_brief(day_number(touched), cadence, bond, TODAY, day_number(snoozed))
                assert brief == (full.state, full.days_since), (days_ago, hour, snoozed)
                # Never met, added then: the clock counts from the day they were added.
                full = touch_state(None, cadence, bond, NOW, snoozed, added=touched)
                brief = touch_brief(
                    None, cadence, bond, TODAY, day_number(snoozed), added_day=day_number(touched)
                )
                assert brief == (full.state, full.days_since), (days_ago, hour, snoozed)
                assert full.never_met


def test_never_touched_is_new_whatever_the_snooze() -> None:
    full = touch_state(None, 30, None, NOW, date(2027, 1, 1))
    assert touch_brief(None, 30, None, TODAY, day_number(date(2027, 1, 1))) == (
        full.state,
        full.days_since,
    )
