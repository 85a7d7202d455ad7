"""One DM that reads well, as a member receives it through delivery and the fake Slack: each
person once (their parts merged), under 20 blocks, and a gap to fill when nobody is due."""

from __future__ import annotations

from bot.nudges.delivery import Delivery
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.nudge_fixtures import add_member
from tests.support.slack_requests import SlackDriver


def sections(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def test_a_busy_week_names_each_person_once_in_under_twenty_blocks(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London", contacts=3)  # three overdue outside contacts
    # Maria helped twice this week: two favours to thank her for, and the one to give to first.
    slack.command("thanks <@U2> for the custom report")
    slack.command("thanks <@U2> for the budget numbers")
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    [message] = fake_slack.messages["DU1"]
    assert len(message["blocks"]) < 20
    texts = sections(message)
    # Each person heads one section: a Slack user as a mention, anyone else by name in bold.
    for head in ("<@U2>", "Contact 0 (Acme)*", "Contact 1 (Acme)*", "Contact 2 (Acme)*"):
        headed = [t for t in texts if head in t.split("\n")[0]]
        assert len(headed) == 1, (head, texts)
    [maria] = [t for t in texts if "<@U2>" in t.split("\n")[0]]
    assert (
        "*Say thank you* to <@U2> for last week's help: the budget numbers; the custom report"
        in maria
    )
    assert maria.count("*Say thank you*") == 1 and "*Give first:* <@U2> has helped you" in maria
    # The most overdue is this week's person: one section, said once, with the next step.
    [person] = [t for t in texts if t.startswith("*This week's person: Contact 2 (Acme)*")]
    assert person.count("102 days") == 1 and "*Next step:*" in person
    rows = [b for b in message["blocks"] if b["type"] == "actions"]
    assert len(rows) == len({r["block_id"] for r in rows})  # one row of buttons per person


def test_with_nobody_due_the_dm_suggests_the_reviews_biggest_gap(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London", contacts=0)
    slack.command('add "Dana Lee (Acme)" strategic peer connection')
    slack.command('met "Dana Lee (Acme)" coffee')
    slack.command("focus pricing")
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1  # Dana, this week
    clock.advance(days=7)  # Dana was last week's person and is not due: nobody to name
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    message = fake_slack.messages["DU1"][-1]
    gap = "*This week: fill a gap*\nYou have no connection above you (aim for 2)."
    assert any(t.startswith(gap) for t in sections(message))
    assert "Ask Dana Lee (Acme) who else you should get to know above you about pricing." in str(
        message["blocks"]
    )
    assert "a gap to fill" in message["text"]
    # Home says the same.
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    assert gap in str(fake_slack.calls_to("views.publish")[-1]["view"]).replace("\\n", "\n")
