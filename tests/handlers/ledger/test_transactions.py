"""How many transactions the ledger's busiest requests open before Slack has its answer: the
replay guard's and the service's unit of work, no more, once the person named is known."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bot.platform.runtime import Runtime
from tests.support.fake_slack import FakeSlack
from tests.support.modals import log_values, open_and_metadata
from tests.support.slack_requests import Reply, SlackDriver


@contextmanager
def begins(runtime: Runtime) -> Iterator[list[str]]:
    """Every transaction begun on the request's own thread while the block runs."""
    seen: list[str] = []
    thread = threading.get_ident()

    def on_begin(_connection: Any) -> None:
        if threading.get_ident() == thread:
            seen.append("BEGIN")

    event.listen(runtime.engine, "begin", on_begin)
    try:
        yield seen
    finally:
        event.remove(runtime.engine, "begin", on_begin)


def counted(runtime: Runtime, request: Callable[[], Reply]) -> int:
    with begins(runtime) as seen:
        reply = request()
    assert reply.status == 200
    return len(seen)


def test_thanks_and_who_take_two_transactions(slack: SlackDriver, runtime: Runtime) -> None:
    # The first mention of U2 asks Slack for their name, in a transaction of its own.
    assert counted(runtime, lambda: slack.command("thanks <@U2|maria> for the report")) == 3
    assert counted(runtime, lambda: slack.command("thanks <@U2|maria> for the review")) == 2
    assert counted(runtime, lambda: slack.command("who <@U2|maria>")) == 2
    assert counted(runtime, lambda: slack.command("gave <@U2> feedback")) == 2
    assert counted(runtime, lambda: slack.command("met <@U2> coffee")) == 2
    assert counted(runtime, lambda: slack.command('thanks "Dana Lee (Acme)" for a reference')) == 2


def test_a_saved_record_form_takes_two_transactions(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    metadata = open_and_metadata(slack, fake_slack)
    assert "review" in slack.command("thanks <@U2> for the review").text
    values = log_values(who_user="U2", what="the custom report")
    assert (
        counted(
            runtime, lambda: slack.submit("log_favour_modal", values, private_metadata=metadata)
        )
        == 2
    )
    assert "the custom report" in slack.command("who <@U2>").text


def test_project_commands_take_two_transactions(slack: SlackDriver, runtime: Runtime) -> None:
    assert (
        "new in your network" in slack.command("gave <@U2|maria> feedback").text
    )  # U2's name is cached
    assert counted(runtime, lambda: slack.command('project "Q3 launch" <@U2> "Dana Lee"')) == 2
    assert counted(runtime, lambda: slack.command("project")) == 2
    assert counted(runtime, lambda: slack.command('project done "Q3 launch"')) == 2


def test_link_takes_two_transactions_once_the_person_is_known(
    slack: SlackDriver, runtime: Runtime
) -> None:
    assert "new in your network" in slack.command("gave <@U3> feedback").text  # U3's name is cached
    assert "Pia" in slack.command('thanks "Pia Ek" for a tip').text
    assert counted(runtime, lambda: slack.command('link "Pia Ek" <@U3>')) == 2
    assert "a tip" in slack.command("who <@U3>").text  # Pia's history moved to U3


def test_catch_up_and_referrals_forms_take_two_transactions(
    slack: SlackDriver, runtime: Runtime
) -> None:
    assert (
        "new in your network" in slack.command("gave <@U3> feedback").text
    )  # U2 and U3's names are cached
    assert "new in your network" in slack.command("gave <@U2> feedback").text
    caught_up = {
        "who": {"who": {"type": "users_select", "selected_user": "U2"}},
        "outside": {"outside": {"type": "plain_text_input", "value": None}},
        "note": {"note": {"type": "plain_text_input", "value": "Coffee"}},
    }
    assert counted(runtime, lambda: slack.submit("home_catch_up_modal", caught_up)) == 2
    referred = {
        "people": {"people": {"type": "multi_users_select", "selected_users": ["U3"]}},
        "outside": {"outside": {"type": "plain_text_input", "value": "Dana Lee (Acme)"}},
    }
    assert (
        counted(runtime, lambda: slack.submit("referrals_modal", referred, private_metadata="U2"))
        == 2
    )
    assert "Dana Lee" in slack.command("who <@U2>").text
