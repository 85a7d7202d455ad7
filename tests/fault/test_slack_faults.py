"""Slack failing a share of calls (rate limits, server errors, stalls) while members write, look
people up and export: every write is recorded exactly once, every reply is the normal one, and
every export reaches its member once."""

from __future__ import annotations

import json
from collections import Counter

from slack_bolt import App

from bot.home.service import entered_home
from bot.ledger.people import MemberRef
from bot.platform.runtime import Runtime
from storage.db import transaction
from tests.support.fake_slack import FakeSlack
from tests.support.flaky import FAULTS, Flaky
from tests.support.slack_requests import TEAM, SlackDriver
from tests.support.workload import ledger_in

MEMBERS = ("UF1", "UF2", "UF3", "UF4")
# The app waits 10 s for Slack; here the client gives up sooner, so a stall costs a second, not
# ten. The fake answers every other call in milliseconds, and holds a stalled one until the
# client's retry shows it gave up (tests/support/flaky.py), however slow the machine.
CLIENT_TIMEOUT = 1.0
SLACK_METHODS = (
    "users.info",
    "views.publish",
    "conversations.open",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
)


def test_members_lose_nothing_when_slack_fails_every_third_call(
    app: App, slack: SlackDriver, fake_slack: FakeSlack, app_db_url: str, runtime: Runtime
) -> None:
    app.client.timeout = CLIENT_TIMEOUT
    # Every member works with Home open, so each of their writes republishes it.
    with transaction(runtime.sessions) as session:
        for user in MEMBERS:
            entered_home(session, MemberRef(TEAM, user), runtime.clock())
    flaky = Flaky(fake_slack).wrap(SLACK_METHODS)
    expected: Counter[tuple[str, str, str]] = Counter()
    for user in MEMBERS:
        # Two people nobody has mentioned yet, so each first mention asks users.info.
        ally, mentee = f"{user}A", f"{user}B"
        fake_slack.add_user(user, f"Member {user}")  # whether the member is a guest is asked too
        fake_slack.add_user(ally, f"Ally of {user}")
        fake_slack.add_user(mentee, f"Mentee of {user}")

        reply = slack.command(f"thanks <@{ally}|a> for the launch plan", user=user)
        assert "Noted" in reply.text and "helped you" in reply.text, reply.text
        reply = slack.command(f"gave <@{mentee}|m> notes on the deck", user=user)
        assert "Noted: you helped" in reply.text, reply.text
        reply = slack.command(f"met <@{ally}|a> coffee", user=user)
        assert "Noted: a catch-up" in reply.text, reply.text
        reply = slack.submit(
            "home_catch_up_modal",
            {
                "who": {"who": {"type": "users_select", "selected_user": mentee}},
                "note": {"note": {"type": "plain_text_input", "value": "a walk"}},
            },
            user=user,
        )
        assert reply.json.get("response_action") == "update", reply.body
        assert "Logged a catch-up" in reply.text, reply.text
        reply = slack.command("export", user=user)
        assert "direct message from me in a moment" in reply.text, reply.text
        expected.update(
            {
                (user, "favour_received", ally): 1,
                (user, "favour_given", mentee): 1,
                (user, "catch_up", ally): 1,
                (user, "catch_up", mentee): 1,
            }
        )
    # Home republishes run after each reply, on Bolt's executor: let them finish.
    app.listener_runner.listener_executor.shutdown(wait=True)

    # The faults really happened, of every kind, on more than one kind of call.
    assert {fault for _, fault in flaky.faults} == set(FAULTS), flaky.faults
    assert len({method for method, _ in flaky.faults}) >= 3, flaky.faults
    assert flaky.unretried == []  # every stalled call was given up on and tried again

    by_contact, by_what = ledger_in(app_db_url)
    assert by_contact == expected  # nothing lost, nothing twice
    assert max(by_what.values()) == 1

    # Each member's export was completed once, with all four ledger lines in it.
    exports = Counter()
    for params in flaky.ok("files.completeUploadExternal"):
        for shared in json.loads(params["files"]):
            data = json.loads(fake_slack.uploads[shared["id"]])
            assert len(data["interactions"]) == 4, data
            exports[data["user_id"]] += 1
    assert exports == Counter(dict.fromkeys(MEMBERS, 1))
    # And each member's Home was published after their writes, despite the failures.
    published = Counter(params["user_id"] for params in flaky.ok("views.publish"))
    assert set(published) == set(MEMBERS), published
