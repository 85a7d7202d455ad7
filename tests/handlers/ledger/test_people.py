"""``/ally people``, its pages, the History button and the names in the network review, through
the real Bolt app against the fake Slack."""

from __future__ import annotations

import json
import re

from bot.ledger.people import MemberRef
from bot.platform.runtime import Runtime
from handlers.kit.blocks import MESSAGE_BLOCKS_MAX
from storage.db import transaction
from storage.models import Contact, Member
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import Reply, SlackDriver

ANA = MemberRef("T1", "U1")


def ok(reply: Reply) -> Reply:
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert len(reply.json["blocks"]) <= MESSAGE_BLOCKS_MAX
    return reply


def buttons(blocks: list[dict], action_id: str) -> list[dict]:
    return [
        element
        for block in blocks
        for element in [*block.get("elements", []), block.get("accessory") or {}]
        if element.get("action_id") == action_id
    ]


def listed(blocks: list[dict]) -> list[str]:
    """The contact keys of the people on a page, in order (each person's History button)."""
    return [b["value"] for b in buttons(blocks, "show_person")]


def outside_people(runtime: Runtime, count: int, **columns: object) -> None:
    """``count`` outside contacts for Ana, "Person 000" onwards, written directly."""
    with transaction(runtime.sessions) as session:
        member = session.query(Member).filter_by(team_id="T1", user_id="U1").one()
        for n in range(count):
            session.add(
                Contact(
                    member_id=member.id,
                    key=f"~person {n:03}",
                    name=f"Person {n:03}",
                    networks=columns.get("networks", 0),
                    level=columns.get("level"),
                    created_at=runtime.clock(),
                )
            )


def test_people_lists_everyone_with_where_they_sit_and_the_clock(
    slack: SlackDriver, clock: FrozenClock
) -> None:
    ok(slack.command("add <@U2> strategic above alliance"))
    ok(slack.command('add "Dana Lee (Acme)" operational peer connection every 2 weeks'))
    ok(slack.command("thanks <@U2> for the report"))
    ok(slack.command('met "Dana Lee (Acme)" coffee'))
    clock.advance(days=40)  # Maria (30 days) is due; Dana (14 days) is overdue

    reply = ok(slack.command("people"))
    text = reply.text
    assert "*Your people*: 2 people" in text
    # Slack users as mentions (current name, clickable); outside people by name, by name order.
    assert listed(reply.json["blocks"]) == ["~dana lee", "U2"]
    assert "<@U2> · strategic · above you · alliance" in text
    assert "Dana Lee (Acme) · operational · at your level · connection" in text
    assert "overdue by" in text and "last touch 40 days ago" in text
    assert "they gave 1 more" in text and "even" in text
    assert "every 14 days" in text and "every 30 days" in text
    assert buttons(reply.json["blocks"], "people_page") == []  # one page: no pager


def test_filters_by_network_level_bond_state_and_text(
    slack: SlackDriver, clock: FrozenClock, runtime: Runtime
) -> None:
    ok(slack.command("add <@U2> strategic above alliance"))
    ok(slack.command("add <@U3> strategic operational peer"))
    ok(slack.command('add "Dana Lee (Acme)" developmental below connection'))
    ok(slack.command("met <@U2> coffee"))
    ok(slack.command("met <@U3> lunch"))
    with transaction(runtime.sessions) as session:
        session.query(Contact).filter_by(key="U3").update({"notes": "Knows the PAYMENTS team"})
    clock.advance(days=40)
    ok(slack.command("met <@U3> again"))

    def keys(words: str) -> list[str]:
        return listed(ok(slack.command(f"people {words}")).json["blocks"])

    assert keys("strategic") == ["U3", "U2"]  # Bob Chen, Maria Lopez
    assert keys("strategic operational") == ["U3"]
    assert keys("above") == ["U2"]
    assert keys("connection") == ["~dana lee"]
    assert keys("due") == ["U2"]
    assert keys("overdue") == []
    assert keys("acme") == ["~dana lee"]  # organisation
    assert keys("payments") == ["U3"]  # notes, whatever the case
    assert keys("maria") == ["U2"]  # name
    assert keys("dana acme") == ["~dana lee"] and keys("dana payments") == []
    nobody = ok(slack.command("people strategic below"))
    assert "Nobody matching strategic, below you among your 3 people" in nobody.text
    bad = ok(slack.command("people above below"))
    assert "Pick one level" in bad.text and "Usage: `/ally people" in bad.text
    assert "Pick one bond" in ok(slack.command("people alliance connection")).text


