"""The contact card after ``/ally add`` and ``/ally met``, and the contact form's "Default", follow
the member's default cadence for the bond (Settings), through the real Bolt app."""

from __future__ import annotations

from typing import Any

from tests.support.fake_slack import FakeSlack
from tests.support.modals import HOME, element, opened, settings_values
from tests.support.slack_requests import SlackDriver


def alliances_every(days: str) -> dict[str, Any]:
    values = settings_values(weekday="0", time="09:00", emoji=":pray:")
    for block, value in (("alliance", days), ("connection", "default")):
        option = {"value": value, "text": {"type": "plain_text", "text": value}}
        values[block] = {block: {"type": "static_select", "selected_option": option}}
    return values


def default_option(slack: SlackDriver, fake_slack: FakeSlack, key: str) -> str:
    """The text of the contact form's "Default" cadence for the contact ``key``."""
    slack.action("open_contact_modal", value=key, extra={"channel": {"id": "C1"}})
    options = element(opened(fake_slack), "cadence")["options"]
    return next(o["text"]["text"] for o in options if o["value"] == "default")


def test_the_contact_card_shows_the_members_default_cadence_for_the_bond(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    # Before any default is chosen, an alliance without a cadence of its own: Ally's 30 days.
    assert "every 30 days (default)" in slack.command("add <@U3> alliance").text
    assert default_option(slack, fake_slack, "U3") == "Default (every month)"

    slack.action("nudge_settings", extra=HOME)
    meta = opened(fake_slack)["private_metadata"]
    assert slack.submit("settings_modal", alliances_every("14"), private_metadata=meta).body == ""

    added = slack.command("add <@U2> alliance").text
    assert "every 14 days (default)" in added and "every 30 days" not in added
    met = slack.command("met <@U2> coffee").text
    assert "(every 14 days)" in met
    assert "(every 14 days)" in slack.command("add <@U2> alliance").text
    assert default_option(slack, fake_slack, "U2") == "Default (every 2 weeks)"
    # A cadence of the contact's own still wins over the member's default.
    assert "every 42 days" in slack.command("add <@U2> every 6 weeks").text
