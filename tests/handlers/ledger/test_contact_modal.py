"""The **contact** modal end to end: the ``open_contact_modal`` button opens it pre-filled with
the contact's placement, and a submission edits that same contact in place."""

from __future__ import annotations

from typing import Any

import pytest

from bot.ledger.people import OutsidePerson, SlackPerson
from bot.ledger.service import (
    ContactInfo,
    ContactUpdate,
    contact_card,
    record_favour,
    update_contact,
)
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Bond, InteractionKind, Level, Network
from tests.support.fake_slack import FakeSlack
from tests.support.modals import ANA, contact_values, element, opened_view, wait_for_calls
from tests.support.slack_requests import SlackDriver


@pytest.fixture
def maria(runtime: Runtime) -> ContactInfo:
    """Maria (U2), placed: strategic, above, alliance, every 2 weeks, met through Bob (U3)."""
    now = runtime.clock()
    with transaction(runtime.sessions) as session:
        record_favour(
            session,
            ANA,
            SlackPerson("U2", "Maria Lopez"),
            InteractionKind.FAVOUR_RECEIVED,
            "x",
            now,
        )
        update = ContactUpdate(
            networks=Network.STRATEGIC,
            level=Level.ABOVE,
            bond=Bond.ALLIANCE,
            cadence_days=14,
            notes="Likes early coffee",
            met_through=SlackPerson("U3", "Bob Chen"),
        )
        update_contact(session, ANA, SlackPerson("U2", "Maria Lopez"), update, now)
    return card_of(runtime, "U2")


def card_of(runtime: Runtime, key: str) -> ContactInfo:
    with transaction(runtime.sessions) as session:
        return contact_card(session, ANA, key, runtime.clock())


def open_contact(slack: SlackDriver, fake: FakeSlack, key: str) -> dict[str, Any]:
    reply = slack.action("open_contact_modal", value=key, extra={"channel": {"id": "C1"}})
    assert reply.status == 200
    return opened_view(fake, slack.last_trigger)


def test_the_button_opens_the_modal_prefilled(
    slack: SlackDriver, fake_slack: FakeSlack, maria: ContactInfo
) -> None:
    view = open_contact(slack, fake_slack, "U2")
    assert view["callback_id"] == "contact_modal"
    assert "Maria Lopez" in str(view["blocks"][0])
    assert [o["value"] for o in element(view, "networks")["initial_options"]] == ["strategic"]
    assert element(view, "level")["initial_option"]["value"] == "above"
    assert element(view, "bond")["initial_option"]["value"] == "alliance"
    assert element(view, "cadence")["initial_option"]["value"] == "14"
    assert element(view, "notes")["initial_value"] == "Likes early coffee"
    assert element(view, "met_user")["initial_user"] == "U3"
    assert "initial_value" not in element(view, "met_name")
    assert len(view["private_metadata"]) <= 3000


def test_submitting_edits_the_same_contact_in_place(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, maria: ContactInfo
) -> None:
    view = open_contact(slack, fake_slack, "U2")
    values = contact_values(
        networks=("operational", "developmental"),
        level="peer",
        bond="connection",
        cadence="90",
        notes="Moved to the platform team",
        met_name="Dana Lee (Acme)",
    )
    reply = slack.submit("contact_modal", values, private_metadata=view["private_metadata"])
    assert reply.status == 200 and reply.body == ""

    after = card_of(runtime, "U2")
    assert after.id == maria.id
    assert after.networks == Network.OPERATIONAL | Network.DEVELOPMENTAL
    assert (after.level, after.bond) == ("peer", "connection")
    assert after.cadence_days == 90
    assert after.notes == "Moved to the platform team"
    assert after.met_through == "Dana Lee (Acme)"
    who = slack.command("who <@U2>").text
    assert "operational, developmental" in who and "every 90 days" in who
    (notice,) = wait_for_calls(fake_slack, "chat.postEphemeral")
    assert notice["channel"] == "C1"
    assert "Saved <@U2>:" in notice["text"] and "every 3 months" in notice["text"]


