"""The modal builders, called directly: every view passes slack_sdk's own validation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from slack_sdk.errors import SlackObjectFormationError

from bot import ids
from bot.ledger.service import ContactInfo
from handlers.kit.forms import metadata
from handlers.ledger.modal_views import (
    METADATA_MAX,
    LogForm,
    cadence_text,
    contact_view,
    encode_metadata,
    log_favour_view,
)
from storage.models import LINK_MAX, NAME_MAX, NOTES_MAX, WHAT_MAX

NOW = datetime(2026, 11, 16, 10, tzinfo=UTC)


def info(**changes: object) -> ContactInfo:
    values: dict[str, object] = {"id": 1, "key": "U2", "name": "Maria Lopez", "slack_user_id": "U2"}
    values.update(dict.fromkeys(("organisation", "level", "bond", "cadence_days", "notes")))
    values.update(networks=0, met_through=None, last_touch_at=None, snoozed_until=None)
    values.update(changes)
    return ContactInfo(**values)  # type: ignore[arg-type]


def blocks_by_id(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def test_the_record_modal_is_valid_and_carries_its_metadata() -> None:
    form = LogForm(
        today=date(2026, 11, 16),
        tz="America/Argentina/ComodRivadavia",
        who_user="U2",
        what="w" * (WHAT_MAX + 50),
        link="https://acme.slack.com/archives/C1/p1?" + "x" * LINK_MAX,
        channel="C" + "9" * 20,
    )
    view = log_favour_view(form).to_dict()
    assert view["callback_id"] == ids.LOG_FAVOUR_MODAL
    assert len(view["private_metadata"]) <= METADATA_MAX
    assert metadata(view) == {
        "tz": form.tz,
        "link": form.link,
        "channel": form.channel,
    }
    fields = blocks_by_id(view)
    assert set(fields) == {
        "who_user",
        "who_name",
        "direction",
        "what",
        "with_user",
        "with_name",
        "when",
        "networks",
    }
    # Each input's action_id is its block_id, so field errors land under the right field.
    assert all(b["element"]["action_id"] == bid for bid, b in fields.items())
    assert len(fields["what"]["element"]["initial_value"]) == WHAT_MAX
    assert fields["what"]["element"]["max_length"] == WHAT_MAX
    assert fields["when"]["element"]["initial_date"] == "2026-11-16"
    assert fields["direction"]["element"]["initial_option"]["value"] == "helped_me"
    assert "initial_options" not in fields["networks"]["element"]
    assert "this message" in str(view["blocks"][-1])


def test_the_contact_modal_is_valid_with_every_value_at_its_limit() -> None:
    card = info(
        key="~" + "d" * NAME_MAX,
        name="D" * NAME_MAX,
        slack_user_id=None,
        organisation="A" * NAME_MAX,
        networks=7,
        level="below",
        bond="connection",
        cadence_days=10,
        notes="n" * NOTES_MAX,
        met_through="X" * NAME_MAX,
    )
    view = contact_view(card, channel="C1").to_dict()
    assert view["callback_id"] == ids.CONTACT_MODAL
    assert len(view["private_metadata"]) <= METADATA_MAX
    assert metadata(view)["key"] == card.key
    fields = blocks_by_id(view)
    assert [o["value"] for o in fields["networks"]["element"]["initial_options"]] == [
        "strategic",
        "operational",
        "developmental",
    ]
    assert fields["cadence"]["element"]["initial_option"]["value"] == "10"
    assert fields["notes"]["element"]["initial_value"] == "n" * NOTES_MAX
    assert fields["met_name"]["element"]["initial_value"] == "X" * NAME_MAX


def test_an_unplaced_contact_opens_with_nothing_chosen() -> None:
    view = contact_view(info()).to_dict()
    fields = blocks_by_id(view)
    # Slack cannot unpick a choice, so "nothing" is a choice of its own: Not set, Default.
    chosen = {b: fields[b]["element"]["initial_option"]["value"] for b in ("level", "bond")}
    assert chosen == {"level": "none", "bond": "none"}
    cadence = fields["cadence"]["element"]["initial_option"]
    assert (cadence["value"], cadence["text"]["text"]) == ("default", "Default (every 6 weeks)")
    assert "initial_options" not in fields["networks"]["element"]
    assert "initial_user" not in fields["met_user"]["element"]
    assert "Default: every 6 weeks" in str(fields["cadence"]["element"]["placeholder"])


def test_slack_sdk_refuses_metadata_over_the_limit() -> None:
    form = LogForm(today=date(2026, 11, 16), link="x" * (METADATA_MAX + 1))
    with pytest.raises(SlackObjectFormationError, match="private_metadata"):
        log_favour_view(form).to_dict()


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", None])
def test_unreadable_metadata_reads_as_empty(raw: str | None) -> None:
    assert metadata({"private_metadata": raw}) == {}


def test_metadata_leaves_out_empty_values() -> None:
    assert encode_metadata({"tz": "UTC", "link": None, "channel": ""}) == '{"tz":"UTC"}'


@pytest.mark.parametrize(
    ("days", "text"), [(14, "Every 2 weeks"), (28, "Every 4 weeks"), (10, "Every 10 days")]
)
def test_cadence_text(days: int, text: str) -> None:
    assert cadence_text(days) == text
