"""Home views for an empty, a small and a 2,000-contact network: valid Block Kit, <= 100 blocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.views import View

from bot.home.service import HomeData, assemble
from bot.ledger.network import TouchState
from bot.ledger.people import MemberRef
from handlers.home.views import VIEW_BLOCKS_MAX, home_view
from storage.models import InteractionKind, Member, Network
from storage.repository import ContactRow, LineRow

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
REF = MemberRef("T1", "U1")
LEVELS = ("above", "peer", "below")


def contact(i: int, **kw: Any) -> ContactRow:
    values: dict[str, Any] = {
        "id": i,
        "member_id": 1,
        "key": f"~person {i}",
        "slack_user_id": None,
        "name": f"Person {i:04d}",
        "organisation": None,
        "networks": 0,
        "level": None,
        "bond": None,
        "cadence_days": None,
        "met_through_id": None,
        "last_touch_at": None,
        "snoozed_until": None,
    }
    values.update(kw)
    return ContactRow(**values)


def data(
    contacts: list[ContactRow], lines: list[LineRow] | None = None, **member: object
) -> HomeData:
    balances: dict[int, int] = {}
    for line in lines or []:
        sign = 1 if line.kind in ("favour_given", "intro_made") else -1
        balances[line.contact_id] = balances.get(line.contact_id, 0) + sign
    owner = Member(focus=member.get("focus"), reaction_emoji=member.get("emoji", "pray"))
    return assemble(REF, owner, contacts, balances, lines or [], NOW)


def rendered(view: View) -> tuple[dict, str]:
    as_dict = view.to_dict()  # validates every block and text length
    assert len(as_dict["blocks"]) <= VIEW_BLOCKS_MAX
    return as_dict, json.dumps(as_dict, ensure_ascii=False)


def actions_in(as_dict: dict) -> set[str]:
    ids = set()
    for block in as_dict["blocks"]:
        for element in block.get("elements", []):
            if "action_id" in element:
                ids.add(element["action_id"])
        if "accessory" in block:
            ids.add(block["accessory"]["action_id"])
    return ids


def test_empty_network_invites_a_first_step_and_offers_every_action() -> None:
    as_dict, text = rendered(home_view(data([])))
    assert as_dict["type"] == "home"
    assert "0 people in your network" in text
    assert "Nobody here yet" in text
    # Each level of connections and each network, plainly missing.
    assert "*Connections*: 0 of the 6" in text
    assert text.count(":red_circle:") >= 6 and text.count(":red_circle: missing") == 3
    assert {
        "open_log_modal",
        "open_contact_modal",
        "home_log_catch_up",
        "show_questions",
        "nudge_settings",
    } <= actions_in(as_dict)
    assert "No focus of inquiry yet" in text


def small_network() -> tuple[list[ContactRow], list[LineRow]]:
    maria = contact(
        1,
        key="U2",
        slack_user_id="U2",
        name="Maria Lopez",
        networks=int(Network.STRATEGIC),
        level="above",
        bond="connection",
        last_touch_at=NOW - timedelta(days=100),
    )
    bob = contact(
        2,
        key="U3",
        slack_user_id="U3",
        name="Bob Chen",
        networks=int(Network.OPERATIONAL),
        level="peer",
        bond="alliance",
        last_touch_at=NOW - timedelta(days=27),
    )
    dana = contact(
        3,
        key="~dana lee",
        name="Dana Lee",
        organisation="Acme <Corp>",
        networks=int(Network.OPERATIONAL),
        level="peer",
        met_through_id=1,
        last_touch_at=NOW - timedelta(days=2),
    )
    lines = [
        LineRow(
            id=10,
            contact_id=1,
            kind=InteractionKind.FAVOUR_RECEIVED,
            what="Reviewed my *proposal*",
            occurred_at=NOW - timedelta(days=3),
        ),
        LineRow(
            id=11,
            contact_id=1,
            kind=InteractionKind.INTRO_RECEIVED,
            what="",
            related_contact_id=3,
            occurred_at=NOW - timedelta(days=2),
        ),
        LineRow(
            id=12,
            contact_id=2,
            kind=InteractionKind.FAVOUR_GIVEN,
            what="Covered the on-call",
            occurred_at=NOW - timedelta(days=5),
        ),
    ]
    return [maria, bob, dana], lines


def test_small_network_shows_grid_states_favours_and_this_weeks_person() -> None:
    contacts, lines = small_network()
    home = data(contacts, lines, focus="pricing", emoji="raised_hands")
    assert [c.touch.state for c in home.attention] == [TouchState.OVERDUE, TouchState.DUE_SOON]
    as_dict, text = rendered(home_view(home))
    assert "Focus of inquiry: *pricing*" in text
    # Connections (Maria above, Dana at your level) against 2-2-2; Bob, an alliance, apart.
    assert "*Connections*: 2 of the 6" in text
    assert ":large_yellow_circle: above you: 1" in text and ":red_circle: below you: 0" in text
    assert "*Alliances* (the people you deliver with): 1 person" in text
    assert "*Operational*  :muscle: strongest · 2 people" in text
    assert "*Strategic*  :seedling: needs work · 1 person" in text
    assert "*Developmental*  :red_circle: missing · 0 people" in text
    assert "no connection below you (aim for 2)" in text
    # Slack users are mentions (Slack shows their current name), outside people by name.
    assert "<@U2>: overdue by 10 days" in text  # 100 days, connection max 90
    assert "<@U3>: due soon (in 3 days)" in text
    # Maria: overdue, a connection above you, and she has helped you twice more; the rule
    # and the words are the weekly DM's (bot.nudges.weekly_person).
    assert "This week's person:* <@U2>" in text
    assert "It has been 100 days since you last talked." in text
    assert "Send <@U2> a two-line note today" in text  # the next step names her the same way
    assert "Reviewed my *proposal*" in text  # what members type is shown as they typed it
    assert "introduced you to Dana Lee (Acme &lt;Corp&gt;)" in text  # and escaped
    assert "Covered the on-call" in text
    assert (
        "received 1 more than you've given" in text
        and "*Give first:* <@U2> has helped you 2 times more" in text
    )
    assert "through <@U2>: Dana Lee (Acme &lt;Corp&gt;)" in text
    assert ":raised_hands:" in text
    assert {"home_log_catch_up", "show_questions", "open_contact_modal"} <= actions_in(as_dict)


def test_two_thousand_contacts_stay_within_limits_and_are_summarised() -> None:
    contacts = [
        contact(
            i,
            networks=[1, 2, 4, 3][i % 4],
            level=LEVELS[i % 3],
            bond=("alliance", "connection")[i % 2],
            last_touch_at=NOW - timedelta(days=i % 200),
            met_through_id=(i % 40) + 1 if i > 40 else None,
        )
        for i in range(1, 2001)
    ]
    lines = [
        LineRow(
            id=i,
            contact_id=i + 1,
            what=f"favour {i} " + "x" * 900,
            kind=(InteractionKind.FAVOUR_RECEIVED, InteractionKind.FAVOUR_GIVEN)[i % 2],
            occurred_at=NOW - timedelta(days=i),
        )
        for i in range(40)
    ]
    home = data(contacts, lines, focus="f" * 300)
    as_dict, text = rendered(home_view(home))
    assert "2,000 people in your network" in text
    hidden = len(home.attention) - 8
    assert hidden > 1000
    assert f"and {hidden:,} more to get back in touch with" in text
    assert "*Connections*: all 6 in place" in text
    assert "_and " in text  # favours and introducers summarised too
    assert len(as_dict["blocks"]) < 60
