"""Log a catch-up, then "who else should I talk to about <focus>?", end to end."""

from __future__ import annotations

import json

from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.ledger.service import history
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import InteractionKind
from storage.repository import get_or_create_member
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver
from tests.support.waiting import wait_for, wait_until_on_home

ANA = MemberRef("T1", "U1")


def set_focus(runtime: Runtime, clock: FrozenClock, focus: str) -> None:
    with transaction(runtime.sessions) as session:
        get_or_create_member(session, "", "T1", "U1", clock()).focus = focus


def referrals(users: list[str], outside: str = "") -> dict:
    return {
        "people": {"people": {"type": "multi_users_select", "selected_users": users}},
        "outside": {"outside": {"type": "plain_text_input", "value": outside or None}},
    }


def test_catch_up_then_referrals_become_introductions(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    set_focus(runtime, clock, "pricing strategy")
    slack.action("home_log_catch_up", extra={"view": {"id": "VHOME", "type": "home"}})
    wait_until_on_home(runtime, ANA)
    opened = fake_slack.calls_to("views.open")[-1]["view"]
    assert opened["callback_id"] == "home_catch_up_modal"
    reply = slack.submit(
        "home_catch_up_modal",
        {
            "who": {"who": {"type": "users_select", "selected_user": "U2"}},
            "outside": {"outside": {"type": "plain_text_input", "value": None}},
            "note": {"note": {"type": "plain_text_input", "value": "Coffee about Q3"}},
        },
    )
    assert reply.json["response_action"] == "update"
    view = reply.json["view"]
    assert view["callback_id"] == "referrals_modal"
    assert view["private_metadata"] == "U2"
    assert "Logged a catch-up with <@U2>" in reply.text
    assert "Who else should I talk to about pricing strategy?" in reply.text

    done = slack.submit(
        "referrals_modal", referrals(["U3", "U4"], "Dana Lee (Acme)\n\n"), private_metadata="U2"
    )
    assert done.json["response_action"] == "update"
    assert "Bob Chen, Kathy Ito, Dana Lee (Acme) as introduced by Maria Lopez" in done.text

    with transaction(runtime.sessions) as session:
        bob = history(session, ANA, SlackPerson("U3", "Bob Chen"), clock())
        dana = history(session, ANA, OutsidePerson("Dana Lee", "Acme"), clock())
        maria = history(session, ANA, SlackPerson("U2", "Maria Lopez"), clock())
    assert bob.contact.met_through == "Maria Lopez"
    assert dana.contact.met_through == "Maria Lopez"
    assert [line.kind for line in maria.catch_ups] == [InteractionKind.CATCH_UP]
    assert len(maria.intros) == 3
    assert all("pricing strategy" in line.what for line in maria.intros)

    def snowball_on_home() -> str | None:
        views = [json.dumps(c["view"]) for c in fake_slack.calls_to("views.publish")]
        hits = [v for v in views if "through <@U2>: <@U3>, Dana Lee (Acme), <@U4>" in v]
        return hits[-1] if hits else None

    assert wait_for(snowball_on_home)


def test_ask_referrals_button_opens_the_modal_for_that_contact(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    slack.command("react")  # Ana exists
    slack.submit(
        "home_catch_up_modal",
        {
            "who": {"who": {"type": "users_select", "selected_user": None}},
            "outside": {"outside": {"type": "plain_text_input", "value": "Dana Lee (Acme)"}},
            "note": {"note": {"type": "plain_text_input", "value": None}},
        },
    )
    slack.action("ask_referrals", value="~dana lee")
    view = fake_slack.calls_to("views.open")[-1]["view"]
    assert view["callback_id"] == "referrals_modal"
    assert view["private_metadata"] == "~dana lee"
    assert "Ask Dana Lee (Acme)" in json.dumps(view)
    assert "Who else should I talk to?" in json.dumps(view)  # no focus set


def test_bad_referrals_come_back_as_field_errors(slack: SlackDriver) -> None:
    slack.submit(
        "home_catch_up_modal",
        {
            "who": {"who": {"type": "users_select", "selected_user": "U2"}},
            "outside": {"outside": {"type": "plain_text_input", "value": None}},
            "note": {"note": {"type": "plain_text_input", "value": None}},
        },
    )
    cases = [
        (referrals([]), "people", "at least one"),
        (referrals(["UBOTX"]), "people", "is a bot"),
        (referrals(["U1"]), "people", "That's you"),
        (referrals(["U2"]), "people", "themselves"),
        (referrals(["U3"], "\n".join(f"Person {i}" for i in range(5))), "people", "Up to 5"),
        (referrals([], '"' + "x" * 300), "outside", "too long"),
    ]
    for values, field, message in cases:
        reply = slack.submit("referrals_modal", values, private_metadata="U2")
        assert reply.json["response_action"] == "errors", message
        assert message in reply.json["errors"][field]


def test_catch_up_needs_someone(slack: SlackDriver) -> None:
    reply = slack.submit(
        "home_catch_up_modal",
        {
            "who": {"who": {"type": "users_select", "selected_user": None}},
            "outside": {"outside": {"type": "plain_text_input", "value": None}},
            "note": {"note": {"type": "plain_text_input", "value": None}},
        },
    )
    assert reply.json == {
        "response_action": "errors",
        "errors": {"who": "Pick who you met, or type their name below."},
    }


def test_met_offers_to_ask_who_else_about_the_focus(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    slack.command("focus pricing strategy")
    reply = slack.command("met <@U2|maria> coffee about the launch")
    assert "Who else should I talk to about pricing strategy?" in reply.text
    [offer] = [
        element
        for block in reply.json["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "ask_referrals"
    ]
    assert offer["value"] == "U2"
    slack.action("ask_referrals", value="U2")
    assert fake_slack.calls_to("views.open")[-1]["view"]["callback_id"] == "referrals_modal"
