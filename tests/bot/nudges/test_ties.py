"""Stay in touch, "whom you owe" and this week's person pick the same people whatever order the
contacts come in, with ties going to the name and then to the contact added first, as the rule
says."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.ledger.network import TouchState, cadence_days
from bot.nudges.give_first import give_first
from bot.nudges.planning import STAY_IN_TOUCH_MAX, stay_in_touch
from bot.nudges.weekly_person import ContactFacts, choose, touches

NOW = datetime(2026, 11, 16, 10, tzinfo=UTC)
TODAY = NOW.date().toordinal()

UNPLACED = st.just(0)
NO_LEVEL: st.SearchStrategy[str | None] = st.just(None)
AWAKE = st.just(False)


def contact_lists(
    days: st.SearchStrategy[int],
    cadences: list[int | None],
    *,
    networks: st.SearchStrategy[int] = UNPLACED,
    levels: st.SearchStrategy[str | None] = NO_LEVEL,
    snoozed: st.SearchStrategy[bool] = AWAKE,
) -> st.SearchStrategy[list[ContactFacts]]:
    """Networks of up to 25 contacts with few names, days and balances, so that most lists are
    full of ties."""
    specs = st.tuples(
        st.sampled_from(["ana", "Ana", "bo", "Cy", "cy"]),
        st.one_of(st.none(), days),
        st.sampled_from(cadences),
        st.integers(-4, 1),  # down to -4: past the cap of 3 received points
        networks,
        levels,
        snoozed,
    )
    return st.lists(specs, max_size=25).map(
        lambda found: [
            ContactFacts(
                id=i,
                member_id=1,
                key=f"~{name} {i}",
                name=name,
                networks=bits,
                level=level,
                cadence_days=cadence,
                last_touch_day=None if since is None else TODAY - since,
                snoozed_until_day=TODAY + 3 if paused else None,
                balance=balance,
            )
            for i, (name, since, cadence, balance, bits, level, paused) in enumerate(found, start=1)
        ]
    )


contacts = contact_lists(st.integers(0, 4).map(lambda n: 60 + n * 10), [None, 30, 45])
# Placements and snoozes too, so that gap points and snoozes take part in the weekly person.
placed = contact_lists(
    st.integers(0, 4).map(lambda n: 20 + n * 20),
    [None, 30],
    networks=st.sampled_from([0, 1, 2, 3, 4]),
    levels=st.sampled_from([None, "above", "peer", "below"]),
    snoozed=st.booleans(),
)


@given(contacts, st.randoms(use_true_random=False))
def test_stay_in_touch_is_the_most_days_past_due_then_by_name_then_oldest(
    network: list[ContactFacts], rng: object
) -> None:
    late = []
    for c, (state, days_since) in zip(network, touches(network, NOW), strict=True):
        if state in (TouchState.OVERDUE, TouchState.DUE) and days_since is not None:
            late.append(
                (cadence_days(c.cadence_days, c.bond) - days_since, c.name.casefold(), c.id)
            )
    expected = [c_id for _, _, c_id in sorted(late)[:STAY_IN_TOUCH_MAX]]

    shuffled = list(network)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    for order in (network, shuffled):
        assert [s.contact.id for s in stay_in_touch(order, NOW)] == expected


@given(contacts, st.randoms(use_true_random=False))
def test_give_first_is_the_lowest_balance_then_by_name_then_oldest(
    network: list[ContactFacts], rng: object
) -> None:
    received = sorted((c.balance, c.name.casefold(), c.id) for c in network if c.balance < 0)
    expected = received[0][2] if received else None

    shuffled = list(network)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    for order in (network, shuffled):
        found = give_first(order, given_to={c.id for c in order})
        assert (found.contact.id if found else None) == expected


def readme_score(contact: ContactFacts, network: list[ContactFacts]) -> int | None:
    """A contact's points by README's rule ("How Ally decides"), None when snoozed.

    Stay in touch: the ideal gap is the contact's cadence, else 45 days (these contacts are
    unclassified); due soon in the week before the ideal date, due from it until the maximum
    (the ideal plus half again, at least a week), overdue after. This week's person: overdue 3,
    due 2, due soon or never met 1; +1 per favour received beyond those given (up to 3); +2 for
    a connection at a thin level (a level where the network has one connection).
    """
    if contact.snoozed_until_day is not None and contact.snoozed_until_day > TODAY:
        return None
    if contact.last_touch_day is None:
        points = 1  # never met
    else:
        ideal = contact.cadence_days or 45
        since = TODAY - contact.last_touch_day
        if since > ideal + max(ideal / 2, 7):
            points = 3
        elif since >= ideal:
            points = 2
        elif since >= ideal - 7:
            points = 1
        else:
            points = 0
    points += min(3, max(0, -contact.balance))
    # Everyone here is a connection (none is marked an alliance).
    at_level = [c for c in network if c.level is not None and c.level == contact.level]
    if len(at_level) == 1:
        points += 2
    return points


@given(placed, st.one_of(st.none(), st.integers(1, 25)), st.randoms(use_true_random=False))
def test_this_weeks_person_is_the_best_score_then_longest_out_of_touch_then_by_name_then_oldest(
    network: list[ContactFacts], last_person: int | None, rng: object
) -> None:
    # README: snoozed contacts (never met or not) and last week's person are left out; the
    # highest score wins; ties go to the longest out of touch (never met counts as the
    # shortest), then the name, then the contact added first.
    ranked = []
    for c in network:
        score = readme_score(c, network)
        if score is None or c.id == last_person:
            continue
        days = -1 if c.last_touch_day is None else TODAY - c.last_touch_day
        ranked.append((-score, -days, c.name.casefold(), c.id))
    expected = min(ranked)[3] if ranked else None

    shuffled = list(network)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    for order in (network, shuffled):
        found = choose(order, NOW, last_person_id=last_person)
        assert (found.contact.id if found else None) == expected
        if found is not None:
            assert found.score == readme_score(found.contact, network)
