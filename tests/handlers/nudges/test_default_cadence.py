"""The Settings form's default cadence per bond, through the real Bolt app: a contact without a
cadence of its own falls due on the member's default in the weekly DM, Home, ``/ally who`` and
``/ally people``; "Ally's default" puts Ally's back; anything else is a field error."""

from __future__ import annotations

from typing import Any

from bot.nudges.delivery import Delivery
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Member
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.modals import HOME, opened, settings_values
from tests.support.slack_requests import Reply, SlackDriver

HOME_OPENED = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}


def with_cadences(alliance: str | None, connection: str | None = "default") -> dict[str, Any]:
    values = settings_values(weekday="0", time="09:00", emoji=":pray:")
    for block, value in (("alliance", alliance), ("connection", connection)):
        option = {"value": value, "text": {"type": "plain_text", "text": value}} if value else None
        values[block] = {block: {"type": "static_select", "selected_option": option}}
    return values


def cadence_inputs(fake_slack: FakeSlack) -> dict[str, str]:
    view = opened(fake_slack)
    return {
        b["block_id"]: b["element"]["initial_option"]["value"]
        for b in view["blocks"]
        if b.get("block_id") in ("alliance", "connection")
    }


def defaults(runtime: Runtime) -> tuple[int | None, int | None]:
    with transaction(runtime.sessions) as session:
        m = session.query(Member).filter_by(user_id="U1").one()
        return m.alliance_cadence_days, m.connection_cadence_days


def stay_in_touch(slack: SlackDriver, fake_slack: FakeSlack) -> list[str]:
    """Home's Stay in touch lines (each has a Log a catch-up button)."""
    slack.event(HOME_OPENED)
    blocks = fake_slack.calls_to("views.publish")[-1]["view"]["blocks"]
    return [
        b["text"]["text"]
        for b in blocks
        if (b.get("accessory") or {}).get("action_id") == "home_log_catch_up"
    ]


def test_a_default_cadence_per_bond_decides_who_is_due_everywhere(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    assert slack.command("add <@U2> alliance").status == 200
    assert slack.command('add "Dana Lee (Acme)" alliance').status == 200
    slack.command("met <@U2> coffee")
    slack.command('met "Dana Lee (Acme)" lunch')
    slack.command('add "Dana Lee (Acme)" every 6 weeks')  # her own cadence wins
    slack.action("nudge_settings", extra=HOME)
    assert cadence_inputs(fake_slack) == {"alliance": "default", "connection": "default"}
    alliance = {
        b["block_id"]: b["element"] for b in opened(fake_slack)["blocks"] if b["type"] == "input"
    }["alliance"]
    assert alliance["options"][0]["text"]["text"] == "Ally's default (every 30 days)"
    meta = opened(fake_slack)["private_metadata"]

    def submit(alliance: str | None, connection: str | None = "default") -> Reply:
        values = with_cadences(alliance, connection)
        return slack.submit("settings_modal", values, private_metadata=meta)

    # Anything but the list's choices is a field error, and nothing is saved.
    for wrong in ("13", "abc", "700"):
        assert submit(wrong).json == {
            "response_action": "errors",
            "errors": {"alliance": "Pick a cadence from the list."},
        }
    assert submit("14", "9").json["errors"] == {"connection": "Pick a cadence from the list."}
    assert defaults(runtime) == (None, None)
    assert submit("14", "56").body == ""
    assert defaults(runtime) == (14, 56)
    slack.action("nudge_settings", extra=HOME)
    assert cadence_inputs(fake_slack) == {"alliance": "14", "connection": "56"}

    # Two weeks later Maria (an alliance with no cadence of her own) is due; Dana is not.
    clock.advance(days=14)
    assert Delivery(runtime, web_client(runtime)).run(clock.now).sent == 1
    [dm] = [m for m in fake_slack.messages["DU1"] if "weekly Ally nudge" in m["text"]]
    stay = [str(b) for b in dm["blocks"] if "Stay in touch" in str(b)]
    assert len(stay) == 1 and "<@U2>" in stay[0] and "; you aim for every 14 days." in stay[0]
    assert [line[line.index("<") :] for line in stay_in_touch(slack, fake_slack)] == [
        "<@U2>: due today · every 14 days"
    ]
    who = slack.command("who <@U2>").text
    assert "*due*" in who and "(every 14 days)" in who and "every 14 days (default)" in who
    assert "<@U2>" in slack.command("people due").text
    assert "Dana Lee" not in slack.command("people due").text

    # "Ally's default" clears it: 30 days for alliances again, so nobody is due.
    slack.action("nudge_settings", extra=HOME)
    assert submit("default", "default").body == ""
    assert defaults(runtime) == (None, None)
    assert stay_in_touch(slack, fake_slack) == []
    assert "*due*" not in slack.command("who <@U2>").text
    assert "<@U2>" not in slack.command("people due").text
