"""The review rules and the stay-in-touch states, as pure functions with a frozen clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.ledger.network import (
    CellStatus,
    Placement,
    TouchState,
    cadence_days,
    describe_touch,
    due_soon_days,
    max_days,
    review,
    touch_state,
)
from storage.models import Bond, Level, Network

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
S, OP, D = Network.STRATEGIC, Network.OPERATIONAL, Network.DEVELOPMENTAL


def people(network: Network, above: int = 0, peer: int = 0, below: int = 0) -> list[Placement]:
    return (
        [Placement(network, "above")] * above
        + [Placement(network, "peer")] * peer
        + [Placement(network, "below")] * below
    )


def test_empty_network_has_no_strongest_and_every_cell_missing() -> None:
    result = review([])
    assert result.strongest is None
    assert result.needs_work == S  # all level: the seed's order decides where to start
    assert len(result.missing) == 9
    assert all(row.status == CellStatus.MISSING for row in result.grid)
    assert result.gaps[0] == "no one in your strategic network yet"
    assert not result.on_target


def test_two_two_two_is_the_target_and_extra_people_do_not_hide_a_gap() -> None:
    result = review(people(S, above=0, peer=10, below=10) + people(OP, 2, 2, 2))
    assert result.row(S).score == 4  # ten peers count as two
    assert result.row(OP).score == 6
    assert result.row(OP).status == CellStatus.HEALTHY
    assert result.row(S).status == CellStatus.THIN
    assert result.row(S).cell(Level.ABOVE) == CellStatus.MISSING
    assert result.strongest == OP
    assert result.needs_work == D
    assert result.missing[0].network == S and result.missing[0].level == Level.ABOVE
    assert "no one above you in your strategic network" in result.gaps


def test_strongest_breaks_ties_by_people_and_needs_work_by_fewest() -> None:
    result = review(
        people(S, 1, 1, 1) + people(OP, 1, 1, 1) + [Placement(OP, None)] + people(D, 2, 0, 0)
    )
    assert result.row(S).score == result.row(OP).score == 3
    assert result.strongest == OP  # same score, more people
    assert result.needs_work == D  # score 2


def test_a_level_field_names_no_strongest_and_on_target_needs_no_work() -> None:
    level = review(people(S, 1, 1, 1) + people(OP, 1, 1, 1) + people(D, 1, 1, 1))
    assert level.strongest is None
    assert level.needs_work == S
    full = review(people(S, 2, 2, 2) + people(OP, 2, 2, 2) + people(D, 2, 2, 2))
    assert full.on_target
    assert full.strongest is None and full.needs_work is None and full.missing == []


def test_needs_work_is_never_the_strongest() -> None:
    result = review(people(S, 2, 2, 2) + people(OP, 2, 2, 2) + people(D, 2, 2, 1))
    assert result.strongest == S
    assert result.needs_work == D
    only = review(people(S, 1, 0, 0))
    assert only.strongest == S and only.needs_work == OP


def test_thin_cells_come_after_missing_ones_and_unplaced_are_counted() -> None:
    result = review([*people(S, 1, 2, 0), Placement(0, "peer"), Placement(int(S | OP), None)])
    assert result.unplaced == 2
    statuses = [gap.status for gap in result.missing]
    assert statuses == sorted(statuses, key=lambda s: s != CellStatus.MISSING)
    assert result.row(S).total == 4  # the contact without a level still belongs to it
    assert result.cell(S, Level.ABOVE) == 1


def test_multi_network_contacts_count_in_each_network() -> None:
    result = review([Placement(int(S | D), "above")] * 2)
    assert result.cell(S, Level.ABOVE) == 2 and result.cell(D, Level.ABOVE) == 2
    assert result.cell(OP, Level.ABOVE) == 0


# -- stay in touch ------------------------------------------------------------------------------


def test_default_cadences_by_kind_and_a_member_override() -> None:
    assert cadence_days(None, Bond.ALLIANCE) == 30
    assert cadence_days(None, Bond.CONNECTION) == 60
    assert cadence_days(None, None) == 45
    assert cadence_days(14, Bond.CONNECTION) == 14
    assert max_days(30) == 45 and max_days(60) == 90 and max_days(7) == 14
    assert due_soon_days(30) == 7 and due_soon_days(6) == 3


@pytest.mark.parametrize(
    ("days_ago", "state"),
    [
        (0, TouchState.OK),
        (22, TouchState.OK),  # 8 days before the ideal date
        (23, TouchState.DUE_SOON),  # 7 days before
        (29, TouchState.DUE_SOON),  # the day before
        (30, TouchState.DUE),  # the ideal date
        (45, TouchState.DUE),  # the last day of the maximum period
        (46, TouchState.OVERDUE),  # the day after
        (400, TouchState.OVERDUE),
    ],
)
def test_alliance_states_at_each_boundary(days_ago: int, state: TouchState) -> None:
    last = NOW - timedelta(days=days_ago)
    touch = touch_state(last, None, Bond.ALLIANCE, NOW)
    assert touch.state == state
    assert touch.next_due == (last + timedelta(days=30)).date()
    assert touch.overdue_after == (last + timedelta(days=45)).date()
    assert touch.days_since == days_ago


def test_states_count_calendar_days_not_hours() -> None:
    # Touched late in the evening 30 days ago: due this morning, not tonight.
    last = datetime(2026, 10, 17, 23, 30, tzinfo=UTC)
    assert touch_state(last, 30, None, NOW).state == TouchState.DUE


def test_overdue_counts_days_past_the_maximum_and_reads_well() -> None:
    touch = touch_state(NOW - timedelta(days=50), 30, None, NOW)
    assert touch.days_overdue == 5
    assert describe_touch(touch) == "overdue by 5 days"
    soon = touch_state(NOW - timedelta(days=27), 30, None, NOW)
    assert describe_touch(soon) == "due soon (in 3 days)"
    today = touch_state(NOW - timedelta(days=30), 30, None, NOW)
    assert describe_touch(today) == "due today"


def test_custom_cadence_changes_every_boundary() -> None:
    last = NOW - timedelta(days=10)
    assert touch_state(last, 7, None, NOW).state == TouchState.DUE  # max 14
    assert touch_state(last, 7, None, NOW + timedelta(days=5)).state == TouchState.OVERDUE


def test_snooze_hides_the_state_until_its_date_and_new_contacts_are_new() -> None:
    last = NOW - timedelta(days=100)
    snoozed = touch_state(last, 30, None, NOW, snoozed_until=date(2026, 11, 30))
    assert snoozed.state == TouchState.SNOOZED
    assert snoozed.next_due == date(2026, 11, 30)
    after = touch_state(last, 30, None, datetime(2026, 11, 30, tzinfo=UTC), date(2026, 11, 30))
    assert after.state == TouchState.OVERDUE
    assert touch_state(None, None, None, NOW).state == TouchState.NEW
