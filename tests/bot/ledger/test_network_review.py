"""The review rules and the stay-in-touch states, as pure functions with a frozen clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.ledger.network import (
    CellStatus,
    Gap,
    Placement,
    Standing,
    TouchState,
    cadence_days,
    describe_touch,
    due_soon_days,
    gap_step,
    level_label,
    max_days,
    review,
    touch_state,
)
from storage.models import Bond, Level, Network

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
S, OP, D = Network.STRATEGIC, Network.OPERATIONAL, Network.DEVELOPMENTAL


def people(
    network: Network, above: int = 0, peer: int = 0, below: int = 0, bond: str | None = None
) -> list[Placement]:
    return (
        [Placement(network, "above", bond)] * above
        + [Placement(network, "peer", bond)] * peer
        + [Placement(network, "below", bond)] * below
    )


ALLY = Bond.ALLIANCE.value


def test_empty_network_has_no_strongest_and_misses_every_level_and_network() -> None:
    result = review([])
    assert result.strongest is None and result.needs_work is None
    assert [(g.level, g.network) for g in result.missing] == [
        (Level.ABOVE, None),
        (Level.PEER, None),
        (Level.BELOW, None),
        (None, S),
        (None, OP),
        (None, D),
    ]
    assert result.gaps[0] == "no connection above you (aim for 2)"
    assert all(result.standing(n) == Standing.MISSING for n in (S, OP, D))
    assert not result.on_target


def test_six_connections_in_all_meet_the_target_without_six_per_network() -> None:
    # Seed 001: two above, two at your level, two below, six people in all, spread over the
    # networks as they happen to be; no network is asked for six.
    result = review(people(S, above=2) + people(OP, peer=2) + people(D, below=2))
    assert result.on_target
    assert result.connections == {"above": 2, "peer": 2, "below": 2}
    assert result.missing == [] and result.gaps == []
    assert result.strongest is None and result.needs_work is None  # all three level


def test_extra_people_do_not_hide_an_empty_level() -> None:
    result = review(people(S, above=0, peer=10, below=10))
    assert not result.on_target
    assert result.level_status(Level.ABOVE) == CellStatus.MISSING
    assert result.level_status(Level.PEER) == CellStatus.HEALTHY
    assert result.missing[0].level == Level.ABOVE
    assert result.gaps[:3] == [
        "no connection above you (aim for 2)",
        "no one in your operational network",
        "no one in your developmental network",
    ]


def test_alliances_are_counted_apart_from_connections() -> None:
    result = review(people(OP, 2, 2, 2, bond=ALLY) + people(S, above=1, bond="connection"))
    assert result.alliances == 6
    assert result.connections == {"above": 1, "peer": 0, "below": 0}
    assert not result.on_target
    # Unclassified contacts count as connections.
    assert review(people(S, 1, 1, 1)).connections == {"above": 1, "peer": 1, "below": 1}


def test_strongest_has_most_people_needs_work_fewest_and_empty_is_missing() -> None:
    result = review(people(S, 1, 1, 1) + people(OP, 1, 1, 0) + [Placement(OP, None)])
    assert result.row(S).total == 3 and result.row(OP).total == 3
    assert result.strongest == S  # same people, more levels covered
    assert result.needs_work == OP
    assert result.standing(D) == Standing.MISSING
    assert "no one in your developmental network" in result.gaps


def test_a_level_field_names_no_strongest() -> None:
    level = review(people(S, 1, 1, 1) + people(OP, 1, 1, 1) + people(D, 1, 1, 1))
    assert level.strongest is None and level.needs_work is None
    assert level.on_target  # three in each level across the networks


def test_needs_work_is_never_the_strongest() -> None:
    result = review(people(S, 2, 2, 2) + people(OP, 2, 2, 2) + people(D, 2, 2, 1))
    assert result.strongest in (S, OP) and result.needs_work == D
    only = review(people(S, 1, 0, 0))
    assert only.strongest == S and only.needs_work is None
    assert only.standing(OP) == Standing.MISSING


def test_thin_levels_come_after_missing_ones_and_unplaced_are_counted() -> None:
    result = review([*people(S, 1, 2, 0), Placement(0, "peer"), Placement(int(S | OP), None)])
    assert result.unplaced == 2
    kinds = [(g.level, g.count) for g in result.missing if g.level is not None]
    assert kinds == [(Level.BELOW, 0), (Level.ABOVE, 1)]
    assert result.row(S).total == 4  # the contact without a level still belongs to it
    assert result.row(S).counts["above"] == 1


def test_multi_network_contacts_count_in_each_network_and_once_as_connections() -> None:
    result = review([Placement(int(S | D), "above")] * 2)
    assert result.row(S).counts["above"] == 2 and result.row(D).counts["above"] == 2
    assert result.row(OP).counts["above"] == 0
    assert result.connections["above"] == 2


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


# -- what a member reads ------------------------------------------------------------------------


def test_each_state_reads_as_a_short_phrase_in_days() -> None:
    def said(days_ago: int, cadence: int = 30, **kw: date) -> str:
        return describe_touch(touch_state(NOW - timedelta(days=days_ago), cadence, None, NOW, **kw))

    assert said(2) == "next due 14 Dec"  # the ideal date, 30 days after the touch
    assert said(29) == "due soon (in 1 day)"
    assert said(31) == "due (1 day past the ideal)"
    assert said(33) == "due (3 days past the ideal)"
    assert said(46) == "overdue by 1 day"
    assert said(1045) == "overdue by 1,000 days"
    assert said(100, snoozed_until=date(2026, 12, 3)) == "snoozed until 3 Dec"
    assert describe_touch(touch_state(None, 30, None, NOW)) == "nothing logged yet"


def test_the_ideal_gap_read_is_the_contacts_or_the_members_default() -> None:
    last = NOW - timedelta(days=20)
    assert touch_state(last, None, ALLY, NOW).ideal_days == 30
    mine = {ALLY: 21}
    assert touch_state(last, None, ALLY, NOW, defaults=mine).ideal_days == 21
    assert touch_state(last, None, ALLY, NOW, defaults=mine).state == TouchState.DUE_SOON
    assert touch_state(last, 50, ALLY, NOW, defaults=mine).ideal_days == 50


def test_a_short_cadence_is_due_soon_for_its_second_half_in_whole_days() -> None:
    assert due_soon_days(5) == 2 and due_soon_days(14) == 7
    last = NOW - timedelta(days=3)
    assert touch_state(last, 5, None, NOW).state == TouchState.DUE_SOON
    assert touch_state(NOW - timedelta(days=2), 5, None, NOW).state == TouchState.OK


def test_levels_are_healthy_at_two_thin_at_one_missing_at_none() -> None:
    result = review(people(S, above=2, peer=1) + people(OP, above=1))
    assert result.level_status(Level.ABOVE) == CellStatus.HEALTHY  # three
    assert review(people(S, above=2)).level_status(Level.ABOVE) == CellStatus.HEALTHY
    assert result.level_status(Level.PEER) == CellStatus.THIN
    assert result.level_status(Level.BELOW) == CellStatus.MISSING
    assert result.gaps == [
        "no connection below you (aim for 2)",
        "no one in your developmental network",
        "only 1 connection at your level (aim for 2)",
    ]


def test_each_network_stands_as_strongest_needs_work_steady_or_missing() -> None:
    result = review(people(S, 2, 1, 0) + people(OP, 1, 1, 0) + people(D, 1, 0, 0))
    assert result.standing(S) == Standing.STRONGEST
    assert result.standing(D) == Standing.NEEDS_WORK
    assert result.standing(OP) == Standing.STEADY
    assert review(people(S, 1, 0, 0)).standing(D) == Standing.MISSING


def test_the_next_step_for_a_gap_asks_someone_already_there() -> None:
    above, peer = Gap(level=Level.ABOVE), Gap(level=Level.PEER, count=1)
    assert gap_step(above, "Maria Lopez", "pricing") == (
        "Ask Maria Lopez who else you should get to know above you about pricing."
    )
    assert gap_step(peer, None, None) == (
        "Think of one person at your level you could learn from, and add them."
    )
    assert gap_step(Gap(network=OP), "Maria Lopez", None) == (
        "Think of one person for your operational network you could learn from, "
        "and add them with `/ally add`."
    )
    assert level_label(None) == "level not set"
    assert [level_label(level.value) for level in Level] == [
        "above you",
        "at your level",
        "below you",
    ]
