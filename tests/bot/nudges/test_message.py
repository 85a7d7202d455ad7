"""What the weekly DM says: each part only when it has something to say."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bot import ids
from bot.ledger.network import day_number
from bot.nudges.message import (
    DM_BLOCKS_MAX,
    FOOTER_BLOCK,
    preview_text,
    render,
)
from bot.nudges.planning import Favour, Schedule, compose
from bot.nudges.weekly_person import ContactFacts, Reason, choose, pick_for, this_weeks_person
from storage.models import Bond, Level, Network
from tests.support.fake_slack_rules import check_message

NOW = datetime(2026, 11, 16, 10, tzinfo=UTC)


def contact(
    i: int, days_ago: int | None, snoozed_until: date | None = None, **extra: object
) -> ContactFacts:
    last = NOW - timedelta(days=days_ago) if days_ago is not None else None
    return ContactFacts(  # type: ignore[misc]
        id=i,
        member_id=1,
        key=f"U{i}",
        name=f"Person {i}",
        last_touch_day=day_number(last),
        snoozed_until_day=day_number(snoozed_until),
        **extra,  # type: ignore[arg-type]
    )


def action_ids(blocks: list) -> list[str]:
    return [
        e["action_id"] for b in blocks for e in b.to_dict().get("elements", []) if "action_id" in e
    ]


def test_empty_network_gets_a_short_start_here_message() -> None:
    content = compose([], [], NOW)
    assert content.start_here
    text, blocks = render(content, Schedule(tz="Europe/London"))
    shown = preview_text(content, Schedule(tz="Europe/London"))
    assert "/ally thanks @person" in shown and "/ally add @person" in shown
    assert len(blocks) <= 5
    assert "open_log_modal" in action_ids(blocks)
    assert text.startswith("Start here")


def test_stay_in_touch_lists_the_three_most_overdue_with_days_since() -> None:
    contacts = [
        contact(1, 40),  # default cadence 45: not due yet
        contact(2, 50),  # due: 5 days past
        contact(3, 100),  # overdue: 55 days past
        contact(4, 80),  # overdue: 35 days past
        contact(5, 70),  # overdue: 25 days past
        contact(6, 200, snoozed_until=date(2026, 11, 30)),  # snoozed: left out
        contact(7, None),  # never touched: not "overdue"
    ]
    content = compose(contacts, [], NOW)
    assert [s.contact.id for s in content.stay_in_touch] == [3, 4, 5]
    assert [s.days_since for s in content.stay_in_touch] == [100, 80, 70]
    shown = preview_text(content, Schedule())
    # Person 3, most overdue, is also this week's person: one section says both.
    assert (
        "*This week's person: Person 3*\n*Stay in touch:* 100 days since you last talked with "
        "Person 3; you aim for every" in shown
    )
    assert "*Person 4*\n*Stay in touch:* 80 days since you last talked with Person 4;" in shown
    assert "Person 6" not in shown


def test_gratitude_give_first_and_buttons() -> None:
    owed = contact(1, 3, balance=-2)
    slightly = contact(2, 3, balance=-1)
    even = contact(3, 3, balance=1)
    favour = Favour(77, owed, "reviewed my <b>deck</b>", NOW - timedelta(days=2))
    content = compose([owed, slightly, even], [favour], NOW)
    assert content.give_first is not None and content.give_first.contact == owed
    assert [f.interaction_id for f in content.thanks] == [77]
    text, blocks = render(content, Schedule(tz="Asia/Kolkata"))
    shown = preview_text(content, Schedule(tz="Asia/Kolkata"))
    # Person 1 is thanked, given to first and this week's person: all in one section.
    assert shown.count("Person 1*") == 1  # one section, under one heading
    assert "*Give first:* Person 1 has helped you 2 times more than you've helped them." in shown
    assert "Share something useful with Person 1: an article, a lead or a tool" in shown
    assert "&lt;b&gt;deck&lt;/b&gt;" in shown  # what members typed is never markup
    wanted = {
        ids.SAY_THANKS,
        ids.NUDGE_NOT_NOW,
        ids.NUDGE_SNOOZE,
        ids.NUDGE_SETTINGS,
        ids.NUDGE_LOG_CATCH_UP,
        ids.NUDGE_KEEP_PERSON,
        ids.PLAN_IT,
    }
    assert wanted <= set(action_ids(blocks))
    assert content.person is not None
    [person] = [b.to_dict() for b in blocks if b.to_dict().get("block_id") == "person:1"]
    buttons = [(e["action_id"], e.get("value")) for e in person["elements"]]
    assert buttons == [
        (ids.PLAN_IT, "U1"),
        (ids.NUDGE_LOG_CATCH_UP, "U1"),
        (ids.SAY_THANKS, "77"),
        (ids.NUDGE_KEEP_PERSON, "U1"),
    ]
    assert person["elements"][-1]["text"]["text"] == "Keep for next week"
    assert "1 to thank" in text


def test_nothing_to_say_has_no_news() -> None:
    # Six connections, two at each level, all touched yesterday, none owed anything, and the
    # only one the rule could name was last week's person: nothing to say this week.
    levels = ["above", "above", "peer", "peer", "below", "below"]
    network = [
        contact(
            i,
            1,
            networks=Network.STRATEGIC | Network.OPERATIONAL | Network.DEVELOPMENTAL,
            level=level,
        )
        for i, level in enumerate(levels, 1)
    ]
    content = compose(network, [], NOW, last_person_id=1)
    assert content.person is not None  # someone else is still worth keeping warm
    quiet = compose(network[:1], [], NOW, last_person_id=1)
    assert quiet.person is None and quiet.gap is not None  # a gap to fill instead
    assert quiet.has_news


def test_with_nobody_due_the_dm_suggests_the_reviews_biggest_gap() -> None:
    fresh = contact(1, 1, networks=Network.STRATEGIC, level=Level.PEER.value)
    content = compose([fresh], [], NOW, last_person_id=1, focus="pricing")
    assert content.person is None and content.gap is not None
    shown = preview_text(content, Schedule())
    assert "*This week: fill a gap*\nYou have no connection above you (aim for 2)." in shown
    assert (
        "*Next step:* Ask Person 1 who else you should get to know above you about pricing."
        in shown
    )
    assert "a gap to fill" in shown.splitlines()[0]


def test_a_full_dm_names_each_person_once_in_under_twenty_blocks() -> None:
    # Three overdue, three thanked (one of them also overdue), one to give to, this week's
    # person and three questions: every part has something to say.
    overdue = [contact(i, 100 + i) for i in (1, 2, 3)]
    thanked = [contact(i, 3) for i in (4, 5)]
    giver = contact(6, 3, balance=-4)
    network = [*overdue, *thanked, giver, contact(7, None)]
    favours = [
        Favour(70 + c.id, c, f"helped with {c.id}", NOW - timedelta(days=1))
        for c in (overdue[0], *thanked)
    ]
    content = compose(network, favours, NOW)
    content = replace(content, questions=["Q one?", "Q two?", "Q three?"])
    _, blocks = render(content, Schedule())
    assert len(blocks) < 20
    sections = [b.to_dict()["text"]["text"] for b in blocks if b.to_dict()["type"] == "section"]
    for c in network:
        assert sum(f"{c.name}*" in text for text in sections) <= 1, c.name
    # Person 1 is overdue and thanked: one section with both, one row of buttons.
    [one] = [t for t in sections if "Person 1*" in t]
    assert "*Stay in touch:*" in one and "*Say thank you*" in one


def test_weekly_person_weighs_overdue_reciprocity_and_gaps() -> None:
    overdue = contact(1, 120)  # overdue: 3
    owed = contact(2, 5, balance=-3)  # owes 3: 3, not due
    thin = contact(
        3, 5, networks=Network.STRATEGIC, level=Level.ABOVE.value, bond=Bond.CONNECTION.value
    )  # one of fewer than two connections above: 2
    pick = choose([overdue, owed, thin], NOW)
    # Tie on 3 points: the longest since the last touch wins.
    assert pick is not None and pick.contact.id == 1
    assert pick.reason == Reason.OUT_OF_TOUCH
    assert "120 days" in pick.why and "catch-up" in pick.next_step
    pick = choose([owed, thin], NOW)
    assert pick is not None and pick.contact.id == 2 and pick.reason == Reason.GIVE_FIRST
    pick = choose([thin, contact(4, 5)], NOW)
    assert pick is not None and pick.contact.id == 3 and pick.reason == Reason.GAP
    assert pick.why == "Person 3 is one of your few connections above you."
    # An alliance holds up no level of the connections' 2-2-2.
    ally = thin._replace(bond=Bond.ALLIANCE.value)
    pick = choose([ally, contact(4, 5)], NOW)
    assert pick is not None and pick.reason == Reason.KEEP_WARM


def test_weekly_person_is_never_the_same_two_weeks_running_unless_asked() -> None:
    a, b = contact(1, 120), contact(2, 60)
    assert choose([a, b], NOW).contact.id == 1  # type: ignore[union-attr]
    assert choose([a, b], NOW, last_person_id=1).contact.id == 2  # type: ignore[union-attr]
    assert choose([a], NOW, last_person_id=1) is None
    assert choose([a], NOW, last_person_id=1, keep_last=True).contact.id == 1  # type: ignore[union-attr]
    # Kept: they stay this week's person even when someone else scores higher now.
    assert choose([b, a], NOW, last_person_id=2, keep_last=True).contact.id == 2  # type: ignore[union-attr]
    # ...unless they were snoozed since, and then the rule chooses among the others.
    snoozed = contact(2, 60, snoozed_until=date(2026, 12, 1))
    assert choose([a, snoozed], NOW, last_person_id=2, keep_last=True).contact.id == 1  # type: ignore[union-attr]


def test_a_named_person_is_explained_within_the_whole_network() -> None:
    thin = contact(3, 5, networks=int(Network.STRATEGIC), level=Level.ABOVE.value)
    pick = pick_for([thin, contact(4, 5)], 3, NOW)
    assert pick is not None and pick.reason == Reason.GAP
    full = [thin, contact(5, 5, networks=int(Network.STRATEGIC), level=Level.ABOVE.value)]
    assert pick_for(full, 3, NOW).reason == Reason.KEEP_WARM  # type: ignore[union-attr]
    assert pick_for([thin], 99, NOW) is None  # no longer in the network
    # Once this week's DM named someone, that is this week's person.
    assert this_weeks_person([contact(1, 120), thin], NOW, this_week=3).contact.id == 3  # type: ignore[union-attr]
    assert this_weeks_person([contact(1, 120), thin], NOW).contact.id == 1  # type: ignore[union-attr]


def test_weekly_person_skips_snoozed_and_suggests_an_interview_for_new_contacts() -> None:
    snoozed = contact(1, 300, snoozed_until=date(2026, 12, 1))
    new = contact(2, None)
    pick = choose([snoozed, new], NOW)
    assert pick is not None and pick.contact.id == 2
    assert pick.reason == Reason.NEVER_MET and "informational interview" in pick.next_step


def test_a_crowded_week_is_cut_to_fit_keeping_this_weeks_person_and_the_footer() -> None:
    contacts = [contact(i, 100 + i, balance=-1) for i in range(60)]
    favours = [Favour(i, contacts[i], "x" * 1000, NOW) for i in range(60)]
    planned = compose(contacts, favours, NOW)
    # More than planning ever hands over: one block per person would be far over Slack's 50.
    content = replace(planned, stay_in_touch=planned.stay_in_touch * 20, thanks=favours)
    assert content.person is not None
    people = {s.contact.id for s in content.stay_in_touch} | {f.contact.id for f in favours}
    assert len(people) > 50
    text, blocks = render(content, Schedule())
    assert len(blocks) <= DM_BLOCKS_MAX
    block_ids = [block.to_dict().get("block_id") for block in blocks]
    assert f"person:{content.person.contact.id}" in block_ids
    assert block_ids[-1] == FOOTER_BLOCK
    footer = {ids.NUDGE_NOT_NOW, ids.NUDGE_SNOOZE, ids.NUDGE_SETTINGS}
    assert footer <= set(action_ids(blocks[-1:]))
    for block in blocks:
        block.validate_json()
    # ...and the message as posted passes Slack's own limits (tests/support/fake_slack_rules.py).
    check_message({"channel": "D1", "text": text, "blocks": [b.to_dict() for b in blocks]})
