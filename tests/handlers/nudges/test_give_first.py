"""Give first (seed 000): the weekly DM and Home suggest a concrete way to give to someone who
has helped the member more, or to an alliance never given anything; no member-facing text in
the product says "owe". Through the real Bolt app against the fake Slack."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from bot.nudges.delivery import Delivery
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.nudge_fixtures import add_member
from tests.support.slack_requests import SlackDriver

ROOT = Path(__file__).resolve().parents[3]
OWE = re.compile(r"\bow(e|es|ed|ing)\b", re.IGNORECASE)


def weekly_dm(runtime: Runtime, fake: FakeSlack, clock: FrozenClock) -> str:
    fake.messages.clear()
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    [message] = fake.messages["DU1"]
    return json.dumps(message["blocks"], ensure_ascii=False) + message["text"]


def home(slack: SlackDriver, fake: FakeSlack) -> str:
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    return json.dumps(fake.calls_to("views.publish")[-1]["view"], ensure_ascii=False)


def test_the_dm_and_home_suggest_a_concrete_way_to_give_first(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London", contacts=0)
    slack.command("thanks <@U2> for the custom report")
    slack.command("thanks <@U2> for the intro to finance")
    slack.command("add <@U3> operational peer alliance")
    dm = weekly_dm(runtime, fake_slack, clock)
    assert "*Give first:* <@U2> has helped you 2 times more than you've helped them." in dm
    assert "Share something useful with <@U2>" in dm
    shown = home(slack, fake_slack)
    assert "*Give first:* <@U2> has helped you 2 times more" in shown
    who = slack.command("who <@U2>").text
    for text in (dm, shown, who):
        assert not OWE.search(text), text

    # Even with Maria: Bob, an alliance never given anything, is next, with an offer of help.
    slack.command("gave <@U2> a review of her deck")
    slack.command("gave <@U2> an intro to Kathy")
    clock.advance(days=7)
    dm = weekly_dm(runtime, fake_slack, clock)
    assert "<@U3> is one of your alliances, and you haven't done anything for them yet." in dm
    assert "Offer help with what <@U3> is working on right now" in dm
    assert not OWE.search(dm)
    # Once Ana has given Bob something, nobody is suggested.
    slack.command("gave <@U3> covered the release")
    clock.advance(days=7)
    assert "Give first" not in weekly_dm(runtime, fake_slack, clock)


def test_no_member_facing_text_says_owe() -> None:
    """Every string in the product's code (what Slack and the terminal show come from these),
    the README and the manifest."""
    found = []
    for package in ("bot", "handlers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                text = node.value if isinstance(node, ast.Constant) else None
                if isinstance(text, str) and OWE.search(text):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    for doc in ("README.md", "manifest.yml"):
        for number, line in enumerate((ROOT / doc).read_text().splitlines(), 1):
            if OWE.search(line):
                found.append(f"{doc}:{number}")
    assert found == []