def test_emptied_fields_clear_notes_networks_and_met_through(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, maria: ContactInfo
) -> None:
    view = open_contact(slack, fake_slack, "U2")
    reply = slack.submit(
        "contact_modal", contact_values(), private_metadata=view["private_metadata"]
    )
    assert reply.body == ""
    after = card_of(runtime, "U2")
    assert after.networks == 0
    assert after.notes is None
    assert after.met_through is None
    # Untouched choices that a form cannot unset stay as they were.
    assert (after.level, after.cadence_days) == ("above", 14)


def test_an_outside_contact_opens_and_saves_by_its_key(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    with transaction(runtime.sessions) as session:
        update_contact(
            session,
            ANA,
            OutsidePerson("Dana Lee", "Acme"),
            ContactUpdate(cadence_days=10),
            runtime.clock(),
        )
    view = open_contact(slack, fake_slack, "~dana lee")
    # A cadence that is not one of the usual choices is still shown as chosen.
    assert element(view, "cadence")["initial_option"]["text"]["text"] == "Every 10 days"
    values = contact_values(networks=("developmental",), level="below", cadence="10", met_user="U2")
    assert (
        slack.submit("contact_modal", values, private_metadata=view["private_metadata"]).body == ""
    )
    after = card_of(runtime, "~dana lee")
    assert after.networks == Network.DEVELOPMENTAL
    assert after.cadence_days == 10
    assert (after.met_through, after.met_through_user) == ("Maria Lopez", "U2")


def test_an_unknown_contact_is_explained(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    slack.action("open_contact_modal", value="U4", extra={"channel": {"id": "C1"}})
    assert fake_slack.calls_to("views.open") == []
    (notice,) = fake_slack.calls_to("chat.postEphemeral")
    assert "not in your network" in notice["text"]


INVALID = [
    pytest.param(
        dict(met_user="U3", met_name="Dana Lee"), "met_name", "keep just one", id="met-both"
    ),
    pytest.param(dict(met_user="U1"), "met_user", "That's you", id="met-self"),
    pytest.param(dict(met_user="U2"), "met_user", "through themselves", id="met-themselves"),
    pytest.param(dict(met_user="UBOTX"), "met_user", "is a bot", id="met-bot"),
    pytest.param(dict(met_user="UGONE"), "met_user", "deactivated", id="met-deactivated"),
    pytest.param(dict(notes="n" * 3001), "notes", "under 3000", id="long-notes"),
    pytest.param(dict(cadence="weekly"), "cadence", "from the list", id="cadence-text"),
    pytest.param(dict(cadence="9999"), "cadence", "cadence from 1 day", id="cadence-range"),
    pytest.param(dict(level="sideways"), "level", "level", id="level"),
    pytest.param(dict(bond="rival"), "bond", "alliance or connection", id="bond"),
    pytest.param(dict(networks=("social",)), "networks", "from the list", id="network"),
]


@pytest.mark.parametrize(("fields", "block", "message"), INVALID)
def test_invalid_input_comes_back_as_a_field_error_and_changes_nothing(
    fields: dict[str, Any],
    block: str,
    message: str,
    slack: SlackDriver,
    fake_slack: FakeSlack,
    runtime: Runtime,
    maria: ContactInfo,
) -> None:
    view = open_contact(slack, fake_slack, "U2")
    values = contact_values(**fields)
    reply = slack.submit("contact_modal", values, private_metadata=view["private_metadata"])
    assert reply.json["response_action"] == "errors"
    assert block in reply.json["errors"], reply.json
    assert message.casefold() in reply.json["errors"][block].casefold()
    assert card_of(runtime, "U2") == maria
    assert fake_slack.calls_to("chat.postEphemeral") == []


def test_a_contact_forgotten_while_the_modal_was_open(
    slack: SlackDriver, maria: ContactInfo
) -> None:
    metadata = '{"key":"U4","channel":"C1"}'
    reply = slack.submit("contact_modal", contact_values(), private_metadata=metadata)
    assert reply.json["response_action"] == "errors"
    assert "not in your network" in reply.json["errors"]["networks"]
