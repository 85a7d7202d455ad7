"""``/ally`` and ``/ally help`` through the real Bolt app."""

from tests.fake_slack import FakeSlack
from tests.slack_requests import SlackDriver


def test_help_lists_the_actions(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    reply = slack.command("")
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "private" in reply.text
    assert "Record who helped you" in reply.text
    assert slack.command("help").json["blocks"] == reply.json["blocks"]


def test_unknown_subcommand_names_the_closest(slack: SlackDriver) -> None:
    reply = slack.command("hlep me")
    assert reply.status == 200
    assert "I don't know `/ally hlep`" in reply.text
    assert "/ally help" in reply.text