def test_words_match_any_letters_and_wildcards_match_only_themselves(
    slack: SlackDriver,
) -> None:
    ok(slack.command('add "Émile Zola (Société Générale)" strategic'))
    ok(slack.command('add "Sam 100% Ortiz" strategic'))

    def keys(words: str) -> list[str]:
        return listed(ok(slack.command(f"people {words}")).json["blocks"])

    assert keys("ÉMILE") == keys("société zola") == ["~émile zola"]
    assert keys("100%") == ["~sam 100% ortiz"] and keys("_") == []
    assert keys("strategic") == ["~sam 100% ortiz", "~émile zola"]  # by name, letters first


def test_a_page_past_the_end_shows_the_last_page(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    ok(slack.command('add "Someone Else" strategic'))
    outside_people(runtime, 25)
    hook = fake_slack.response_url("response_hook")
    value = json.dumps({"filter": "person", "page": 7})
    assert slack.action("people_page", value=value, extra={"response_url": hook}).status == 200
    [last] = fake_slack.calls_to("response_hook")
    assert listed(last["blocks"]) == [f"~person {n:03}" for n in range(20, 25)]
    assert "21-25 (page 2 of 2)" in json.dumps(last["blocks"])


def test_a_member_with_nobody_is_told_how_to_start(slack: SlackDriver) -> None:
    assert "nobody in your network yet" in ok(slack.command("people")).text


def test_pages_of_many_people_stay_within_slacks_limits(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    ok(slack.command('add "Someone Else" strategic'))
    outside_people(runtime, 45)
    first = ok(slack.command("people person"))
    assert "45 people matching “person” · 1-20 (page 1 of 3)" in first.text
    assert listed(first.json["blocks"]) == [f"~person {n:03}" for n in range(20)]
    [next_page] = buttons(first.json["blocks"], "people_page")
    assert next_page["text"]["text"] == "Next page"

    # The button replaces the page it was on (the ephemeral message's response_url).
    hook = fake_slack.response_url("response_hook")
    pressed = slack.action("people_page", value=next_page["value"], extra={"response_url": hook})
    assert pressed.status == 200
    [second] = fake_slack.calls_to("response_hook")
    assert second["replace_original"] is True
    assert listed(second["blocks"]) == [f"~person {n:03}" for n in range(20, 40)]
    assert [b["text"]["text"] for b in buttons(second["blocks"], "people_page")] == [
        "Previous page",
        "Next page",
    ]
    third_value = buttons(second["blocks"], "people_page")[1]["value"]
    slack.action("people_page", value=third_value, extra={"response_url": hook})
    third = fake_slack.calls_to("response_hook")[-1]
    assert listed(third["blocks"]) == [f"~person {n:03}" for n in range(40, 45)]
    assert "41-45 (page 3 of 3)" in json.dumps(third["blocks"])
    # A value that is not one of Ally's pages gets a friendly answer, not a traceback.
    slack.action("people_page", value="{oops", extra={"response_url": hook})
    assert "out of date" in fake_slack.calls_to("response_hook")[-1]["text"]


def test_history_button_shows_who(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    ok(slack.command("thanks <@U2> for the custom report"))
    [history] = buttons(ok(slack.command("people")).json["blocks"], "show_person")
    hook = fake_slack.response_url("response_hook")
    slack.action("show_person", value=history["value"], extra={"response_url": hook})
    [shown] = fake_slack.calls_to("response_hook")
    assert "Your history with" in shown["text"] and "the custom report" in str(shown["blocks"])
    slack.action("show_person", value="~nobody", extra={"response_url": hook})
    assert "not in your network" in fake_slack.calls_to("response_hook")[-1]["text"]


def test_people_are_the_members_own(slack: SlackDriver) -> None:
    ok(slack.command("add <@U2> strategic above"))
    ok(slack.command("add <@U4> operational peer", user="U3"))
    assert listed(ok(slack.command("people", user="U3")).json["blocks"]) == ["U4"]
    assert listed(ok(slack.command("people")).json["blocks"]) == ["U2"]


def test_network_names_who_is_in_each_cell_and_lists_the_rest(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    ok(slack.command("add <@U2> strategic above"))
    ok(slack.command('add "Dana Lee (Acme)" strategic operational above'))
    outside_people(runtime, 4, networks=1, level="above")  # four more strategic, above
    ok(slack.command("add <@U3> operational peer"))
    reply = ok(slack.command("network"))
    text = reply.text
    # First three by name (Dana, Maria, Person 000), then how many more.
    assert "_above you_: Dana Lee (Acme), <@U2>, Person 000 and 3 more" in text
    assert "_above you_: Dana Lee (Acme)\n_at your level_: <@U3>" in text
    [more] = buttons(reply.json["blocks"], "people_page")
    assert more["text"]["text"] == "All 6 strategic, above you"
    hook = fake_slack.response_url("response_hook")
    slack.action("people_page", value=more["value"], extra={"response_url": hook})
    [page] = fake_slack.calls_to("response_hook")
    assert "6 people matching strategic, above you" in page["text"]
    assert len(listed(page["blocks"])) == 6
    assert re.search(r"Person 003", json.dumps(page["blocks"]))


def home_view(slack: SlackDriver, fake_slack: FakeSlack) -> dict:
    reply = slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    assert reply.status == 200
    return fake_slack.calls_to("views.publish")[-1]["view"]


def test_home_lists_the_most_relevant_people_and_who_is_in_each_cell(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    ok(slack.command("add <@U2> strategic above alliance"))
    ok(slack.command('add "Dana Lee (Acme)" strategic above connection every 1 weeks'))
    ok(slack.command("add <@U3> strategic above"))
    outside_people(runtime, 6, networks=1, level="above")
    ok(slack.command("met <@U2> coffee"))
    ok(slack.command('met "Dana Lee (Acme)" coffee'))
    clock.advance(days=20)  # Dana (weekly) is overdue; Maria (30 days) is not yet due
    view = home_view(slack, fake_slack)
    shown = json.dumps(view, ensure_ascii=False)
    assert "*People*   9 in your network" in shown
    # Dana first (overdue), then the people never contacted by name; Maria (up to date) later.
    assert listed(view["blocks"])[:3] == ["~dana lee", "U3", "~person 000"]
    assert len(listed(view["blocks"])) == 5
    assert "_above you_: <@U3>, Dana Lee (Acme), <@U2> and 6 more" in shown
    [see_all] = [
        b for b in buttons(view["blocks"], "people_page") if "See all" in b["text"]["text"]
    ]
    assert see_all["text"]["text"] == "See all 9 people"
    [cell] = [b for b in buttons(view["blocks"], "people_page") if b is not see_all]
    assert cell["text"]["text"] == "All 9 strategic, above you"

    # From Home (no response_url, no channel) the list arrives in the DM with Ally.
    home = {"view": {"type": "home", "id": "VHOME"}}
    assert slack.action("people_page", value=see_all["value"], extra=home).status == 200
    [dm] = fake_slack.calls_to("chat.postMessage")
    assert dm["channel"] == "U1" and "Your people: 9 people" in dm["text"]
    assert len(listed(dm["blocks"])) == 9
    assert slack.action("people_page", value=cell["value"], extra=home).status == 200
    assert "matching strategic, above you" in fake_slack.calls_to("chat.postMessage")[-1]["text"]


def test_empty_home_points_at_adding_a_contact(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    shown = json.dumps(home_view(slack, fake_slack))
    assert "Nobody yet: *Add a contact* to start." in shown
    assert "show_person" not in shown and "people_page" not in shown
