"""``/ally`` and ``/ally help`` through the real Bolt app."""

from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver


def test_help_lists_the_actions(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    reply = slack.command("")
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "private" in reply.text
    assert "Record who helped you" in reply.text
    for kind in (
        "Connections.csv",
        "Google",
        "Outlook",
        "Thunderbird",
        "Windows Live Mail",
        "vCard",
    ):
        assert kind in reply.text
    assert slack.command("help").json["blocks"] == reply.json["blocks"]


def test_unknown_subcommand_names_the_closest(slack: SlackDriver) -> None:
    reply = slack.command("hlep me")
    assert reply.status == 200
    assert "I don't know `/ally hlep`" in reply.text
    assert "/ally help" in reply.text


def test_help_and_home_explain_the_method(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    text = slack.command("help").text
    assert "*How it works*" in text
    for part in ("meet each within 30 days", "two above you", "One person a week", "Give first"):
        assert part in text
    for usage in ("/ally project", "/ally plan @person <day> [what]"):
        assert usage in text
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    home = str(fake_slack.calls_to("views.publish")[-1]["view"])
    assert "*The method:* one to three allies per project, met within 30 days" in home
    assert "one person a week with a plan · give first" in home
