"""A member never sees another member's data: not a colleague's in the same workspace (U2 in
T1), not their own in another workspace (U1 in T2). Through the real Bolt app."""

from __future__ import annotations

import pytest
from slack_bolt import App

from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Interaction
from tests.support.fake_slack import FakeSlack
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver


@pytest.fixture
def other_workspace(app: App, fake_slack: FakeSlack) -> SlackDriver:
    return SlackDriver(app, SECRET, team="T2", fake=fake_slack)


@pytest.fixture
def ana_logged(slack: SlackDriver, runtime: Runtime) -> str:
    """U1 in T1 logs favours, an intro and placements; returns the favour's interaction id."""
    slack.command("add <@U3> strategic above alliance")
    slack.command("thanks <@U3> for the secret project review")
    slack.command("intro <@U3> <@U4> confidential")
    slack.command('gave "Dana Lee (Acme)" a reference')
    with transaction(runtime.sessions) as session:
        return str(
            session.query(Interaction.id).filter(Interaction.kind == "favour_received").scalar()
        )


@pytest.mark.parametrize("viewer", ["U2 in T1", "U1 in T2"])
def test_who_and_network_show_only_your_own(
    slack: SlackDriver, other_workspace: SlackDriver, ana_logged: str, viewer: str
) -> None:
    driver, user = (slack, "U2") if viewer == "U2 in T1" else (other_workspace, "U1")
    for person in ("<@U3>", "<@U4>", '"Dana Lee (Acme)"'):
        reply = driver.command(f"who {person}", user=user)
        assert "You haven't logged anything with" in reply.text
        assert "secret" not in reply.text and "confidential" not in reply.text
    network = driver.command("network", user=user).text
    assert "0 people" in network and "Bob Chen" not in network
    assert "*Strategic*  :red_circle: missing · 0 people" in network
    # And the owner still sees it all.
    assert "secret project review" in slack.command("who <@U3>", user="U1").text
    assert "3 people" in slack.command("network", user="U1").text


@pytest.mark.parametrize("viewer", ["U2 in T1", "U1 in T2"])
def test_say_thanks_on_someone_elses_favour_is_refused(
    slack: SlackDriver,
    other_workspace: SlackDriver,
    fake_slack: FakeSlack,
    runtime: Runtime,
    ana_logged: str,
    viewer: str,
) -> None:
    driver, user = (slack, "U2") if viewer == "U2 in T1" else (other_workspace, "U1")
    hook = fake_slack.response_url("response_hook")
    driver.action("say_thanks", user=user, value=ana_logged, extra={"response_url": hook})
    assert fake_slack.calls_to("views.open") == []
    [answer] = fake_slack.calls_to("response_hook")
    assert "can't find that favour" in answer["text"]
    assert "secret" not in answer["text"]

    reply = driver.submit(
        "say_thanks_modal",
        {"message": {"message": {"type": "plain_text_input", "value": "Thanks!"}}},
        user=user,
        private_metadata=ana_logged,
    )
    assert reply.json["response_action"] == "errors"
    assert fake_slack.calls_to("chat.postMessage") == []
    with transaction(runtime.sessions) as session:
        favour = session.get(Interaction, int(ana_logged))
        assert favour is not None and favour.thanked_at is None
        assert session.query(Interaction).filter(Interaction.kind == "thanks").count() == 0


def test_same_person_logged_by_two_members_stays_separate(
    slack: SlackDriver, other_workspace: SlackDriver
) -> None:
    slack.command("thanks <@U3> for the review", user="U1")
    slack.command("gave <@U3> a hand", user="U2")
    other_workspace.command("met <@U3> coffee", user="U1")
    ana = slack.command("who <@U3>", user="U1").text
    maria = slack.command("who <@U3>", user="U2").text
    ana_t2 = other_workspace.command("who <@U3>", user="U1").text
    assert "the review" in ana and "a hand" not in ana and "coffee" not in ana
    assert "a hand" in maria and "the review" not in maria and "coffee" not in maria
    assert "coffee" in ana_t2 and "the review" not in ana_t2 and "a hand" not in ana_t2
