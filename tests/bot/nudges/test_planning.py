"""Nudge planning as pure functions over a frozen clock: zones, DST, catch-up, pauses, opt-out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.nudges.planning import Schedule, due, next_slot, slot_in_week

MINUTE = timedelta(minutes=1)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "slot_utc"),
    [
        # Week 2026-W47: Monday 16 November at 09:00 local time.
        ("Europe/London", at(2026, 11, 16, 9)),  # GMT, UTC+0
        ("America/Los_Angeles", at(2026, 11, 16, 17)),  # PST, UTC-8
        ("Asia/Kolkata", at(2026, 11, 16, 3, 30)),  # IST, UTC+5:30
        ("Pacific/Auckland", at(2026, 11, 15, 20)),  # NZDT, UTC+13: still Sunday in UTC
    ],
)
def test_due_at_the_local_slot_and_not_a_minute_before(tz: str, slot_utc: datetime) -> None:
    schedule = Schedule(tz=tz)
    assert due(schedule, slot_utc - MINUTE) is None
    slot = due(schedule, slot_utc)
    assert slot is not None
    assert slot.due_at == slot_utc
    assert slot.week == "2026-W47"  # the member's own calendar week
    assert (slot.local.weekday(), slot.local.hour, slot.local.minute) == (0, 9, 0)


def test_auckland_week_starts_on_utc_sunday() -> None:
    # Sunday 15 Nov 11:00 UTC is Monday 00:00 in Auckland: already the new local week.
    slot = due(Schedule(tz="Pacific/Auckland", minute=0), at(2026, 11, 15, 11))
    assert slot is not None and slot.week == "2026-W47"
    # The same instant in Los Angeles is still Saturday of the week before, slot long passed.
    la = due(Schedule(tz="America/Los_Angeles"), at(2026, 11, 15, 11))
    assert la is not None and la.week == "2026-W46"


@pytest.mark.parametrize(
    ("tz", "week", "slot_utc"),
    [
        # Europe changes on Sunday 29 March 2026: Monday 09:00 moves from 08:00 to 07:00 UTC.
        ("Europe/Berlin", 13, at(2026, 3, 23, 8)),
        ("Europe/Berlin", 14, at(2026, 3, 30, 7)),
        ("Europe/London", 13, at(2026, 3, 23, 9)),
        ("Europe/London", 14, at(2026, 3, 30, 8)),
        # The US changes on Sunday 8 March 2026: 14:00 UTC before, 13:00 UTC after.
        ("America/New_York", 10, at(2026, 3, 2, 14)),
        ("America/New_York", 11, at(2026, 3, 9, 13)),
        # And back on Sunday 1 November 2026.
        ("America/New_York", 45, at(2026, 11, 2, 14)),
    ],
)
def test_dst_weeks_keep_the_local_wall_time(tz: str, week: int, slot_utc: datetime) -> None:
    slot = slot_in_week(Schedule(tz=tz), 2026, week)
    assert slot.due_at == slot_utc
    assert slot.local.hour == 9


def test_slot_inside_the_spring_forward_gap_lands_just_after_it() -> None:
    # Sunday 8 March 2026, 02:30 does not exist in New York (02:00 -> 03:00).
    slot = slot_in_week(Schedule(tz="America/New_York", weekday=6, minute=150), 2026, 10)
    assert slot.due_at == at(2026, 3, 8, 7, 30)
    assert (slot.local.hour, slot.local.minute) == (3, 30)
    # Europe: Sunday 29 March 2026, 02:30 does not exist in Berlin (02:00 -> 03:00).
    berlin = slot_in_week(Schedule(tz="Europe/Berlin", weekday=6, minute=150), 2026, 13)
    assert berlin.due_at == at(2026, 3, 29, 1, 30)


def test_slot_in_the_repeated_hour_is_its_first_occurrence() -> None:
    # Sunday 1 November 2026, 01:30 happens twice in New York: EDT first (UTC-4).
    slot = slot_in_week(Schedule(tz="America/New_York", weekday=6, minute=90), 2026, 44)
    assert slot.due_at == at(2026, 11, 1, 5, 30)
    # Europe: Sunday 25 October 2026, 02:30 happens twice in Berlin: CEST first (UTC+2).
    berlin = slot_in_week(Schedule(tz="Europe/Berlin", weekday=6, minute=150), 2026, 43)
    assert berlin.due_at == at(2026, 10, 25, 0, 30)


def test_slot_passed_while_down_is_caught_up_the_same_week_not_the_next() -> None:
    schedule = Schedule(tz="Europe/London")  # Monday 09:00
    late = due(schedule, at(2026, 11, 22, 23, 59))  # Sunday night, same ISO week
    assert late is not None and late.week == "2026-W47"
    # Monday of the next week, before its slot: nothing is due, and W47 is not offered again.
    assert due(schedule, at(2026, 11, 23, 8, 59)) is None
    assert due(schedule, at(2026, 11, 23, 9)).week == "2026-W48"  # type: ignore[union-attr]


def test_later_weekday_and_time() -> None:
    schedule = Schedule(tz="Asia/Kolkata", weekday=4, minute=17 * 60 + 30)  # Friday 17:30 IST
    assert due(schedule, at(2026, 11, 20, 11, 59)) is None
    assert due(schedule, at(2026, 11, 20, 12)).due_at == at(2026, 11, 20, 12)  # type: ignore[union-attr]


def test_opt_out_is_never_due() -> None:
    schedule = Schedule(enabled=False, tz="Europe/London")
    for day in range(7):
        assert due(schedule, at(2026, 11, 16 + day, 23)) is None
    assert next_slot(schedule, at(2026, 11, 16, 10)) is None


def test_pause_skips_every_week_whose_slot_is_before_it_ends() -> None:
    schedule = Schedule(tz="Europe/London", paused_until=date(2026, 11, 30))
    assert due(schedule, at(2026, 11, 16, 10)) is None
    assert due(schedule, at(2026, 11, 23, 10)) is None
    assert due(schedule, at(2026, 11, 30, 10)).week == "2026-W49"  # type: ignore[union-attr]
    assert next_slot(schedule, at(2026, 11, 16, 10)).due_at == at(2026, 11, 30, 9)  # type: ignore[union-attr]


def test_pause_ending_mid_week_skips_that_whole_week() -> None:
    schedule = Schedule(tz="Europe/London", paused_until=date(2026, 11, 18))  # a Wednesday
    assert due(schedule, at(2026, 11, 19, 10)) is None
    assert due(schedule, at(2026, 11, 23, 9)) is not None


def test_unknown_zone_falls_back_to_utc() -> None:
    slot = due(Schedule(tz="Mars/Olympus_Mons"), at(2026, 11, 16, 9))
    assert slot is not None and slot.due_at == at(2026, 11, 16, 9)


def test_next_slot_after_this_weeks_nudge_is_next_week() -> None:
    schedule = Schedule(tz="Europe/London")
    now = at(2026, 11, 16, 10)
    assert next_slot(schedule, now).week == "2026-W47"  # type: ignore[union-attr]
    assert next_slot(schedule, now, sent_this_week=True).week == "2026-W48"  # type: ignore[union-attr]
