"""Someone added and never met is on the stay-in-touch clock from the day they were added
(README, "How Ally decides": *Stay in touch* and *This week's person*), through the real Bolt
app and the weekly send: the card after ``/ally add``, ``/ally who``, ``/ally people``, Home,
the weekly DM and this week's person all say so."""

from __future__ import annotations

import re
from collections import Counter

from bot.nudges.delivery import Delivery
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver

HOME_OPENED = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}


def weekly_dm(runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock) -> dict:
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    return [m for m in fake_slack.messages["DU1"] if "weekly Ally nudge" in m["text"]][-1]


def sections(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def home_people(slack: SlackDriver, fake_slack: FakeSlack) -> str:
    slack.event(HOME_OPENED)
    return str(fake_slack.calls_to("views.publish")[-1]["view"]["blocks"])


def test_a_weekly_contact_never_met_falls_due_a_week_after_it_was_added_and_overdue_after_two(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    # Monday 16 November: Maria is added, to be met every week; nothing is ever logged.
    card = slack.command("add <@U2> peer alliance every 1 week").text
    assert "next due Mon 23 Nov 2026 (every 7 days)" in card and "never" not in card
    assert "No catch-up logged yet (added today)" in card

    # The README's rule: due soon in the week before the ideal date (the second half of a
    # weekly period), due from it through the maximum (7 + 7 days), overdue after.
    clock.advance(days=4)
    assert "*due soon*" in slack.command("who <@U2>").text
    clock.advance(days=3)  # Monday 23 November: the ideal date
    who = slack.command("who <@U2>").text
    assert "next due Mon 23 Nov 2026" in who and "*due*" in who
    assert "<@U2>" in slack.command("people due").text

    # Monday 30 November, two weeks on: the weekly DM names her, still due, as never met.
    clock.advance(days=7)
    dm = weekly_dm(runtime, fake_slack, clock)
    [maria] = [t for t in sections(dm) if "<@U2>" in t.split("\n")[0]]
    assert maria.startswith("*This week's person:* <@U2>")
    assert (
        "*Stay in touch:* you added <@U2> 14 days ago and haven't logged a conversation yet; "
        "you aim for every 7 days." in maria
    )
    assert "since you last talked" not in maria
    assert "1 to stay in touch with" in dm["text"]

    # Tuesday 1 December, past the maximum: overdue everywhere.
    clock.advance(days=1)
    assert "*overdue*" in slack.command("who <@U2>").text
    assert "<@U2>" in slack.command("people overdue").text
    assert "<@U2>" not in slack.command("people due").text
    home = home_people(slack, fake_slack)
    assert "<@U2>: overdue by 1 day" in home
    network = slack.command("network").text
    assert "*Overdue*" in network and "<@U2>: added 15 days ago" in network


def test_this_weeks_person_is_the_never_met_contact_overdue_since_they_were_added(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    # Maria was added three weeks ago, every week, and never met; Dana was met eight days ago,
    # every week. By the README's rule Maria is overdue (3 points) and Dana due (2).
    slack.command("add <@U2> every 1 week")
    clock.advance(days=13)
    slack.command('met "Dana Lee (Acme)" coffee')
    slack.command('add "Dana Lee (Acme)" every 1 week')
    clock.advance(days=8)
    dm = weekly_dm(runtime, fake_slack, clock)
    [person] = [t for t in sections(dm) if t.startswith("*This week's person:*")]
    assert person.startswith("*This week's person:* <@U2>")
    assert "*Stay in touch:* you added <@U2> 21 days ago and haven't logged" in person
    [dana] = [t for t in sections(dm) if t.startswith("*Dana Lee (Acme)*")]
    assert "*Stay in touch:* 8 days since you last talked with Dana Lee (Acme);" in dana
    # Home names the same person.
    assert "This week" in home_people(slack, fake_slack)
    assert "<@U2>" in home_people(slack, fake_slack).split("This week", 1)[1][:400]


# -- one DM, no sentence twice -------------------------------------------------------------------


def sentences_of(message: dict) -> list[str]:
    """Everything the DM says (its sections and context lines), sentence by sentence."""
    texts: list[str] = []
    for block in message["blocks"]:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts.extend(e.get("text", "") for e in block["elements"])
    found: list[str] = []
    for text in texts:
        for line in text.split("\n"):
            # A heading in bold or a numbered question is a sentence of its own.
            line = re.sub(r"^\d+\.\s+", "", line.strip())
            found += [s.strip() for s in re.split(r"(?<=[.!?])\s+", line) if s.strip()]
    return found


def assert_no_sentence_twice(message: dict) -> None:
    said = Counter(sentences_of(message))
    assert said, message
    twice = {sentence: n for sentence, n in said.items() if n > 1}
    assert not twice, twice


def test_a_dm_for_someone_who_helped_more_says_each_sentence_once(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    # Maria helped twice (the same thing logged twice too): she is the one to give to first and
    # this week's person, for the same reason.
    slack.command("thanks <@U2> for the custom report")
    slack.command("thanks <@U2> for the custom report")
    slack.command("thanks <@U2> for the budget numbers")
    clock.advance(days=7)
    dm = weekly_dm(runtime, fake_slack, clock)
    assert_no_sentence_twice(dm)
    [maria] = [t for t in sections(dm) if "<@U2>" in t.split("\n")[0]]
    assert maria.count("has helped you 3 times more than you've helped them") == 1


def test_a_dm_for_contacts_imported_the_same_day_says_each_sentence_once(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    # Four people added the same day on the same cadence, never met: all overdue alike.
    for who in ("<@U2>", '"Dana Lee (Acme)"', '"Sam Ng (Globex)"', '"Ana Ruiz"'):
        slack.command(f"add {who} connection every 1 week")
    clock.advance(days=21)
    dm = weekly_dm(runtime, fake_slack, clock)
    assert dm["text"].startswith("Your weekly Ally nudge: 3 to stay in touch with")
    assert_no_sentence_twice(dm)


def test_a_dm_for_a_busy_ledger_says_each_sentence_once(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    # Met, helped, introduced and added alike, a month before the DM.
    slack.command('met "Dana Lee (Acme)" coffee')
    slack.command('met "Sam Ng (Globex)" coffee')
    slack.command('add "Dana Lee (Acme)" strategic above connection every 2 weeks')
    slack.command('add "Sam Ng (Globex)" strategic above connection every 2 weeks')
    slack.command("add <@U2> operational peer alliance")
    slack.command('intro <@U2> "Ana Ruiz"')
    clock.advance(days=29)
    # Two people thanked for the same thing, in the same words.
    slack.command('thanks "Dana Lee (Acme)" for the intro')
    slack.command('thanks "Sam Ng (Globex)" for the intro')
    clock.advance(days=1)
    dm = weekly_dm(runtime, fake_slack, clock)
    assert_no_sentence_twice(dm)
