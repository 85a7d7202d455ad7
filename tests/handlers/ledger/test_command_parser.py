"""The ``/ally`` ledger parser: examples of what it reads, and properties over any text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.errors import AllyError, InvalidInput
from bot.ledger.people import MemberRef, OutsidePerson
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from handlers.commands import Command, command_text, dispatch, subcommands
from handlers.kit.blocks import MESSAGE_BLOCKS_MAX, Reply
from handlers.kit.mentions import Mention
from handlers.ledger import commands as lc
from storage.models import Bond, Level, Network
from tests.support.command_text import SUBCOMMAND_NAMES, any_text
from tests.support.fake_slack import FakeSlack

PARSERS: list[Callable[[str], Any]] = [
    lc.parse_thanks,
    lc.parse_gave,
    lc.parse_met,
    lc.parse_intro,
    lc.parse_introduced,
    lc.parse_add,
    lc.parse_who,
    lc.parse_network,
]


# -- examples ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["<@U2|maria> for the custom report", "<@U2> for the custom report", "<@U2> the custom report"],
)
def test_thanks_reads_escaped_mentions_and_drops_for(text: str) -> None:
    parsed = lc.parse_thanks(text)
    assert parsed.person == Mention("U2", "maria" if "|" in text else None)
    assert parsed.text == "the custom report"


@pytest.mark.parametrize("quote", ['"{}"', "“{}”", "„{}“"])
def test_outside_people_in_straight_or_curly_quotes(quote: str) -> None:
    parsed = lc.parse_gave(quote.format("Dana Lee (Acme)") + " a reference letter")
    assert parsed.person == OutsidePerson("Dana Lee", "Acme")
    assert parsed.text == "a reference letter"


def test_intro_takes_two_people_and_an_optional_note() -> None:
    parsed = lc.parse_intro('<@U2|maria> "Dana Lee (Acme)" at the offsite')
    assert parsed.first == Mention("U2", "maria")
    assert parsed.second == OutsidePerson("Dana Lee", "Acme")
    assert parsed.note == "at the offsite"
    assert lc.parse_introduced("<@U2> to <@U3>").note == ""


def test_intro_refuses_the_same_person_twice() -> None:
    with pytest.raises(InvalidInput, match="two different"):
        lc.parse_introduced("<@U2|a> <@U2|b>")
    with pytest.raises(InvalidInput, match="two different"):
        lc.parse_intro('"Dana Lee" "dana  LEE"')


def test_add_reads_every_option() -> None:
    parsed = lc.parse_add("<@U2> strategic, developmental above alliance every 3 weeks")
    assert parsed.networks == Network.STRATEGIC | Network.DEVELOPMENTAL
    assert (parsed.level, parsed.bond, parsed.cadence_days) == (Level.ABOVE, Bond.ALLIANCE, 21)
    assert lc.parse_add("<@U2> every week connection").cadence_days == 7
    assert lc.parse_add("<@U2> every 10 days").cadence_days == 10
    assert lc.parse_add("<@U2>").empty


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("every banana weeks", "every N days"),
        ("every 3", "every N days"),
        ("every", "every N days"),
        ("every 0 days", "cadence from 1 day"),
        ("every 9999 weeks", "cadence from 1 day"),
        ("above below", "one level"),
        ("alliance connection", "alliance or connection"),
        ("every 2 weeks every 3 days", "one cadence"),
        ("strategic purple", "don't know the option `purple`"),
    ],
)
def test_add_explains_garbled_options(options: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        lc.parse_add(f"<@U2> {options}")


def test_what_is_optional_for_a_catch_up() -> None:
    assert lc.parse_met("<@U2>").text == ""
    assert lc.parse_thanks("<@U2> for").text == ""  # the service says what is missing


def test_command_text_is_cleaned_once_before_any_parser() -> None:
    assert command_text("<@U2>\tfor the\x00 custom\n report ") == "<@U2> for the custom report"
    with pytest.raises(InvalidInput, match="4001 characters"):
        command_text("x" * 4001)


def test_missing_or_extra_people_are_explained() -> None:
    with pytest.raises(InvalidInput, match="@mention or in quotes"):
        lc.parse_thanks("maria for the report")
    with pytest.raises(InvalidInput, match="one person"):
        lc.parse_who("<@U2> <@U3>")
    with pytest.raises(InvalidInput, match="no options"):
        lc.parse_network("overdue please")


# -- properties -------------------------------------------------------------------------------


@settings(max_examples=400)
@given(text=any_text)
def test_every_parser_reads_any_text_or_explains(text: str) -> None:
    for parse in PARSERS:
        try:
            parse(command_text(text))
        except AllyError as error:
            assert error.message.strip()


@pytest.fixture
def dispatch_command(runtime: Runtime) -> Callable[[str], Reply | None]:
    client = web_client(runtime)
    table = subcommands()

    def run(text: str) -> Reply | None:
        command = Command(
            runtime=runtime,
            client=client,
            member=MemberRef("T1", "U1"),
            now=runtime.clock(),
            args=text,
            trigger_id="trig-1",
            channel_id="C1",
        )
        return dispatch(command, table)

    return run


def test_what_is_required_and_capped(dispatch_command: Callable[[str], Reply | None]) -> None:
    missing = dispatch_command("thanks <@U2> for")
    assert missing is not None and "Say what happened" in missing.text
    long = dispatch_command("gave <@U2> " + "x" * 1001)
    assert long is not None and "1001 characters" in long.text


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(SUBCOMMAND_NAMES), text=any_text)
@example(name="add", text="<@U2>")  # opens the contact form instead of replying
def test_any_text_for_any_subcommand_gets_a_reply_or_a_form(
    dispatch_command: Callable[[str], Reply | None], fake_slack: FakeSlack, name: str, text: str
) -> None:
    opened = len(fake_slack.calls_to("views.open"))
    # Exceptions are not caught here: anything but an AllyError would fail the test.
    reply = dispatch_command(f"{name} {text}")
    if reply is None:
        # Only a form may stand in for a reply (`/ally add @person` with no options opens one).
        assert len(fake_slack.calls_to("views.open")) == opened + 1
        return
    assert isinstance(reply, Reply)
    assert reply.text.strip()
    assert 0 < len(reply.blocks) <= MESSAGE_BLOCKS_MAX
